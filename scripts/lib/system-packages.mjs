// Where the system PostgreSQL and nginx binaries are, and how to install them
// from Debian's packages (scripts/ensure-postgres.mjs, scripts/ensure-nginx.mjs).
// No dependencies: it runs before anything else is known to work.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** @returns {boolean} whether this process runs as root */
export function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

const PG_ROOT = '/usr/lib/postgresql';
const PG_TOOLS = ['initdb', 'postgres'];

/**
 * The newest `/usr/lib/postgresql/<major>/bin` that has initdb and postgres, or `PUSHPROV_PG_BIN` when set (then it must have them).
 * @returns {string | undefined}
 */
export function findPgBinDir() {
  const hasTools = (/** @type {string} */ dir) => PG_TOOLS.every((tool) => existsSync(join(dir, tool)));
  const override = process.env.PUSHPROV_PG_BIN;
  if (override) return hasTools(override) ? override : undefined;
  if (!existsSync(PG_ROOT)) return undefined;
  const majors = readdirSync(PG_ROOT)
    .filter((name) => /^\d+(\.\d+)?$/.test(name))
    .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  for (const major of majors) {
    const dir = join(PG_ROOT, major, 'bin');
    if (hasTools(dir)) return dir;
  }
  return undefined;
}

/**
 * The nginx binary: `NGINX_PATH` when set, else /usr/sbin/nginx or /usr/bin/nginx.
 * @returns {string | undefined}
 */
export function findNginx() {
  const candidates = [process.env.NGINX_PATH, '/usr/sbin/nginx', '/usr/bin/nginx'].filter((p) => typeof p === 'string' && p !== '');
  return /** @type {string[]} */ (candidates).find((p) => existsSync(p));
}

/** @returns {boolean} whether the `postgres` system user exists */
export function hasPostgresUser() {
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** @returns {boolean} whether Debian packages can be installed here (root with apt-get) */
export function canAptInstall() {
  return isRoot() && existsSync('/usr/bin/apt-get');
}

const POLICY_RC_D = '/usr/sbin/policy-rc.d';

/**
 * `apt-get update` then `apt-get install -y` of the packages, noninteractive,
 * with services kept from starting: a package such as postgresql or nginx
 * would otherwise start its system service (a cluster on 5432, a server on
 * port 80) which we never use. An existing /usr/sbin/policy-rc.d is left as
 * it is (Docker images ship one that denies every start); otherwise one that
 * denies starts (exit 101) is written for the install and removed afterwards.
 * @param {string[]} packages
 * @param {string} tag prefix of the progress line, e.g. 'ensure-postgres'
 */
export function aptInstall(packages, tag) {
  console.log(`[${tag}] installing Debian ${packages.join(', ')} (apt-get, services kept from starting)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const ownPolicy = !existsSync(POLICY_RC_D);
  if (ownPolicy) writeFileSync(POLICY_RC_D, '#!/bin/sh\n# written by pushprov for an apt-get install: no service starts\nexit 101\n', { mode: 0o755 });
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: 'inherit', env });
  } finally {
    if (ownPolicy) rmSync(POLICY_RC_D, { force: true });
  }
}
