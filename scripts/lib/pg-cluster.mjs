// Throwaway PostgreSQL clusters for the tests, the demo and the benchmark.
//
//   const cluster = await startPgCluster();
//   const url = await cluster.createDatabase();   // a fresh, uniquely named database
//   …
//   await cluster.destroy();                      // stop and remove the temp folder
//
// A cluster is initdb'd into a temp folder and runs the system binaries (the
// newest /usr/lib/postgresql/*/bin, see scripts/ensure-postgres.mjs), listening
// on 127.0.0.1 only, on a free port, with its unix socket inside the temp
// folder. PostgreSQL refuses to run as root: as root every binary runs as the
// `postgres` user (`runuser -u postgres --`) on a folder that user owns.
//
// With TEST_DATABASE_URL set nothing is started: the object returned works on
// that server (createDatabase/dropDatabase/destroy), and stop/kill/start/restart
// throw. `{ local: true }` starts a cluster all the same (tests that kill and
// restart their own server).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, chownSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { findPgBinDir, hasPostgresUser, isRoot } from './system-packages.mjs';
import { freePort, isAlive, logTail, processesWorkingIn, sleep, waitForExit } from './processes.mjs';

/** @typedef {import('./pg-cluster.d.mts').PgClusterOptions} PgClusterOptions */
/** @typedef {import('./pg-cluster.d.mts').PgServer} PgServer */
/** @typedef {import('./pg-cluster.d.mts').LocalPgCluster} LocalPgCluster */
/** @typedef {import('./pg-cluster.d.mts').ExternalPgServer} ExternalPgServer */

const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const EXTERNAL_ONLY = 'not available with TEST_DATABASE_URL: the tests use that server and cannot stop, kill or start it (use startPgCluster({ local: true }) for a cluster of your own)';

/** Clusters of this process still running: stopped at exit if a caller forgot. */
/** @type {Set<{ pid: number | undefined, dir: string }>} */
const live = new Set();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const entry of live) {
      // Immediate shutdown: the postmaster takes its children down with it.
      if (isAlive(entry.pid)) {
        try {
          process.kill(/** @type {number} */ (entry.pid), 'SIGQUIT');
        } catch {
          // gone
        }
      }
      rmSync(entry.dir, { recursive: true, force: true, maxRetries: 2 });
    }
  });
}

/** @returns {string} `pushprov_<8 hex>_`, a prefix no other run picks */
function newPrefix() {
  return `pushprov_${randomBytes(4).toString('hex')}_`;
}

/**
 * @param {string} name
 * @returns {string} the name as a quoted SQL identifier
 */
function identifier(name) {
  if (!DATABASE_NAME.test(name)) throw new Error(`invalid database name ${JSON.stringify(name)}: letters, digits and _, at most 63, not starting with a digit`);
  return `"${name}"`;
}

/**
 * @param {string} adminUrl
 * @param {string} database
 * @returns {string} the same server and credentials, another database
 */
