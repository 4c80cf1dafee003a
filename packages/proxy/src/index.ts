export { type CliIo, type RunOptions, run } from './cli.js';
export type { ProxyConfig } from './config.js';
export { createProxy, type ProxyOptions, type StrataProxy } from './proxy.js';
