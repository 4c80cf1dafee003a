export type StrataErrorCode =
  | 'E_MANIFEST_INVALID'
  | 'E_PATTERN_INVALID'
  | 'E_TAG_INVALID'
  | 'E_MANIFEST_LOAD'
  | 'E_PEER_MISSING'
  | 'E_CONFIG_INVALID'
  | 'E_STORE_UNAVAILABLE'
  | 'E_STORE_TIMEOUT'
  | 'E_CIRCUIT_OPEN'
  | 'E_ENTRY_CORRUPT'
  | 'E_KEY_INVALID'
  | 'E_MESSAGE_INVALID'
  | 'E_SW_OPTIONS'
  | 'E_SW_FAILED'
  | 'E_SW_TIMEOUT'
  | 'E_SW_UNAVAILABLE'
  | 'E_SW_REPLY'
  | 'E_BUS_UNAVAILABLE'
  | 'E_PURGE_FAILED'
  | 'E_ORIGIN_TIMEOUT'
  | 'E_STREAM_FAILED';

/** Every error Strata throws on purpose. `code` is stable; match on it, not on the message. */
export class StrataError extends Error {
  override name = 'StrataError';
  readonly code: StrataErrorCode;

  constructor(code: StrataErrorCode, message: string, options?: { cause?: unknown }) {
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