function databaseUrl(adminUrl, database) {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * Runs SQL statements on one fresh connection.
 * @param {string} url
 * @param {string[]} statements
 * @returns {Promise<pg.QueryResult[]>}
 */
async function runSql(url, statements) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {}); // a server that goes away mid-call rejects the query instead
  await client.connect();
  try {
    /** @type {pg.QueryResult[]} */
    const results = [];
    for (const sql of statements) results.push(await client.query(sql));
    return results;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * The database operations shared by local clusters and external servers.
 * @param {() => string} adminUrl
 * @param {string} databasePrefix
 */
function databaseOps(adminUrl, databasePrefix) {
  let counter = 0;
  return {
    /** @param {string} [name] */
    async createDatabase(name) {
      const db = name ?? `${databasePrefix}${Date.now().toString(36)}_${process.pid}_${++counter}`;
      await runSql(adminUrl(), [`CREATE DATABASE ${identifier(db)}`]);
      return databaseUrl(adminUrl(), db);
    },
    /** @param {string} name */
    async dropDatabase(name) {
      await runSql(adminUrl(), [`DROP DATABASE IF EXISTS ${identifier(name)} WITH (FORCE)`]);
    },
    /** Drops every database whose name starts with the prefix. */
    async dropPrefixedDatabases() {
      const [found] = await runSql(adminUrl(), [`SELECT datname FROM pg_database WHERE starts_with(datname, '${databasePrefix}')`]);
      for (const row of found?.rows ?? []) await runSql(adminUrl(), [`DROP DATABASE IF EXISTS ${identifier(row.datname)} WITH (FORCE)`]);
    },
  };
}

/**
 * An existing server (TEST_DATABASE_URL, or the run's cluster seen from a
 * test file): creates and drops databases on it, never starts or stops it.
 * @param {string} adminUrl a postgres:// URL of a role allowed to CREATE DATABASE
 * @param {{ databasePrefix?: string }} [options]
 * @returns {ExternalPgServer}
 */
export function connectPgServer(adminUrl, options = {}) {
  let url;
  try {
    url = new URL(adminUrl);
  } catch {
    throw new Error('connectPgServer: the admin URL must be a postgres:// URL (postgres://user:password@host:port/database)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new Error(`connectPgServer: not a postgres:// URL: ${url.protocol}`);
  const databasePrefix = options.databasePrefix ?? newPrefix();
  const ops = databaseOps(() => adminUrl, databasePrefix);
  const unavailable = async () => {
    throw new Error(EXTERNAL_ONLY);
  };
  return {
    external: true,
    adminUrl,
    host: url.hostname || '127.0.0.1',
    port: Number(url.port || 5432),
    dataDir: undefined,
    dir: undefined,
    logFile: undefined,
    pid: undefined,
    databasePrefix,
    createDatabase: ops.createDatabase,
    dropDatabase: ops.dropDatabase,
    stop: unavailable,
    kill: unavailable,
    start: unavailable,
    restart: unavailable,
    async destroy() {
      await ops.dropPrefixedDatabases();
    },
  };
}

/**
 * Starts a throwaway cluster, or (TEST_DATABASE_URL set, without `local`)
 * returns that server.
 * @param {PgClusterOptions} [options]
 * @returns {Promise<PgServer>}
 */
export async function startPgCluster(options = {}) {
  const external = process.env.TEST_DATABASE_URL;
  if (external && !options.local) return connectPgServer(external, options.databasePrefix ? { databasePrefix: options.databasePrefix } : {});
  return startLocalCluster(options);
}

/**
 * @param {PgClusterOptions} options
 * @returns {Promise<LocalPgCluster>}
 */
/** True when every folder from `/` down to `path` can be traversed by other users (mode o+x). */
function traversableByOthers(/** @type {string} */ path) {
  let current = realpathSync(path);
  for (;;) {
    if ((statSync(current).mode & 0o001) === 0) return false;
    const parent = dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

async function startLocalCluster(options) {
  const bin = findPgBinDir();
  if (!bin) throw new Error('startPgCluster: no PostgreSQL server binaries (initdb and postgres in /usr/lib/postgresql/*/bin or PUSHPROV_PG_BIN). Run `node scripts/ensure-postgres.mjs`, or set TEST_DATABASE_URL.');
  const asRoot = isRoot();
  if (asRoot && !hasPostgresUser()) throw new Error('startPgCluster: running as root, PostgreSQL must run as the `postgres` user, which does not exist (install Debian postgresql: `node scripts/ensure-postgres.mjs`).');
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;

  // The temp folder belongs to the user the server runs as (0700). As root,
  // that user must be able to reach it: a base folder whose ancestors it
  // cannot traverse (a 0700 TMPDIR of root's) is replaced by /tmp.
  const base = options.tmpDir ?? tmpdir();
  const dir = realpathSync(mkdtempSync(join(asRoot && !traversableByOthers(base) ? '/tmp' : base, 'pushprov-pg-')));
  const dataDir = join(dir, 'data');
  const socketDir = join(dir, 'socket');
  const logFile = join(dir, 'postgres.log');
  /** @type {{ uid: number, gid: number } | undefined} */
  let owner;
  if (asRoot) {
    owner = {
      uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
      gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
    };
  }
  const own = (/** @type {string} */ path) => {
    if (owner) chownSync(path, owner.uid, owner.gid);
  };
  chmodSync(dir, 0o700);
  own(dir);
  mkdirSync(socketDir, { mode: 0o700 });
  own(socketDir);
  writeFileSync(logFile, '');
  own(logFile);

  const entry = { pid: /** @type {number | undefined} */ (undefined), dir };
  live.add(entry);
  installExitHook();

  /**
   * Runs a PostgreSQL binary (as `postgres` when we are root).
   * @param {string} tool
   * @param {string[]} args
   * @param {number} timeoutMs
   * @returns {Promise<string>} its output
   */
  const run = (tool, args, timeoutMs) => {
    const file = asRoot ? 'runuser' : join(bin, tool);
    const argv = asRoot ? ['-u', 'postgres', '--', join(bin, tool), ...args] : args;
    return new Promise((resolve, reject) => {
      execFile(file, argv, { cwd: dir, timeout: timeoutMs, env: { ...process.env, LC_ALL: 'C', LANG: 'C' }, encoding: 'utf8' }, (error, stdout, stderr) => {
        if (error) {
          const output = `${stdout}${stderr}`.trim();
          reject(new Error(`${tool} ${args.join(' ')} failed (${error.code ?? error.signal ?? error.message})${output ? `:\n${output}` : ''}`));
        } else resolve(`${stdout}${stderr}`);
      });
    });
  };
  const fail = (/** @type {string} */ message) => {
    const tail = logTail(logFile);
    return new Error(`${message}${tail ? `\n--- server log (${logFile}), last lines ---\n${tail}` : ''}`);
  };

  let port = options.port ?? (await freePort());
  const adminUrl = () => `postgres://postgres@127.0.0.1:${port}/postgres`;
  const writeSettings = () => {
    // Our settings live in their own file, included from postgresql.conf.
    const settings = {
      listen_addresses: '127.0.0.1',
      port,
      unix_socket_directories: socketDir,
      max_connections: options.maxConnections ?? 200,
      // fsync stays on (the default): tests check that committed rows survive a crash.
      logging_collector: false,
      ...options.settings,
    };
    const lines = Object.entries(settings).map(([key, value]) => {
      if (!/^[a-z_.]+$/.test(key)) throw new Error(`startPgCluster: invalid setting name ${JSON.stringify(key)}`);
      const text = typeof value === 'string' ? `'${value.replaceAll("'", "''")}'` : typeof value === 'boolean' ? (value ? 'on' : 'off') : String(value);
      return `${key} = ${text}`;
    });
    const file = join(dataDir, 'pushprov.conf');
    writeFileSync(file, `# Written by scripts/lib/pg-cluster.mjs\n${lines.join('\n')}\n`);
    own(file);
  };

  const readPid = () => {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (!Number.isInteger(pid) || pid <= 0) throw fail('startPgCluster: postmaster.pid holds no PID');
    return pid;
  };

  /**
   * The running server: the postmaster is our child (through runuser as
   * root), so it is reaped when it exits. A server daemonized by pg_ctl would
   * be reparented to PID 1, and where PID 1 reaps no zombie its PID stays
   * "alive" and blocks the next start ("lock file postmaster.pid already exists").
   * @type {{ child: import('node:child_process').ChildProcess, done: boolean, exited: Promise<void> } | undefined}
   */
  let server;
  const launch = () => {
    const fd = openSync(logFile, 'a');
    const postgres = join(bin, 'postgres');
    const file = asRoot ? 'runuser' : postgres;
    const argv = [...(asRoot ? ['-u', 'postgres', '--', postgres] : []), '-D', dataDir];
    /** @type {(value?: undefined) => void} */
    let resolveExit = () => {};
    const exited = new Promise((resolve) => (resolveExit = resolve));
    const child = spawn(file, argv, { cwd: dir, stdio: ['ignore', fd, fd], env: { ...process.env, LC_ALL: 'C', LANG: 'C' } });
    closeSync(fd);
    const launched = { child, done: false, exited: /** @type {Promise<void>} */ (exited) };
    const onEnd = () => {
      launched.done = true;
      resolveExit();
    };
    child.once('exit', onEnd);
    child.once('error', (error) => {
      appendFileSync(logFile, `could not run ${file}: ${error.message}\n`);
      onEnd();
    });
    // A caller that forgets destroy() does not keep its process alive (the exit hook stops the server).
    child.unref();
    return launched;
  };

  const startServer = async () => {
    const deadline = Date.now() + startTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      const logBefore = logTail(logFile, 1_000_000).length;
      const launched = launch();
      server = launched;
      /** @type {unknown} */
      let last;
      let ready = false;
      while (!launched.done && Date.now() < deadline) {
        try {
          // Ours, not another server that took the port: it works in our data folder.
          const [result] = await runSql(adminUrl(), ['SHOW data_directory']);
          if (result?.rows[0]?.data_directory === dataDir) {
            ready = true;
            break;
          }
          last = new Error(`the server on 127.0.0.1:${port} is not ours (data_directory ${result?.rows[0]?.data_directory})`);
        } catch (error) {
          last = error;
        }
        await sleep(100);
      }
      if (ready) break;
      if (!launched.done) {
        launched.child.kill('SIGKILL');
        await killAll().catch(() => {});
        throw fail(`startPgCluster: PostgreSQL on 127.0.0.1:${port} accepted no connection within ${startTimeoutMs} ms (${last instanceof Error ? last.message : String(last)})`);
      }
      const newLog = logTail(logFile, 1_000_000).slice(logBefore);
      const portTaken = /could not bind|Address already in use|could not create any TCP\/IP sockets/i.test(newLog);
      const oldShmem = /pre-existing shared memory block|lock file "postmaster.pid" already exists/i.test(newLog);
      if (attempt < 5 && Date.now() < deadline && ((portTaken && options.port === undefined) || oldShmem)) {
        if (portTaken) {
          port = await freePort();
          writeSettings();
        } else await sleep(200);
        continue;
      }
      throw fail(`startPgCluster: PostgreSQL exited at start (exit ${launched.child.exitCode ?? launched.child.signalCode})`);
    }
    entry.pid = readPid();
  };

  try {
    await run('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'], 120_000);
    // Tests only: no passwords. Trust is granted over this cluster's own unix
    // socket folder (inside its 0700 temp folder) and TCP from 127.0.0.1 only;
    // the server listens on nothing else.
    writeFileSync(
      join(dataDir, 'pg_hba.conf'),
      '# Throwaway test cluster (scripts/lib/pg-cluster.mjs): trust, for tests only.\n' +
        'local all all trust\n' +
        'host  all all 127.0.0.1/32 trust\n',
    );
    appendFileSync(join(dataDir, 'postgresql.conf'), "\ninclude = 'pushprov.conf'\n");
    writeSettings();
    await startServer();
  } catch (error) {
    await killAll().catch(() => {});
    live.delete(entry);
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    throw error;
  }

  /** SIGKILL the postmaster, then whatever is left of the cluster, and wait until all are gone. */
  async function killAll() {
    const pids = new Set(processesWorkingIn(dataDir));
    if (entry.pid && isAlive(entry.pid)) {
      pids.add(entry.pid);
      process.kill(entry.pid, 'SIGKILL');
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (server && !server.done) await Promise.race([server.exited, sleep(10_000)]);
    if (!(await waitForExit([...pids], 10_000))) throw fail(`PostgreSQL processes ${[...pids].filter(isAlive).join(', ')} survived SIGKILL for 10 s`);
  }

  const databasePrefix = options.databasePrefix ?? newPrefix();
  const ops = databaseOps(adminUrl, databasePrefix);

  /** @type {LocalPgCluster} */
  const cluster = {
    external: false,
    get adminUrl() {
      return adminUrl();
    },
    host: '127.0.0.1',
    get port() {
      return port;
    },
    dataDir,
    dir,
    logFile,
    get pid() {
      return /** @type {number} */ (entry.pid);
    },
    databasePrefix,
    createDatabase: ops.createDatabase,
    dropDatabase: ops.dropDatabase,
    async stop() {
      const running = server;
      if (!running || running.done) return;
      // Fast shutdown: SIGINT to the postmaster (what `pg_ctl stop -m fast` sends).
      process.kill(entry.pid ?? /** @type {number} */ (running.child.pid), 'SIGINT');
      /** @type {NodeJS.Timeout | undefined} */
      let timer;
      const inTime = await Promise.race([running.exited.then(() => true), new Promise((resolve) => (timer = setTimeout(() => resolve(false), 30_000)))]);
      clearTimeout(timer);
      if (!inTime) {
        await killAll().catch(() => {});
        throw fail('PostgreSQL did not finish a fast shutdown within 30 s; it was killed');
      }
    },
    async kill() {
      await killAll();
    },
    async start() {
      if (server && !server.done) return;
      // A killed cluster's processes must all be gone before its shared memory is free.
      await waitForExit(processesWorkingIn(dataDir), 10_000);
      await startServer();
    },
    async restart() {
      await cluster.stop();
      await cluster.start();
    },
    async destroy() {
      try {
        await cluster.stop();
      } catch {
        // killed by stop() already; the folder goes all the same
      } finally {
        if (isAlive(entry.pid) || processesWorkingIn(dataDir).length > 0) await killAll().catch(() => {});
        live.delete(entry);
        rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      }
    },
  };
  return cluster;
}
