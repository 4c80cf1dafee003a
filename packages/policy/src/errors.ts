/** The shape every code table has: what the code means, and the HTTP status where a server answers with it. */
type CodeTable = Record<string, { meaning: string; status?: number }>;

/** The codes @strata/policy throws. */
const POLICY_CODES = {
  E_MANIFEST_INVALID: { meaning: 'the manifest failed validation', status: 400 },
  E_PATTERN_INVALID: { meaning: 'a route pattern cannot be compiled', status: 400 },
  E_TAG_INVALID: { meaning: 'a tag is empty, too long or has characters a header cannot carry', status: 400 },
  E_MANIFEST_LOAD: { meaning: 'the CLI cannot load the manifest file' },
  E_PEER_MISSING: { meaning: 'an optional peer package the feature needs is not installed' },
  E_CONFIG_INVALID: { meaning: 'an option or environment variable is out of range', status: 400 },
} as const satisfies CodeTable;

/** The codes @strata/server throws. */
const SERVER_CODES = {
  E_STORE_UNAVAILABLE: { meaning: 'the store refused or lost the connection', status: 503 },
  E_STORE_TIMEOUT: { meaning: 'a store operation outlived its timeout', status: 503 },
  E_CIRCUIT_OPEN: { meaning: 'the store circuit is open after repeated failures', status: 503 },
  E_ENTRY_CORRUPT: { meaning: 'a stored entry cannot be decoded' },
  E_KEY_INVALID: { meaning: 'a data cache key is empty or too long', status: 400 },
  E_PURGE_INVALID: {
    meaning: 'a purge request has the wrong shape: not an object, nothing to purge, a list too long',
    status: 400,
  },
  E_URL_INVALID: { meaning: 'a purge key is not a path or an http(s) URL, or a path no cache may hold', status: 400 },
  E_TABLE_INVALID: { meaning: 'a table is not a name of the form `name` or `schema.name`', status: 400 },
  E_GLOB_INVALID: { meaning: 'a purge pattern is not a glob of 1 to 1024 characters', status: 400 },
  E_QUERY_INVALID: { meaning: 'a statement the query cache does not run that way (transaction control)', status: 400 },
  E_EVENT_INVALID: { meaning: 'a purge event has the wrong shape', status: 400 },
  E_BUS_ID_INVALID: { meaning: 'a purge log id is not of the form <ms>-<seq>', status: 400 },
  E_BUS_CLOSED: { meaning: 'the bus was used after close()' },
  E_BUS_UNAVAILABLE: { meaning: 'the purge log cannot be reached' },
  E_PURGE_FAILED: { meaning: 'a purge could not be published or sent to a CDN' },
  E_ORIGIN_TIMEOUT: { meaning: 'the origin did not answer in originTimeoutMs', status: 504 },
  E_WARM_JOB_EXISTS: { meaning: 'a warm job of that name is already registered' },
  E_WARM_JOB_UNKNOWN: { meaning: 'no warm job of that name is registered', status: 400 },
  E_CONNECTION_CLOSED: { meaning: 'the client connection closed before the response was complete' },
  E_ADAPTER_CHAIN: { meaning: "the framework's handler chain was asked to run twice for one request" },
  E_TRANSACTION_ROLLED_BACK: { meaning: 'PostgreSQL rolled the transaction back at COMMIT' },
  // @strata/proxy
  E_UPSTREAM_UNREACHABLE: { meaning: 'the proxy got no answer from its upstream (refused, reset, DNS)', status: 502 },
  E_UPSTREAM_TIMEOUT: { meaning: 'the upstream sent nothing for upstreamTimeoutMs', status: 504 },
} as const satisfies CodeTable;

/** The codes @strata/sw throws. */
const WORKER_CODES = {
  E_MESSAGE_INVALID: { meaning: 'a page↔worker message has the wrong shape', status: 400 },
  E_SW_OPTIONS: { meaning: 'installStrata was given invalid options' },
  E_SW_FAILED: { meaning: 'the worker failed to carry out a request' },
} as const satisfies CodeTable;

/** The codes @strata/client throws. */
const CLIENT_CODES = {
  E_SW_TIMEOUT: { meaning: 'the worker did not reply in time' },
  E_SW_UNAVAILABLE: { meaning: 'no service worker controls the page' },
  E_SW_REPLY: { meaning: 'the worker replied with something unexpected' },
  E_STREAM_FAILED: { meaning: 'the purge stream failed or ended' },
} as const satisfies CodeTable;

/**
 * Every code a `StrataError` carries: code → meaning → HTTP status where a server answers with it.
 * One table per throwing package above; the server's HTTP-only codes are in its own table
 * (`packages/server/src/errors.ts`).
 */
// A pure call, not an object spread: a bundle that never reads the table (the worker's) drops it.
export const STRATA_ERRORS: typeof POLICY_CODES & typeof SERVER_CODES & typeof WORKER_CODES & typeof CLIENT_CODES =
  /* @__PURE__ */ Object.assign({}, POLICY_CODES, SERVER_CODES, WORKER_CODES, CLIENT_CODES);

export type StrataErrorCode = keyof typeof STRATA_ERRORS;

/** Every error Strata throws on purpose. `code` is stable; match on it, not on the message. */
export class StrataError<Code extends string = StrataErrorCode> extends Error {
  override name = 'StrataError';
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** One thing wrong with a manifest, at a path such as `routes[2].policy.ttl`. */
export interface ManifestIssue {
  path: string;
  message: string;
}

/** A manifest that failed validation. `issues` lists every problem found, not only the first. */
export class ManifestError extends StrataError {
  override name = 'ManifestError';
  readonly issues: ManifestIssue[];

  constructor(issues: ManifestIssue[]) {
    const lines = issues.map((issue) => `  - ${issue.path || '(root)'}: ${issue.message}`);
    super(
      'E_MANIFEST_INVALID',
      `Invalid Strata manifest (${issues.length} issue${issues.length === 1 ? '' : 's'}):\n${lines.join('\n')}`,
    );
    this.issues = issues;
  }
}

// Type guards check `name` and `code`, not `instanceof`, so they work across realms
// (a page and its service worker each have their own copy of the classes).
export function isStrataError(value: unknown): value is StrataError {
  return (
    value instanceof Error &&
    typeof (value as { code?: unknown }).code === 'string' &&
    (value.name === 'StrataError' || value.name === 'ManifestError')
  );
}

export function isManifestError(value: unknown): value is ManifestError {
  return isStrataError(value) && value.name === 'ManifestError' && Array.isArray((value as ManifestError).issues);
}
