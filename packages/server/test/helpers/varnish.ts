import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exited, freePort, spawnService } from './services.js';

/** A `varnishd` this test file started itself, on loopback ports of its own. */
export interface VarnishServer {
  /** `http://127.0.0.1:<port>`: both the cache's address and the purge endpoint. */
  readonly url: string;
  readonly port: number;
  readonly adminPort: number;
  /** The VCL it runs. */
  readonly vcl: string;
  /** SIGTERM (SIGKILL after 5 s), then removes the work dir; safe to call twice. */
  stop(): Promise<void>;
}

export interface VarnishOptions {
  /** The origin Varnish fetches from. */
  backendPort: number;
  backendHost?: string;
  /** Longest wait for the first answer. Default 15 s. */
  readyTimeoutMs?: number;
  /**
   * The VCL to run, instead of `strataVcl`. It must answer `GET /.strata/varnish-ready` with a
   * 200 carrying `x-strata-varnish: <nonce>`.
   */
  vcl?: (backendHost: string, backendPort: number, nonce: string) => string;
}

const VARNISHD = process.env.VARNISHD_BIN ?? 'varnishd';
const POLL_MS = 20;
const READY_PATH = '/.strata/varnish-ready';

/**
 * The VCL the purger expects (see `varnishPurger`): objects carry their tags as `xkey` (copied
 * from the origin's `surrogate-key`), their TTL from `cdn-cache-control`/`surrogate-control`
 * max-age (RFC 9213); PURGE with `xkey-purge` purges by tag, PURGE without it purges the URL,
 * BAN drops everything; each purge reports its count in `xkey-purged`. `nonce` marks the
 * readiness answer, so the helper never mistakes another server on a recycled port for its own.
 */
export function strataVcl(backendHost: string, backendPort: number, nonce: string): string {
  return `vcl 4.1;
import xkey;
import purge;
import std;

backend origin {
  .host = "${backendHost}";
  .port = "${backendPort}";
}

acl purgers {
  "127.0.0.1";
  "::1";
}

sub vcl_recv {
  unset req.http.xkey-purged;
  if (req.url == "${READY_PATH}") {
    return (synth(200, "Ready"));
  }
  if (req.method == "PURGE" || req.method == "BAN") {
    if (client.ip !~ purgers) {
      return (synth(403, "Forbidden"));
    }
  }
  if (req.method == "BAN") {
    ban("obj.status != 0");
    return (synth(200, "Banned"));
  }
  if (req.method == "PURGE") {
    if (req.http.xkey-purge) {
      if (req.http.xkey-soft) {
        set req.http.xkey-purged = xkey.softpurge(req.http.xkey-purge);
      } else {
        set req.http.xkey-purged = xkey.purge(req.http.xkey-purge);
      }
      return (synth(200, "Purged"));
    }
    return (hash);
  }
}

sub strata_url_purge {
  if (req.http.xkey-soft) {
    set req.http.xkey-purged = purge.soft();
  } else {
    set req.http.xkey-purged = purge.hard();
  }
  return (synth(200, "Purged"));
}

sub vcl_hit {
  if (req.method == "PURGE") {
    call strata_url_purge;
  }
}

sub vcl_miss {
  if (req.method == "PURGE") {
    call strata_url_purge;
  }
}

sub vcl_backend_response {
  if (beresp.http.surrogate-key) {
    set beresp.http.xkey = beresp.http.surrogate-key;
  }
  if (beresp.http.cdn-cache-control ~ "(?i)(^|,)\\s*max-age=\\d+") {
    set beresp.ttl = std.duration(regsub(beresp.http.cdn-cache-control, "(?i)^(.*,)?\\s*max-age=(\\d+).*$", "\\2") + "s", 0s);
  } elsif (beresp.http.surrogate-control ~ "(?i)(^|,)\\s*max-age=\\d+") {
    set beresp.ttl = std.duration(regsub(beresp.http.surrogate-control, "(?i)^(.*,)?\\s*max-age=(\\d+).*$", "\\2") + "s", 0s);
  }
}

sub vcl_deliver {
  unset resp.http.xkey;
  if (obj.hits > 0 && obj.ttl < 0s) {
    set resp.http.x-cache = "STALE";
  } elsif (obj.hits > 0) {
    set resp.http.x-cache = "HIT";
  } else {
    set resp.http.x-cache = "MISS";
  }
}

sub vcl_synth {
  if (req.url == "${READY_PATH}") {
    set resp.http.x-strata-varnish = "${nonce}";
  }
  if (req.http.xkey-purged) {
    set resp.http.xkey-purged = req.http.xkey-purged;
    set resp.http.content-type = "text/plain; charset=utf-8";
    set resp.body = req.http.xkey-purged + " purged";
    return (deliver);
  }
}
`;
}

/** Whether this very varnishd answers: its readiness response carries our nonce. */
function ready(port: number, nonce: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: READY_PATH, timeout: 500 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 && res.headers['x-strata-varnish'] === nonce);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM'); // the manager stops its cache child, then exits
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited(child);
  clearTimeout(timer);
}

async function launch(dir: string, vclFile: string, nonce: string, deadlineMs: number) {
  const port = await freePort();
  const adminPort = await freePort();
  // -F: stay in the foreground, so the process we hold is the manager; -j none: no privilege
  // separation, so it runs the same as root (CI) or as a user; -n: a work dir of its own.
  const args = ['-F', '-j', 'none', '-n', join(dir, 'work'), '-f', vclFile, '-s', 'malloc,64m'];
  args.push('-a', `127.0.0.1:${port}`, '-T', `127.0.0.1:${adminPort}`);
  // SIGTERM if the worker exits first: the manager stops its cache child, then exits.
  const service = spawnService(VARNISHD, args, 'SIGTERM');
  const { child } = service;
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    service.assertRunning('varnishd', 'apt-get install -y varnish varnish-modules');
    if (await ready(port, nonce)) return { child, port, adminPort };
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  await terminate(child);
  throw new Error(`varnishd did not answer on port ${port} within ${deadlineMs} ms:\n${service.output()}`);
}

/** Starts a private varnishd (xkey VCL, 64 MB malloc storage) in front of a loopback origin. */
export async function startVarnish(options: VarnishOptions): Promise<VarnishServer> {
  const nonce = randomUUID();
  const vcl = (options.vcl ?? strataVcl)(options.backendHost ?? '127.0.0.1', options.backendPort, nonce);
  const dir = await mkdtemp(join(tmpdir(), 'strata-varnish-'));
  const vclFile = join(dir, 'strata.vcl');
  await writeFile(vclFile, vcl);
  let launched: Awaited<ReturnType<typeof launch>> | undefined;
  let lastError: unknown;
  // A free port can be taken between the probe and varnishd's bind: try a few.
  for (let attempt = 0; attempt < 3 && !launched; attempt++) {
    try {
      launched = await launch(dir, vclFile, nonce, options.readyTimeoutMs ?? 15_000);
    } catch (error) {
      lastError = error;
      // A missing binary, or a VCL that does not compile (no xkey vmod), will not get better.
      if (error instanceof Error && !/Could not get socket|Address already in use/i.test(error.message)) break;
    }
  }
  if (!launched) {
    await rm(dir, { recursive: true, force: true });
    throw lastError;
  }
  const { child, port, adminPort } = launched;
  let stopping: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    adminPort,
    vcl,
    stop() {
      stopping ??= (async () => {
        await terminate(child);
        await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
