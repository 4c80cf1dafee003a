import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isManifestError, isStrataError, type Manifest } from '@strata/policy';
import { memoryBus, memoryStore } from '@strata/server';
import { type ProxyConfig, proxyConfig, USAGE } from './config.js';
import { createProxy, type StrataProxy } from './proxy.js';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  io?: CliIo;
  /** Stops the proxy when aborted. Default: SIGINT or SIGTERM. */
  signal?: AbortSignal;
  /** Told the address once the proxy listens. */
  onListening?: (url: string) => void;
}

/** Loads the manifest and builds its worker (both through Vite, which runs a `.ts` manifest). */
async function prepare(config: ProxyConfig): Promise<{ manifest: Manifest; worker?: string }> {
  const { buildServiceWorker, loadManifest } = await import('@strata/sw/vite');
  const manifest = await loadManifest(config.manifest);
  if (config.serviceWorkerPath === false) return { manifest };
  const built = await buildServiceWorker({ manifest });
  return { manifest, worker: built.code };
}

async function start(config: ProxyConfig, manifest: Manifest, worker: string | undefined) {
  const shared = config.redisUrl ? await import('@strata/server/redis') : undefined;
  const proxy: StrataProxy = createProxy({
    manifest,
    upstream: config.upstream,
    upstreamTimeoutMs: config.upstreamTimeoutMs,
    store: shared ? shared.redisStore({ url: config.redisUrl as string, prefix: 'strata-proxy:' }) : memoryStore(),
    bus: shared ? shared.redisBus({ url: config.redisUrl as string, stream: 'strata-proxy:purges' }) : memoryBus(),
    trustForwarded: config.trustForwarded,
    respectOriginCacheControl: config.respectOriginCacheControl,
    ...(config.adminToken ? { adminToken: config.adminToken } : {}),
    ...(config.origin ? { origin: config.origin } : {}),
    ...(worker !== undefined && config.serviceWorkerPath
      ? { serviceWorker: worker, serviceWorkerPath: config.serviceWorkerPath }
      : {}),
  });
  const server: Server = createServer(proxy.listener);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, resolve);
    });
  } catch (error) {
    await proxy.close();
    throw error;
  }
  return { proxy, server };
}

function stopSignal(): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return controller.signal;
}

/**
 * Runs `strata proxy` with its arguments: resolves to the exit code once the proxy has stopped
 * (2 for bad flags, 1 for a manifest or listen failure, 0 after a stop signal).
 */
export async function run(argv: string[], options: RunOptions = {}): Promise<number> {
  const io = options.io ?? { out: console.log, err: console.error };
  let config: ProxyConfig | 'help';
  try {
    config = proxyConfig(argv, options.env ?? process.env);
  } catch (error) {
    io.err(`strata proxy: ${(error as Error).message.replaceAll('\n', '\nstrata proxy: ')}`);
    io.err('Run strata proxy --help for the options.');
    return 2;
  }
  if (config === 'help') {
    io.out(USAGE);
    return 0;
  }
  let running: Awaited<ReturnType<typeof start>>;
  try {
    const { manifest, worker } = await prepare(config);
    running = await start(config, manifest, worker);
  } catch (error) {
    if (isManifestError(error)) {
      io.err(`${config.manifest}: ${error.issues.length} issue${error.issues.length === 1 ? '' : 's'}`);
      for (const issue of error.issues) io.err(`  ${issue.path || '(root)'}: ${issue.message}`);
    } else io.err(`strata proxy: ${isStrataError(error) ? error.message : String(error)}`);
    return 1;
  }
  const { port } = running.server.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  io.out(`strata proxy listening on ${url}, in front of ${config.upstream}`);
  options.onListening?.(url);
  const signal = options.signal ?? stopSignal();
  if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  running.server.closeAllConnections();
  await new Promise((resolve) => running.server.close(resolve));
  await running.proxy.close();
  return 0;
}
