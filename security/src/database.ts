/**
 * Reads a token service SQLite database from outside: through a separate,
 * read-only better-sqlite3 connection (never the store under test), and as
 * raw bytes (database, WAL and shared-memory files).
 */
import { existsSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';

function openReadOnly(dbPath: string): Database.Database {
  return new Database(dbPath, { readonly: true, fileMustExist: true });
}

/** The names of every table in the database (schema tables of SQLite itself excluded). */
export function listTables(dbPath: string): string[] {
  const db = openReadOnly(dbPath);
  try {
    return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map(
      (r) => r.name,
    );
  } finally {
    db.close();
  }
}

/**
 * The row count of every table, found from `sqlite_master` (not a fixed
 * list, so a table added later is counted too).
 *
 * @example
 * ```ts
 * const before = countRows(dbPath);
 * await refusedRequest();
 * expect(countRows(dbPath)).toEqual(before);
 * ```
 */
export function countRows(dbPath: string): Record<string, number> {
  const db = openReadOnly(dbPath);
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[];
    const counts: Record<string, number> = {};
    for (const { name } of tables) counts[name] = (db.prepare(`SELECT count(*) AS n FROM "${name.replaceAll('"', '""')}"`).get() as { n: number }).n;
    return counts;
  } finally {
    db.close();
  }
}

/** One stored value: its table, column, and text (blobs as Latin-1 and hex). */
export interface StoredValue {
  table: string;
  column: string;
  text: string;
}

/** Every value of every column of every table, as text. */
export function readAllValues(dbPath: string): StoredValue[] {
  const db = openReadOnly(dbPath);
  try {
    const out: StoredValue[] = [];
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[];
    for (const { name } of tables) {
      for (const row of db.prepare(`SELECT * FROM "${name.replaceAll('"', '""')}"`).iterate() as Iterable<Record<string, unknown>>) {
        for (const [column, value] of Object.entries(row)) {
          let text: string;
          if (value === null) text = '';
          else if (Buffer.isBuffer(value)) text = `${value.toString('latin1')}\n${value.toString('hex')}`;
          else text = String(value);
          out.push({ table: name, column, text });
        }
      }
    }
    return out;
  } finally {
    db.close();
  }
}

/** The raw bytes of the database file and, when present, its WAL and shared-memory files. */
export function readRawFiles(dbPath: string): { file: string; bytes: Buffer }[] {
  return [dbPath, `${dbPath}-wal`, `${dbPath}-shm`, `${dbPath}-journal`]
    .filter((file) => existsSync(file))
    .map((file) => ({ file, bytes: readFileSync(file) }));
}

/** The expiry (ms) of one replay record, read through a separate connection, or undefined when there is none. */
export function readReplayExpiry(dbPath: string, key: string): number | undefined {
  const db = openReadOnly(dbPath);
  try {
    return (db.prepare('SELECT expires_at AS e FROM replay WHERE key = ?').get(key) as { e: number } | undefined)?.e;
  } finally {
    db.close();
  }
}
