// A real nginx load balancer in front of several local HTTP servers, for the
// tests, the demo and the benchmark.
//
//   const lb = await startBalancer({ upstreams: ['http://127.0.0.1:8001', '127.0.0.1:8002'] });
//   await fetch(`${lb.url}/v1/…`);     // answered by one upstream, named in X-Upstream
//   await lb.setUpstreams([...]);      // new config, SIGHUP, waits until applied
//   await lb.stop();                   // no nginx process left, temp folder removed
//
// nginx runs in the foreground (`daemon off`) on its own configuration in a
// temp folder (`-p DIR -c DIR/nginx.conf`): pid file, logs and temp paths all
// inside it; the system service and /etc/nginx are never used. Binary from
// scripts/ensure-nginx.mjs.
//
// Behaviour the tests rely on:
// - round robin over the upstreams, HTTP/1.1 with keepalive connections to
//   them (idle ones closed after 4 s, before Node's 5 s keepAliveTimeout, so
//   nginx never reuses a connection the upstream is closing);
// - `proxy_next_upstream error timeout` (nginx's default, made explicit): a
//   request that could not be sent (connection refused, connect timeout after
//   1 s) goes to the next upstream. A POST (non-idempotent) already sent to an
//   upstream that then dies is NOT retried: the client gets 502 (an upstream
//   that answers nothing: 504 after readTimeoutMs, 60 s by default). An upstream
//   that failed is left out for 2 s (max_fails=1 fail_timeout=2s); with none
//   left, 502.
// - request bodies up to 1 MiB, passed through unbuffered; X-Request-Id and
//   every other response header passed through unchanged; an `X-Upstream`
//   response header (`$upstream_addr`, e.g. `127.0.0.1:8001`, or several
//   comma-separated when nginx moved on) tells which instance answered.
// - access log `access.log` (with upstream address, status and X-Request-Id)
//   and `error.log` in the temp folder; read them before stop().
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNginx, isRoot } from './system-packages.mjs';
import { childrenOf, freePort, isAlive, logTail, sleep, waitForExit } from './processes.mjs';

/** @typedef {import('./nginx-balancer.d.mts').BalancerOptions} BalancerOptions */
/** @typedef {import('./nginx-balancer.d.mts').Balancer} Balancer */

const MARKER_PATH = '/__pushprov_balancer';

/** @type {Set<number>} masters of this process still running: stopped at exit if a caller forgot */
const live = new Set();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of live) {
      try {
        process.kill(pid, 'SIGTERM'); // fast shutdown: the master stops its workers
      } catch {
        // gone
      }
    }
  });
}

/**
 * 'http://127.0.0.1:8001', 'http://localhost:8001/' or '127.0.0.1:8001' → '127.0.0.1:8001'.
 * @param {string} upstream
 * @returns {string}
 */
function upstreamAddress(upstream) {
  let host;
  let port;
  if (upstream.includes('://')) {
    const url = new URL(upstream);
    if (url.protocol !== 'http:') throw new Error(`startBalancer: upstream ${upstream} must be http:// (nginx speaks plain HTTP/1.1 to the instances)`);
    if ((url.pathname !== '/' && url.pathname !== '') || url.search) throw new Error(`startBalancer: upstream ${upstream} must have no path or query`);
    host = url.hostname;
    port = url.port || '80';
  } else {
    const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d+)$/.exec(upstream);
    if (!match) throw new Error(`startBalancer: upstream ${JSON.stringify(upstream)} is neither http://host:port nor host:port`);
    host = /** @type {string} */ (match[1]);
    port = /** @type {string} */ (match[2]);
  }
  if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)$/.test(host)) throw new Error(`startBalancer: invalid upstream host ${JSON.stringify(host)}`);
  const portNumber = Number(port);
  if (!Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535) throw new Error(`startBalancer: invalid upstream port in ${upstream}`);
  return `${host}:${portNumber}`;
}

/** @returns {string} the group of the `nobody` workers: nogroup (Debian) or nobody */
function nobodyGroup() {
  try {
    const groups = readFileSync('/etc/group', 'utf8');
    if (/^nogroup:/m.test(groups)) return 'nogroup';
  } catch {
    // no /etc/group
  }
  return 'nobody';
}

