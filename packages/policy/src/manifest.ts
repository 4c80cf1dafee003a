import { ManifestError } from './errors.js';
import {
  DEFAULT_CREDENTIAL_HEADERS,
  DEFAULT_MAX_UNPURGEABLE_AGE,
  DEFAULT_NEGATIVE_TTL,
  type HeaderOptions,
  headersFor,
} from './headers.js';
import { POLICY_KEYS, unknownKeyIssues } from './keys.js';
import { compileManifest, matchRoute } from './matcher.js';
import type { Manifest, ManifestInput, Method, Policy, RouteMatch } from './types.js';

const DEFAULT_METHODS: Method[] = ['GET', 'HEAD'];

function normalizePolicy(policy: Policy, defaults: ManifestInput['defaults']): Policy {
  const out: Record<string, unknown> = {};
  // A fixed key order and no undefined members: the manifest is plain, comparable data.
  for (const key of POLICY_KEYS) if (policy[key] !== undefined) out[key] = policy[key];
  const normalized = out as unknown as Policy;
  normalized.levels = [...new Set(policy.levels)].sort();
  if (policy.vary) normalized.vary = policy.vary.map((name) => name.toLowerCase());
  if (normalized.levels.length > 0 && !policy.mustRevalidate) {
    if (normalized.staleWhileRevalidate === undefined && defaults?.staleWhileRevalidate !== undefined) {
      normalized.staleWhileRevalidate = defaults.staleWhileRevalidate;
    }
    if (normalized.staleIfError === undefined && defaults?.staleIfError !== undefined) {
      normalized.staleIfError = defaults.staleIfError;
    }
  }
  return normalized;
}

/** Applies defaults and a canonical shape, without validating. `parseManifest` validates first. */
export function normalizeManifest(input: ManifestInput): Manifest {
  return {
    version: String(input.version),
    defaults: {
      maxUnpurgeableAge: input.defaults?.maxUnpurgeableAge ?? DEFAULT_MAX_UNPURGEABLE_AGE,
      credentialHeaders: [
        ...new Set((input.defaults?.credentialHeaders ?? DEFAULT_CREDENTIAL_HEADERS).map((h) => h.toLowerCase())),
      ],
      negativeTtl: input.defaults?.negativeTtl ?? DEFAULT_NEGATIVE_TTL,
    },
    routes: input.routes.map((route) => ({
      match: route.match,
      methods: route.methods ? [...new Set(route.methods.map((m) => m.toUpperCase() as Method))] : [...DEFAULT_METHODS],
      policy: normalizePolicy(route.policy, input.defaults),
      ...(route.invalidates ? { invalidates: [...new Set(route.invalidates)] } : {}),
    })),
  };
}

/**
 * Declares a manifest in code, with full types. It refuses keys no level knows (a ManifestError
 * with the messages `parseManifest` gives: a JavaScript manifest's `invalidate:` must not lose its
 * rule silently), normalizes and compiles the routes (a bad pattern or tag template throws a
 * StrataError here), but leaves the complete validation to `parseManifest`, which the server, the
 * CLI and the service-worker build run, so the schema library never reaches the service-worker bundle.
 */
export function defineManifest(input: ManifestInput): Manifest {
  const unknown = unknownKeyIssues(input);
  if (unknown.length > 0) throw new ManifestError(unknown);
  const manifest = normalizeManifest(input);
  compileManifest(manifest);
  return manifest;
}

/** The `headersFor` options a manifest's defaults set: the cap, the credential headers, the negative TTL. */
export function manifestHeaderOptions(
  manifest: Manifest,
): Required<Pick<HeaderOptions, 'maxUnpurgeableAge' | 'credentialHeaders' | 'negativeTtl'>> {
  const { maxUnpurgeableAge, credentialHeaders, negativeTtl } = manifest.defaults;
  // A manifest normalized before these defaults existed (JSON inlined by an older build) gets them here.
  return {
    maxUnpurgeableAge,
    credentialHeaders: credentialHeaders ?? DEFAULT_CREDENTIAL_HEADERS,
    negativeTtl: negativeTtl ?? DEFAULT_NEGATIVE_TTL,
  };
}

/** The route a request matches and the headers its response must carry (`status` default 200). */
export function headersForRequest(
  manifest: Manifest,
  url: string | URL,
  method: string = 'GET',
  status = 200,
): { match: RouteMatch; headers: Record<string, string> } | undefined {
  const match = matchRoute(manifest, url, method);
  if (!match) return undefined;
  const headers = headersFor(match.policy, { ...manifestHeaderOptions(manifest), tags: match.tags, status });
  return { match, headers };
}
