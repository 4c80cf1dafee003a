import { parseTagTemplate } from '../tags.js';
import type { Manifest, Route } from '../types.js';
import { table } from './format.js';

/** A tag template as a regular expression over the tags it expands to: a param is one or more characters. */
const templateRegExp = (template: string): RegExp =>
  new RegExp(
    `^${parseTagTemplate(template)
      .map((part) => (typeof part === 'string' ? part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : '[^]+'))
      .join('')}$`,
  );

/** `user:{id}` and `user:{userId}` expand to the same tags: compared with their param names blanked. */
const shape = (template: string): string => template.replace(/\{[^{}]*\}/g, '{}');

/** Whether some tag `write` expands to can be a tag `read` expands to. */
const reaches = (write: string, read: string): boolean =>
  shape(write) === shape(read) || (!write.includes('{') && templateRegExp(read).test(write));

const UNSAFE = ['POST', 'PUT', 'PATCH', 'DELETE'];
const writeName = (route: Route) => `${route.methods.filter((m) => UNSAFE.includes(m)).join(',')} ${route.match}`;

interface TagEntry {
  template: string;
  carriedBy: string[];
  privateOnly: boolean;
  purgedBy: string[];
}

/** Every read tag template (by shape), the routes that carry it and the writes whose rules purge it. */
function tagEntries(manifest: Manifest): TagEntry[] {
  const entries = new Map<string, TagEntry>();
  for (const route of manifest.routes) {
    for (const template of route.policy.tags ?? []) {
      const entry = entries.get(shape(template)) ?? { template, carriedBy: [], privateOnly: true, purgedBy: [] };
      entry.carriedBy.push(route.match);
      if (route.policy.scope !== 'private') entry.privateOnly = false;
      entries.set(shape(template), entry);
    }
  }
  for (const route of manifest.routes) {
    for (const write of route.invalidates ?? []) {
      for (const entry of entries.values()) {
        if (reaches(write, entry.template) && !entry.purgedBy.includes(writeName(route))) {
          entry.purgedBy.push(writeName(route));
        }
      }
    }
  }
  return [...entries.values()];
}

/** What could be wrong with the write rules: nothing to purge, or nothing purging. */
function warnings(manifest: Manifest, entries: TagEntry[]): string[] {
  const out: string[] = [];
  for (const entry of entries) {
    if (entry.purgedBy.length === 0) {
      out.push(
        `tag '${entry.template}' (${entry.carriedBy.join(', ')}): no write rule purges it; only strata.purge() in code, the admin API or its TTL end it`,
      );
    }
  }
  for (const route of manifest.routes) {
    for (const write of route.invalidates ?? []) {
      const read = entries.filter((entry) => reaches(write, entry.template));
      if (read.length === 0) {
        out.push(
          `${writeName(route)} purges '${write}', which no route carries: a data-cache or query-cache entry may, or the rule is misspelt`,
        );
      } else if (read.every((entry) => entry.privateOnly)) {
        out.push(
          `${writeName(route)} purges '${write}', which only private routes carry: the write's event names no user, so it reaches the server cache and the writing tab's worker but no other browser; purge it with { partition } in code`,
        );
      }
    }
  }
  return out;
}

/** `strata check`'s tag section: per tag, the routes that carry it and the writes that purge it; then warnings. */
export function describeTags(manifest: Manifest): string {
  const entries = tagEntries(manifest);
  const writes = manifest.routes.filter((route) => (route.invalidates ?? []).length > 0);
  const out = ['', 'Tags (who carries each, which writes purge it):'];
  out.push(
    entries.length === 0
      ? '  (no route carries a tag)'
      : table(
          ['tag', 'carried by', 'purged by'],
          entries.map((e) => [e.template, e.carriedBy.join(' '), e.purgedBy.join('; ') || '-']),
        ),
  );
  if (writes.length > 0) {
    out.push('', 'Write rules (purged after a 2xx or 3xx answer, in one event with the written URL):');
    for (const route of writes) out.push(`  ${writeName(route)}: ${(route.invalidates ?? []).join(' ')}`);
  }
  const found = warnings(manifest, entries);
  if (found.length > 0)
    out.push('', `${found.length} warning${found.length === 1 ? '' : 's'}:`, ...found.map((w) => `  warning: ${w}`));
  return out.join('\n');
}
