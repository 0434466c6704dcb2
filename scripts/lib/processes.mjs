// Small process and port helpers shared by pg-cluster.mjs and nginx-balancer.mjs.
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';

/** @param {number} ms */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Whether a process runs (a zombie does not count: a daemon reparented to a
 * PID 1 that never reaps stays a zombie forever).
 * @param {number | undefined} pid
 * @returns {boolean}
 */
export function isAlive(pid) {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but is not ours to signal.
    if (/** @type {NodeJS.ErrnoException} */ (error).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    // No /proc (not Linux) or the process just went: trust kill(0) above.
    return existsSync('/proc') ? false : true;
  }
}

/**
 * Waits until none of the processes runs.
 * @param {number[]} pids
 * @param {number} timeoutMs
 * @returns {Promise<boolean>} false when some still ran at the deadline
 */
export async function waitForExit(pids, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!pids.some(isAlive)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(20);
  }
}

/**
 * PIDs of the running processes whose working directory is `dir` (every
 * PostgreSQL process of a cluster works in its data folder). Linux only;
 * elsewhere an empty list.
 * @param {string} dir an absolute, resolved path
 * @returns {number[]}
 */
export function processesWorkingIn(dir) {
  /** @type {number[]} */
  const found = [];
  let entries;
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/cwd`) === dir && isAlive(Number(name))) found.push(Number(name));
    } catch {
      // gone, or not ours to look at
    }
  }
  return found;
}

/**
 * PIDs of the running children of a process (Linux only; elsewhere empty).
 * @param {number} parent
 * @returns {number[]}
 */
export function childrenOf(parent) {
  /** @type {number[]} */
  const found = [];
  let entries;
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === parent && fields[0] !== 'Z') found.push(Number(name));
    } catch {
      // gone
    }
  }
  return found;
}

/**
 * A TCP port free on 127.0.0.1 right now (the OS picks it). Another process
 * may take it before we bind it: callers retry on "address in use".
 * @returns {Promise<number>}
 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not get a free port'))));
    });
  });
}

/**
 * The last lines of a log file, for error messages ('' when unreadable).
 * @param {string} file
 * @param {number} [lines]
 * @returns {string}
 */
export function logTail(file, lines = 30) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