/**
 * @param {{ dir: string, port: number, upstreams: string[], generation: number, workerConnections: number, readTimeoutMs: number }} c
 * @returns {string}
 */
function configText(c) {
  const q = (/** @type {string} */ path) => `"${path}"`;
  const servers = c.upstreams.map((address) => `    server ${address} max_fails=1 fail_timeout=2s;`).join('\n');
  return `# Written by scripts/lib/nginx-balancer.mjs (generation ${c.generation}); run with -p ${c.dir}
${isRoot() ? `user nobody ${nobodyGroup()};\n` : ''}worker_processes 1;
pid ${q(join(c.dir, 'nginx.pid'))};
error_log ${q(join(c.dir, 'error.log'))} notice;
worker_shutdown_timeout 5s;

events {
  worker_connections ${c.workerConnections};
}

http {
  log_format balancer '$remote_addr [$time_iso8601] "$request" $status $body_bytes_sent '
                      'upstream=$upstream_addr upstream_status=$upstream_status '
                      'rt=$request_time urt=$upstream_response_time rid=$sent_http_x_request_id';
  access_log ${q(join(c.dir, 'access.log'))} balancer;

  client_body_temp_path ${q(join(c.dir, 'temp', 'client_body'))};
  proxy_temp_path ${q(join(c.dir, 'temp', 'proxy'))};
  fastcgi_temp_path ${q(join(c.dir, 'temp', 'fastcgi'))};
  uwsgi_temp_path ${q(join(c.dir, 'temp', 'uwsgi'))};
  scgi_temp_path ${q(join(c.dir, 'temp', 'scgi'))};

  server_tokens off;
  keepalive_timeout 30s;
  client_max_body_size 1m;

  upstream pushprov_instances {
    # round robin (the default)
${servers}
    keepalive 32;
    keepalive_timeout 4s;
  }

  server {
    listen 127.0.0.1:${c.port};

    location = ${MARKER_PATH} {
      access_log off;
      default_type text/plain;
      return 200 "${c.generation}";
    }

    location / {
      proxy_pass http://pushprov_instances;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_request_buffering off;
      proxy_connect_timeout 1s;
      proxy_read_timeout ${c.readTimeoutMs}ms;
      proxy_send_timeout ${c.readTimeoutMs}ms;
      # Default, explicit: on a connection error or timeout, the next upstream;
      # a non-idempotent request (POST) already sent is never repeated (502).
      proxy_next_upstream error timeout;
      add_header X-Upstream $upstream_addr always;
    }
  }
}
`;
}

/**
 * GET the marker location on a fresh connection.
 * @param {number} port
 * @returns {Promise<string | undefined>} its body, or undefined when nginx does not answer
 */
function readMarker(port) {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: MARKER_PATH, agent: false, headers: { connection: 'close' }, timeout: 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve(res.statusCode === 200 ? body : undefined));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/**
 * Starts nginx balancing over the upstreams.
 * @param {BalancerOptions} options
 * @returns {Promise<Balancer>}
 */
