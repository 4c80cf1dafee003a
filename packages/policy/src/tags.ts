import { StrataError } from './errors.js';

/** Fastly: one surrogate key may be at most 1,024 bytes (docs/http-rules.md#tag-headers). */
export const TAG_MAX_BYTES = 1024;
/** Fastly's Surrogate-Key and Cloudflare's Cache-Tag: at most 16 KB of tags per response. */
export const TAG_HEADER_MAX_BYTES = 16_384;

// Printable ASCII without space (0x20) and comma: a tag must survive both the space-separated
// Surrogate-Key and the comma-separated Cache-Tag.
const TAG_CHARS = /^[\x21-\x2b\x2d-\x7e]+$/;
const utf8 = new TextEncoder();

/** Why `tag` is not a valid tag, or undefined when it is. */
export function tagProblem(tag: unknown): string | undefined {
  if (typeof tag !== 'string' || tag.length === 0) return 'a tag must be a non-empty string';
  if (!TAG_CHARS.test(tag)) return `tag '${tag}' may only hold printable ASCII without spaces or commas`;
  if (tag.length > TAG_MAX_BYTES) return `tag is ${tag.length} bytes; the CDN limit is ${TAG_MAX_BYTES}`;
  return undefined;
}

export function isValidTag(tag: unknown): tag is string {
  return tagProblem(tag) === undefined;
}

/** Throws `E_TAG_INVALID` unless `tag` is valid. For tags that arrive as input (purge requests). */
export function assertTag(tag: unknown): asserts tag is string {
  const problem = tagProblem(tag);
  if (problem) throw new StrataError('E_TAG_INVALID', problem);
}

/**
 * Encodes a param value for use inside a tag: characters a tag may not hold, and `%` itself, are
 * percent-encoded as UTF-8, so distinct values always give distinct tags.
 */
export function encodeTagValue(value: string): string {
  let out = '';
  for (const char of value) {
    const code = char.codePointAt(0) as number;
    if (code > 0x20 && code < 0x7f && char !== ',' && char !== '%') out += char;
    else for (const byte of utf8.encode(char)) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export type TemplatePart = string | { param: string };

/** Splits `user:{id}` into `['user:', { param: 'id' }]`; throws `E_TAG_INVALID` with the reason. */
export function parseTagTemplate(template: string): TemplatePart[] {
  const parts = splitTemplate(template);
  for (const part of parts) {
    if (typeof part !== 'string' && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(part.param)) {
      throw new StrataError('E_TAG_INVALID', `tag template '${template}': '{${part.param}}' is not a param name`);
    }
  }
  for (const part of parts) {
    if (typeof part !== 'string') continue;
    if (part.includes('{') || part.includes('}')) {
      throw new StrataError('E_TAG_INVALID', `tag template '${template}' has an unbalanced brace`);
    }
    const problem = tagProblem(part);
    if (problem) throw new StrataError('E_TAG_INVALID', `tag template '${template}': ${problem}`);
  }
  if (parts.length === 0) throw new StrataError('E_TAG_INVALID', 'a tag template must not be empty');
  return parts;
}

/**
 * The parts of a template `parseTagTemplate` accepts, without its checks: for the templates of a
 * validated manifest (see `splitPattern`).
 */
export function splitTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  const re = /\{([^{}]*)\}/g;
  let last = 0;
  for (let m = re.exec(template); m; m = re.exec(template)) {
    if (m.index > last) parts.push(template.slice(last, m.index));
    parts.push({ param: m[1] as string });
    last = m.index + m[0].length;
  }
  if (last < template.length) parts.push(template.slice(last));
  return parts;
}

/** The param names a tag template refers to. */
export function templateParams(template: string): string[] {
  return parseTagTemplate(template).flatMap((part) => (typeof part === 'string' ? [] : [part.param]));
}

/**
 * Expands a parsed template with decoded params. Returns undefined when the result is not a
 * valid tag (for example longer than the CDN limit): such a tag could not be purged anyway.
 */
export function expandTemplate(parts: TemplatePart[], params: Record<string, string>): string | undefined {
  let tag = '';
  for (const part of parts) tag += typeof part === 'string' ? part : encodeTagValue(params[part.param] ?? '');
  return isValidTag(tag) ? tag : undefined;
}

/** `expandTag('user:{id}', { id: '42' })` → `'user:42'`: the same tag `matchRoute` derives. */
export function expandTag(template: string, params: Record<string, string>): string {
  const tag = expandTemplate(parseTagTemplate(template), params);
  if (tag === undefined) throw new StrataError('E_TAG_INVALID', `tag '${template}' expands to an invalid tag`);
  return tag;
}

export interface TagHeaderValues {
  surrogateKey: string;
  cacheTag: string;
  /** Tags left out because a header would have crossed a CDN limit. */
  dropped: string[];
}

/**
 * Serializes tags for Surrogate-Key (space separated) and Cache-Tag (comma separated), keeping
 * each within TAG_HEADER_MAX_BYTES. Rather than let the CDN cut the header at an arbitrary point,
 * whole tags that do not fit are left out and reported, so the caller can shorten the CDN TTL.
 */
export function tagHeaderValues(tags: readonly string[]): TagHeaderValues {
  const kept: string[] = [];
  const dropped: string[] = [];
  let bytes = 0;
  for (const tag of new Set(tags)) {
    const cost = tag.length + (kept.length === 0 ? 0 : 1);
    if (!isValidTag(tag) || bytes + cost > TAG_HEADER_MAX_BYTES) {
      dropped.push(tag);
      continue;
    }
    kept.push(tag);
    bytes += cost;
  }
  return { surrogateKey: kept.join(' '), cacheTag: kept.join(','), dropped };
}
