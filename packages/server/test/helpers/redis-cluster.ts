import { type ChildProcess, execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exited, freePort, rawExchange, spawnService } from './services.js';

/** A Redis Cluster of masters without replicas that this test file started itself, on loopback ports of its own. */
export interface RedisCluster {
  /** One entry per master, in start order: `redis://127.0.0.1:<port>`. */
  readonly urls: readonly string[];
  readonly ports: readonly number[];
  /** Kills every node and deletes their directory; safe to call twice. */
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  /** How many masters. Default 3 (the fewest `redis-cli --cluster create` accepts). */
  masters?: number;
  /** Longest wait for the nodes to answer and for the cluster to report `cluster_state:ok`. Default 20 s. */
  readyTimeoutMs?: number;
}

const REDIS_BIN = process.env.REDIS_SERVER_BIN ?? 'redis-server';
const REDIS_CLI = process.env.REDIS_CLI_BIN ?? 'redis-cli';
const POLL_MS = 20;

/**
 * Sends inline commands over a raw socket and resolves the concatenated bulk/simple replies, or
 * undefined on an error reply, a timeout or a refused connection. Enough for PING, INFO and
 * CLUSTER INFO; no client library, so no reconnection noise while a node is starting.
 */
function ask(port: number, commands: readonly string[]): Promise<string[] | undefined> {
  const request = commands.map((command) => `${command}\r\n`).join('');
  return rawExchange(port, request, (data) => {
    const replies: string[] = [];
    let rest = data;
    while (replies.length < commands.length) {
      const line = /^([+\-$])([^\r]*)\r\n/.exec(rest);
      if (!line) return undefined; // wait for more
      if (line[1] === '-') return { value: undefined }; // LOADING, CLUSTERDOWN…: not ready
      if (line[1] === '+') {
        replies.push(line[2] ?? '');
        rest = rest.slice(line[0].length);
        continue;
      }
      const length = Number(line[2]);
      const body = rest.slice(line[0].length);
      if (body.length < length + 2) return undefined;
      replies.push(body.slice(0, length));
      rest = body.slice(length + 2);
    }
    return { value: replies };
  });
}

/** Polls `check` every POLL_MS until it holds; throws `what` after the deadline. */
async function until(what: () => string, deadline: number, check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(what());
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Spawns one cluster-enabled node and waits until that very process answers PING, or fails with its output. */
async function launch(dir: string, index: number, deadline: number): Promise<{ child: ChildProcess; port: number }> {
  let lastError: unknown;
  // The free ports can be taken between the probe and redis's bind: try a few.
  for (let attempt = 0; attempt < 5; attempt++) {
    const [port, busPort] = [await freePort(), await freePort()];
    if (port === busPort) continue;
    // `--cluster-port`: the cluster bus would otherwise be port + 10000, which may be taken or above 65535.
    const args = [
      ...['--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1'],
      ...['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${index}.conf`)],
      ...['--save', '', '--appendonly', 'no', '--dir', dir],
    ];
    const service = spawnService(REDIS_BIN, args);
    const { child } = service;
    try {
      await until(
        () => `redis-server (cluster node ${index}) on port ${port} did not answer PING:\n${service.output()}`,
        deadline,
        async () => {
          service.assertRunning(`redis-server on port ${port}`);
          // PONG and our own process id: never somebody else's Redis on a recycled port.
          const replies = await ask(port, ['PING', 'INFO server']);
          return replies?.[0] === 'PONG' && /process_id:(\d+)/.exec(replies[1] ?? '')?.[1] === String(child.pid);
        },
      );
      return { child, port };
    } catch (error) {
      lastError = error;
      child.kill('SIGKILL');
      await exited(child);
      if (child.pid === undefined || Date.now() > deadline) break; // not spawned: it will not get better
    }
  }
  throw lastError;
}

function cli(args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(REDIS_CLI, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`redis-cli ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/**
 * Starts `masters` cluster-enabled redis-servers on free loopback ports (no persistence, their
 * node files in a fresh temporary directory), joins them with `redis-cli --cluster create`, and
 * resolves once every node reports `cluster_state:ok` and knows every node. The caller stops it;
 * `useRedisCluster()` does so in `afterAll`.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
  const dir = await mkdtemp(join(tmpdir(), 'strata-redis-cluster-'));
  const nodes: { child: ChildProcess; port: number }[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(
      nodes.map(async ({ child }) => {
        child.kill('SIGKILL');
        await exited(child);
      }),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    nodes.push(...(await Promise.all(Array.from({ length: masters }, (_, i) => launch(dir, i + 1, deadline)))));
    const ports = nodes.map((node) => node.port);
    const addresses = ports.map((port) => `127.0.0.1:${port}`);
    await cli(
      ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'],
      Math.max(1_000, deadline - Date.now()),
    );
    let last = '';
    await Promise.all(
      ports.map((port) =>
        until(
          () => `cluster node on port ${port} did not report cluster_state:ok:\n${last}`,
          deadline,
          async () => {
            const info = (await ask(port, ['CLUSTER INFO']))?.[0] ?? '';
            last = info;
            return (
              /cluster_state:ok/.test(info) &&
              /cluster_slots_ok:16384/.test(info) &&
              new RegExp(`cluster_known_nodes:${masters}\\b`).test(info)
            );
          },
        ),
      ),
    );
    return { urls: ports.map((port) => `redis://127.0.0.1:${port}`), ports, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
