// Where each store keeps its sealed values, and how SQL reads a sealed
// value's key id: the text between `v1.` and the next dot (`''` for a value
// in no known format), as `sealedKeyId` in vault-cipher.ts. The SQLite and
// PostgreSQL migrations index exactly these expressions, so listing the key
// ids in use is a skip over an index, not a read of every row.
import type { SealedTable } from './types.js';

/** Each sealed table's SQL table, sealed column and primary key columns. */
export const SEALED_COLUMNS: Readonly<Record<SealedTable, { table: string; column: string; key: readonly string[] }>> = {
  vault: { table: 'vault', column: 'sealed_card', key: ['token_reference_id'] },
  tokens: { table: 'tokens', column: 'sealed_token_number', key: ['token_reference_id'] },
  idempotency: { table: 'idempotency', column: 'sealed_response', key: ['scope', 'key'] },
};

/** The SQLite expression of a sealed column's key id (indexed by migration 3: keep it identical). */
export const sqliteKeyIdExpression = (column: string): string =>
  `(CASE WHEN substr(${column}, 1, 3) = 'v1.' THEN substr(${column}, 4, instr(substr(${column}, 4) || '.', '.') - 1) ELSE '' END)`;

/** The PostgreSQL expression of a sealed column's key id (indexed by migration 3: keep it identical). */
export const postgresKeyIdExpression = (column: string): string => `(CASE WHEN left(${column}, 3) = 'v1.' THEN split_part(${column}, '.', 2) ELSE '' END)`;

/** The most rows one page of `sealed.list` may ask for. */
export const SEALED_LIST_MAX = 10_000;

/** A page size, checked: an integer from 1 to {@link SEALED_LIST_MAX}. */
export function checkListLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > SEALED_LIST_MAX) throw new RangeError(`limit must be an integer from 1 to ${SEALED_LIST_MAX}`);
  return limit;
}

/** A primary key of `table`, checked against its number of columns. */
export function checkKey(table: SealedTable, key: readonly string[]): readonly string[] {
  if (key.length !== SEALED_COLUMNS[table].key.length || key.some((k) => typeof k !== 'string')) {
    throw new RangeError(`a ${table} key has ${SEALED_COLUMNS[table].key.length} text column(s)`);
  }
  return key;
}
