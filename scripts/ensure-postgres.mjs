#!/usr/bin/env node
// Makes sure the PostgreSQL server binaries (initdb, postgres) exist
// for the tests' throwaway clusters (scripts/lib/pg-cluster.mjs). When they
// are missing and we are root on a Debian-like system, it installs Debian's
// postgresql without letting it start its system cluster (we never use it);
// otherwise it fails with a clear message rather than letting a test be
// skipped. With TEST_DATABASE_URL set the tests use that server instead, but
// the tests that kill and restart their own cluster still need the binaries.
import { aptInstall, canAptInstall, findPgBinDir, hasPostgresUser, isRoot } from './lib/system-packages.mjs';
import { existsSync } from 'node:fs';

function ready() {
  const bin = findPgBinDir();
  if (!bin) return false;
  // As root the binaries run as the `postgres` user through runuser.
  if (isRoot() && (!hasPostgresUser() || !existsSync('/usr/sbin/runuser'))) return false;
  return true;
}

if (ready()) process.exit(0);

if (canAptInstall()) {
  aptInstall(['postgresql', 'util-linux'], 'ensure-postgres');
  if (ready()) process.exit(0);
  console.error('[ensure-postgres] apt-get installed postgresql, yet no /usr/lib/postgresql/*/bin with initdb and postgres (or no `postgres` user, or no runuser) was found.');
  process.exit(1);
}
console.error(
  '[ensure-postgres] No PostgreSQL server binaries found (looked for initdb and postgres in the newest /usr/lib/postgresql/*/bin, or PUSHPROV_PG_BIN).\n' +
    'Install them (Debian: `sudo apt-get install postgresql`), or set PUSHPROV_PG_BIN to a folder holding them.' +
    (isRoot() ? '\nAs root, the `postgres` user and runuser (util-linux) are needed as well.' : ''),
);
process.exit(1);
