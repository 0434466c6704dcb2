// The storage drivers are optional peer dependencies: an app installs only
// the one its store needs. Each is loaded here, the first time a store of
// its kind is opened, never when the package is imported.
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import { ConfigError } from '../config/parse-config.js';

/**
 * The packages the stores load when they are opened: `better-sqlite3` (SQLite), `pg` (PostgreSQL).
 *
 * @example
 * ```ts
 * const driver: StoreDriverPackage = isPostgresUrl(location) ? 'pg' : 'better-sqlite3';
 * ```
 */
export type StoreDriverPackage = 'better-sqlite3' | 'pg';

const STORE_OF: Record<StoreDriverPackage, string> = { 'better-sqlite3': 'SQLite', pg: 'PostgreSQL' };

/**
 * The store's driver package is not installed: `better-sqlite3` for the
 * SQLite store, `pg` for the PostgreSQL store. They are optional peer
 * dependencies of `@pushprov/token-service`, so an app installs only the one
 * it uses. A `configuration_invalid` {@link ConfigError} whose one issue says
 * what to install; nothing was opened or written.
 *
 * @example
 * ```ts
 * try {
 *   openSqliteStore('tokens.db');
 * } catch (error) {
 *   if (error instanceof StoreDriverMissingError) console.error(`npm install ${error.packageName}`);
 * }
 * ```
 */
export class StoreDriverMissingError extends ConfigError {
  /** The package to install: `better-sqlite3` or `pg`. */
  readonly packageName: StoreDriverPackage;

  constructor(packageName: StoreDriverPackage, options?: { cause?: unknown }) {
    const issue = `The ${STORE_OF[packageName]} store needs the package ${packageName}, which is not installed: npm install ${packageName}`;
    super([issue], options);
    // Not "invalid configuration": the configuration may be right, a package is missing.
    this.message = issue;
    this.packageName = packageName;
  }
}

const requireHere = createRequire(import.meta.url);
const loaded = new Map<StoreDriverPackage, unknown>();

/** True when `error` says that `name` itself (not something it requires) cannot be found. */
const isMissing = (error: unknown, name: string): boolean => {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') && typeof message === 'string' && message.includes(`'${name}'`);
};

function loadDriver(name: StoreDriverPackage): unknown {
  if (loaded.has(name)) return loaded.get(name);
  let driver: unknown;
  try {
    driver = requireHere(name);
  } catch (error) {
    if (isMissing(error, name)) throw new StoreDriverMissingError(name, { cause: error });
    throw error;
  }
  loaded.set(name, driver);
  return driver;
}

/** better-sqlite3's `Database` constructor (loaded on first use). */
export const loadBetterSqlite3 = (): typeof BetterSqlite3 => loadDriver('better-sqlite3') as typeof BetterSqlite3;

/** node-postgres (loaded on first use). */
export const loadPg = (): typeof pg => loadDriver('pg') as typeof pg;
