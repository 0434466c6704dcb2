// Vault key rotation: every sealed value of the store (sealed cards, sealed
// token numbers, stored answers) opened and sealed again under one KEK, in
// pages, each page's writes one transaction of compare-and-set updates.
import { InternalError } from '@pushprov/protocol';
import { idempotencyContext } from '../idempotency/idempotency.js';
import { SEALED_TABLES, type SealedTable, type SealedValue, type SealedValueUpdate, type TokenServiceStore } from '../store/types.js';
import type { SealPurpose, VaultCipher } from './vault-cipher.js';

/** Per sealed table, a number (entries, or entries per key id). */
export type PerSealedTable<T> = Record<SealedTable, T>;

/** How many values each key id seals, per table (`''`: values in no format this version reads). */
export type VaultKeyCounts = PerSealedTable<Record<string, number>>;

/** What {@link rotateVault} did, per table. */
export interface RotateVaultResult {
  /** The key id everything was sealed again under. */
  keyId: string;
  /** Values sealed again under `keyId`. */
  resealed: PerSealedTable<number>;
  /** Values that changed or went away between reading and writing (written again by the service meanwhile): left as they were. */
  changedMeanwhile: PerSealedTable<number>;
  /** Values that could not be opened (a key id the configuration lacks, or damage): left as they were. */
  unreadable: PerSealedTable<number>;
}

/** Options of {@link rotateVault}. */
export interface RotateVaultOptions {
  /** The KEK to seal under; default the active one (the first configured). */
  toKeyId?: string | undefined;
  /** Rows per page (and per transaction). Default 500. */
  batchSize?: number | undefined;
  /** Called after each page is written (progress). */
  onBatch?: ((table: SealedTable, progress: { resealed: number; changedMeanwhile: number; unreadable: number }) => void) | undefined;
}

const PURPOSE: Record<SealedTable, SealPurpose> = { vault: 'card', tokens: 'token-number', idempotency: 'idempotency-response' };

/** The sealing context of a row, as the service sealed it. */
const contextOf = (table: SealedTable, row: SealedValue): string => (table === 'idempotency' ? idempotencyContext(row.key[0]!, row.key[1]!) : row.key[0]!);

/**
 * Seals every value of the store again under one KEK: for each table, pages
 * of the values not yet sealed under it (so a second run, or a run resumed
 * after a stop, only does what is left), each opened and sealed again, then
 * written as one transaction of compare-and-set updates: a row the running
 * service changed or removed meanwhile is left as it is (its new value is
 * sealed under the service's active key). Safe while services run on the
 * same store; they should already have the new key first, or they go on
 * sealing new values under the old one.
 *
 * @example
 * ```ts
 * const result = await rotateVault(store, cipher);
 * const counts = await countVaultKeys(store);
 * ```
 */
export async function rotateVault(store: TokenServiceStore, cipher: VaultCipher, options: RotateVaultOptions = {}): Promise<RotateVaultResult> {
  const keyId = options.toKeyId ?? cipher.activeKeyId;
  if (!cipher.keyIds.includes(keyId)) throw new InternalError('configuration_invalid', `No vault key with id ${keyId} is configured`);
  const limit = options.batchSize ?? 500;
  const zero = (): PerSealedTable<number> => ({ vault: 0, tokens: 0, idempotency: 0 });
  const result: RotateVaultResult = { keyId, resealed: zero(), changedMeanwhile: zero(), unreadable: zero() };
  for (const table of SEALED_TABLES) {
    let after: string[] | undefined;
    for (;;) {
      const page = await store.sealed.list(table, { after, limit, excludeKeyId: keyId });
      if (page.length === 0) break;
      const updates: SealedValueUpdate[] = [];
      for (const row of page) {
        try {
          updates.push({ key: row.key, from: row.sealed, to: cipher.reseal(row.sealed, PURPOSE[table], contextOf(table, row), keyId) });
        } catch {
          result.unreadable[table]++;
        }
      }
      const written = await store.sealed.replace(table, updates);
      result.resealed[table] += written;
      result.changedMeanwhile[table] += updates.length - written;
      options.onBatch?.(table, { resealed: result.resealed[table], changedMeanwhile: result.changedMeanwhile[table], unreadable: result.unreadable[table] });
      if (page.length < limit) break;
      after = page[page.length - 1]!.key;
    }
  }
  return result;
}

/**
 * How many values each key id seals, per table: `token-service vault
 * status`. Reads every row (a count per key id), changes nothing.
 *
 * @example
 * ```ts
 * const counts = await countVaultKeys(store); // { vault: { 'kek-2027': 12 }, tokens: { … }, idempotency: { … } }
 * ```
 */
export async function countVaultKeys(store: TokenServiceStore): Promise<VaultKeyCounts> {
  const counts = {} as VaultKeyCounts;
  for (const table of SEALED_TABLES) counts[table] = await store.sealed.countByKeyId(table);
  return counts;
}
