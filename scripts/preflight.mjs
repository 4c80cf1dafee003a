#!/usr/bin/env node
// Runs first in `npm test`: checks the system parts the suites start or reach, and when one is
// missing names it with the command that installs or starts it, then exits 1 before any suite
// runs. It installs and starts nothing itself (`.ci/run` does, on Debian). Plain Node, no deps.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';

const env = process.env;
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
const CHROMIUM_DEFAULT = '/usr/lib/chromium/chromium';
/** What the outside-in suite installs beside the packed packages (test/package). */
const USER_DEPENDENCIES = JSON.parse(
  readFileSync(new URL('../test/package/user-dependencies.json', import.meta.url), 'utf8'),
);

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const onPath = (name) => (env.PATH ?? '').split(delimiter).some((dir) => dir && executable(join(dir, name)));

/** The xkey vmod (tag purge), from varnish-modules: /usr/lib/<arch>/varnish/vmods or /usr/lib/varnish/vmods. */
function xkeyInstalled() {
  const file = 'varnish/vmods/libvmod_xkey.so';
  if (existsSync(join('/usr/lib', file))) return true;
  try {
    return readdirSync('/usr/lib').some((dir) => existsSync(join('/usr/lib', dir, file)));
  } catch {
    return false;
  }
}

/** The installed PostgreSQL versions (Debian's /etc/postgresql/<version>/main). */
function postgresVersions() {
  try {
    return readdirSync('/etc/postgresql').filter((version) => existsSync(join('/etc/postgresql', version, 'main')));
  } catch {
    return [];
  }
}

/**
 * Opens a PostgreSQL session as `url` names it (protocol 3.0 startup message, no password, no
 * TLS) and reads the first answer: an authentication request means the server is there and the
 * database exists; an error carries the server's message (SQLSTATE 3D000: no such database).
 */
function postgresAnswer(url) {
  return new Promise((resolve) => {
    const socket = connect({
      host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
      port: Number(url.port || 5432),
    });
    const done = (answer) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(5000, () => done({ reachable: false, message: 'no answer within 5 s' }));
    socket.once('error', (error) => done({ reachable: false, message: error.code ?? error.message }));
    socket.once('connect', () => {
      const params = {
        user: decodeURIComponent(url.username) || 'postgres',
        database: decodeURIComponent(url.pathname.slice(1)) || 'postgres',
      };
      const body = Buffer.from(`${Object.entries(params).flat().join('\0')}\0\0`);
      const header = Buffer.alloc(8);
      header.writeInt32BE(8 + body.length, 0);
      header.writeInt32BE(196608, 4); // protocol 3.0
      socket.write(Buffer.concat([header, body]));
    });
    // Messages: type byte, int32 length (itself included), body. Read until the session is ready
    // ('Z'), refused ('E'), or needs a password (an 'R' other than AuthenticationOk).
    let received = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      while (received.length >= 5 && received.length >= received.readInt32BE(1) + 1) {
        const type = String.fromCharCode(received[0]);
        const body = received.subarray(5, received.readInt32BE(1) + 1);
        received = received.subarray(body.length + 5);
        if (type === 'Z' || (type === 'R' && body.readInt32BE(0) !== 0)) return done({ reachable: true });
        if (type === 'E') {
          const fields = Object.fromEntries(
            body
              .toString()
              .split('\0')
              .filter(Boolean)
              .map((field) => [field[0], field.slice(1)]),
          );
          return done({ reachable: true, code: fields.C, message: fields.M });
        }
      }
    });
  });
}

async function registryReachable(registry) {
  try {
    const response = await fetch(new URL('-/ping', registry), { signal: AbortSignal.timeout(10_000) });
    return response.ok;
  } catch {
    return false;
  }
}

/** Whether the npm cache alone can install `specs` (metadata and tarballs). */
function cached(specs) {
  return spawnSync('npm', ['cache', 'add', '--offline', ...specs], { stdio: 'ignore' }).status === 0;
}

const missing = [];
const need = (what, ...fixes) => missing.push({ what, fixes });

if (!onPath('redis-server')) need('redis-server (not on PATH)', 'apt-get install -y redis-server');

if (!onPath('varnishd')) need('varnishd (not on PATH)', 'apt-get install -y varnish varnish-modules');
else if (!xkeyInstalled()) {
  need(
    'the Varnish xkey module (libvmod_xkey.so under /usr/lib/*/varnish/vmods)',
    'apt-get install -y varnish-modules',
  );
}

const chromium = env.CHROMIUM_PATH || CHROMIUM_DEFAULT;
if (!executable(chromium)) {
  need(
    `Chromium (no executable at ${chromium}${env.CHROMIUM_PATH ? ', from CHROMIUM_PATH' : ''})`,
    'apt-get install -y chromium',
    env.CHROMIUM_PATH ? `(or point CHROMIUM_PATH at a Chromium executable; unset, ${CHROMIUM_DEFAULT} is used)` : '',
  );
}

const database = new URL(env.DATABASE_URL || DEFAULT_DATABASE_URL);
const shown = `${database.protocol}//${database.host}${database.pathname}`; // no credentials
const answer = await postgresAnswer(database);
const local = ['127.0.0.1', 'localhost', '[::1]', ''].includes(database.hostname);
if (!answer.reachable) {
  const versions = postgresVersions();
  const version = versions[0] ?? '<version>';
  need(
    `PostgreSQL at ${shown}${env.DATABASE_URL ? ' (DATABASE_URL)' : ''}: ${answer.message}`,
    ...(!local
      ? [`start the PostgreSQL server at ${database.host}, or point DATABASE_URL at a reachable one`]
      : versions.length === 0
        ? ['apt-get install -y postgresql', `pg_ctlcluster --skip-systemctl-redirect ${version} main start`]
        : [`pg_ctlcluster --skip-systemctl-redirect ${version} main start`]),
  );
} else if (answer.code === '3D000') {
  need(`PostgreSQL at ${shown}: ${answer.message}`, `su postgres -c "createdb ${database.pathname.slice(1)}"`);
} else if (answer.code) {
  need(`PostgreSQL at ${shown}: ${answer.message}`, "check DATABASE_URL and the server's pg_hba.conf");
}

// The outside-in suite installs the packed packages with their dependencies and USER_DEPENDENCIES
// into a fresh app: from the registry, or from the npm cache alone when it holds them.
const registry = env.npm_config_registry || 'https://registry.npmjs.org/';
if (!(await registryReachable(registry)) && !cached(USER_DEPENDENCIES)) {
  need(
    `the npm registry (${registry} is unreachable and the npm cache lacks what the outside-in suite installs)`,
    `connect to ${registry}, or fill the cache while connected: npm cache add ${USER_DEPENDENCIES.join(' ')}`,
  );
}

if (missing.length > 0) {
  const lines = ['npm test needs parts this machine lacks; nothing ran. Missing:'];
  for (const { what, fixes } of missing) {
    lines.push(`  - ${what}`);
    for (const fix of fixes.filter(Boolean)) lines.push(`      ${fix}`);
  }
  lines.push('(.ci/run installs and starts all of them on Debian.)');
  process.stderr.write(`${lines.join('\n')}\n`);
  process.exit(1);
}
console.log(`preflight: redis-server, varnishd with xkey, Chromium (${chromium}), PostgreSQL at ${shown}, npm: ok`);