export async function startBalancer(options) {
  const nginx = findNginx();
  if (!nginx) throw new Error('startBalancer: no nginx binary (/usr/sbin/nginx, /usr/bin/nginx or NGINX_PATH). Run `node scripts/ensure-nginx.mjs`.');
  let upstreams = validUpstreams(options.upstreams);
  const startTimeoutMs = options.startTimeoutMs ?? 15_000;
  const workerConnections = options.workerConnections ?? 4096;
  const readTimeoutMs = options.readTimeoutMs ?? 60_000;
  if (!Number.isInteger(readTimeoutMs) || readTimeoutMs < 1) throw new Error('startBalancer: readTimeoutMs must be a positive integer');

  const dir = realpathSync(mkdtempSync(join(options.tmpDir ?? tmpdir(), 'pushprov-nginx-')));
  // Workers run as `nobody` when we are root: they must reach the temp paths
  // (nginx creates and hands them over itself).
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'temp'));
  const configFile = join(dir, 'nginx.conf');
  const errorLog = join(dir, 'error.log');
  const accessLog = join(dir, 'access.log');
  let generation = 1;
  let port = options.port ?? (await freePort());

  const fail = (/** @type {string} */ message) => {
    const tail = logTail(errorLog);
    return new Error(`${message}${tail ? `\n--- nginx error log (${errorLog}), last lines ---\n${tail}` : ''}`);
  };
  const writeConfig = () => writeFileSync(configFile, configText({ dir, port, upstreams, generation, workerConnections, readTimeoutMs }));

  /** @type {import('node:child_process').ChildProcess | undefined} */
  let child;
  /** @type {Promise<void>} */
  let exited = Promise.resolve();
  installExitHook();

  for (let attempt = 1; ; attempt++) {
    writeConfig();
    const logStart = logTail(errorLog, 1_000_000).length;
    const proc = spawn(nginx, ['-p', dir, '-c', configFile, '-e', errorLog, '-g', 'daemon off;'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk) => (stderr += chunk));
    let gone = false;
    const exitedNow = new Promise((resolve) => proc.once('exit', () => resolve(undefined)));
    proc.once('exit', () => {
      gone = true;
    });
    proc.once('error', (error) => {
      gone = true;
      stderr += String(error);
    });
    if (proc.pid) live.add(proc.pid);
    const deadline = Date.now() + startTimeoutMs;
    let ready = false;
    while (!gone && Date.now() < deadline) {
      if ((await readMarker(port)) === String(generation)) {
        ready = true;
        break;
      }
      await sleep(50);
    }
    if (ready) {
      child = proc;
      exited = exitedNow.then(() => {
        if (proc.pid) live.delete(proc.pid);
      });
      break;
    }
    if (proc.pid) live.delete(proc.pid);
    if (!gone) {
      proc.kill('SIGKILL');
      await exitedNow;
      rmSync(dir, { recursive: true, force: true });
      throw fail(`startBalancer: nginx did not answer on 127.0.0.1:${port} within ${startTimeoutMs} ms`);
    }
    const newLog = logTail(errorLog, 1_000_000).slice(logStart) + stderr;
    if (attempt < 5 && options.port === undefined && /Address already in use/.test(newLog)) {
      port = await freePort();
      continue;
    }
    const error = fail(`startBalancer: nginx exited at start${stderr.trim() ? `: ${stderr.trim()}` : ''}`);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const proc = /** @type {import('node:child_process').ChildProcess} */ (child);
  const pid = /** @type {number} */ (proc.pid);

  let stopped = false;
  /** @type {Balancer} */
  const balancer = {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    pid,
    dir,
    accessLog,
    errorLog,
    get upstreams() {
      return [...upstreams];
    },
    async setUpstreams(list) {
      if (stopped || !isAlive(pid)) throw fail('setUpstreams: nginx is not running');
      const next = validUpstreams(list);
      const oldWorkers = childrenOf(pid);
      upstreams = next;
      generation += 1;
      writeConfig();
      process.kill(pid, 'SIGHUP');
      // Applied once a fresh connection is served by the new configuration…
      const deadline = Date.now() + 10_000;
      while ((await readMarker(port)) !== String(generation)) {
        if (!isAlive(pid)) throw fail('setUpstreams: nginx exited on reload');
        if (Date.now() >= deadline) throw fail(`setUpstreams: nginx did not apply the new configuration within 10 s (an invalid one keeps the old)`);
        await sleep(50);
      }
      // …and the old workers (no longer accepting) have finished their requests.
      await waitForExit(oldWorkers, 6_000);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      const workers = childrenOf(pid);
      if (isAlive(pid)) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => {
          for (const p of [pid, ...workers]) {
            try {
              process.kill(p, 'SIGKILL');
            } catch {
              // gone
            }
          }
        }, 5_000);
        await exited;
        clearTimeout(timer);
      }
      await waitForExit(workers, 5_000);
      for (const p of workers.filter(isAlive)) process.kill(p, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
  return balancer;
}

/**
 * @param {readonly string[]} list
 * @returns {string[]}
 */
function validUpstreams(list) {
  if (!Array.isArray(list) || list.length === 0) throw new Error('startBalancer: at least one upstream is needed');
  return list.map(upstreamAddress);
}

