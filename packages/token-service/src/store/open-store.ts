import type { SqliteStoreOptions } from './sqlite/sqlite-store.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';
import type { TokenServiceStore } from './types.js';

/** True when `location` names a PostgreSQL database (`postgres://` or `postgresql://`) rather than a SQLite file. */
export const isPostgresUrl = (location: string): boolean => /^postgres(?:ql)?:\/\//i.test(location);

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  sqlite?: SqliteStoreOptions | undefined;
  /** PostgreSQL pool size. Default 10. */
  postgresPoolSize?: number | undefined;
  /** The connections' `application_name`. */
  applicationName?: string | undefined;
}

/**
 * Opens the store a location names: a `postgres://` URL opens the
 * PostgreSQL store (its driver is loaded only then; the schema must be
 * migrated: `token-service migrate`), anything else is a SQLite file path.
 *
 * @example
 * ```ts
 * const store = await openStore(process.env.TOKEN_SERVICE_STORE ?? 'token-service.db');
 * ```
 */
export async function openStore(location: string, options: OpenStoreOptions = {}): Promise<TokenServiceStore> {
  if (!isPostgresUrl(location)) return openSqliteStore(location, options.sqlite);
  const { openPostgresStore } = await import('./postgres/postgres-store.js');
  return openPostgresStore(location, {
    ...(options.postgresPoolSize === undefined ? {} : { max: options.postgresPoolSize }),
    ...(options.applicationName === undefined ? {} : { applicationName: options.applicationName }),
  });
}

/**
 * Brings the store a location names to the schema this code needs: runs the
 * PostgreSQL migrations (forward only), or opens and closes a SQLite file
 * (which migrates itself when opened). Returns the versions before and after.
 *
 * @example
 * ```ts
 * const { from, to } = await migrateStore('postgres://tokens@db.internal/tokens');
 * ```
 */
export async function migrateStore(location: string): Promise<{ from: number; to: number }> {
  if (isPostgresUrl(location)) {
    const { migratePostgres } = await import('./postgres/postgres-store.js');
    return migratePostgres(location);
  }
  const { readSqliteVersion } = await import('./sqlite/sqlite-store.js');
  const from = readSqliteVersion(location);
  const store = openSqliteStore(location);
  await store.close();
  return { from, to: readSqliteVersion(location) };
}
