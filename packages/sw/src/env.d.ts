// The service-worker build replaces `process.env.NODE_ENV` (docs/environment.md#service-worker-build),
// so code behind `process.env.NODE_ENV !== 'production'` is dropped from production bundles. The
// worker has no Node types; this is the one name it needs from them.
declare const process: { env: { NODE_ENV?: string } };
