export {
  isManifestError,
  isStrataError,
  ManifestError,
  type ManifestIssue,
  STRATA_ERRORS,
  StrataError,
  type StrataErrorCode,
} from './errors.js';
export {
  DEFAULT_CREDENTIAL_HEADERS,
  DEFAULT_MAX_UNPURGEABLE_AGE,
  DEFAULT_NEGATIVE_TTL,
  type HeaderOptions,
  headersFor,
  negativeBound,
  varyNamesFor,
} from './headers.js';
export { defineManifest, headersForRequest, manifestHeaderOptions, normalizeManifest } from './manifest.js';
export { compileManifest, matchRoute } from './matcher.js';
export { PARTITION_HEADER, partitionHash, sha256Hex } from './partition-header.js';
export { canonicalPath } from './path.js';
export { type Pattern, parsePattern } from './pattern.js';
export { browserCache, cdnCache, fullCache, levelTtl, noStore, serverCache, storesAt } from './presets.js';
export { STALE_IF_ERROR_STATUSES, servesStaleOnError } from './stale-if-error.js';
export {
  assertTag,
  encodeTagValue,
  expandTag,
  isValidTag,
  TAG_HEADER_MAX_BYTES,
  TAG_MAX_BYTES,
  tagHeaderValues,
  tagProblem,
} from './tags.js';
export type {
  Level,
  Manifest,
  ManifestDefaults,
  ManifestInput,
  Method,
  Policy,
  PolicyOptions,
  Route,
  RouteInput,
  RouteMatch,
} from './types.js';
export { CACHEABLE_METHODS, LEVELS, METHODS } from './types.js';
export { boundWindows, type WindowBounds, type Windows, windowsFor } from './windows.js';
