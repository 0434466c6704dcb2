// The guard between a store and the vault keys it was built with. The
// fingerprint key makes PAN fingerprints (duplicate-card detection) and
// token-number hashes (their uniqueness); a store's rows are only findable
// and unique under the key that wrote them, so a changed key must never be
// used silently. And every sealed value must be openable: a KEK may leave
// the configuration only once it seals nothing.
import { InternalError } from '@pushprov/protocol';
import { SEALED_TABLES, type SealedTable, type TokenServiceStore } from '../store/types.js';
import type { VaultCipher } from './vault-cipher.js';

/** The metadata name of the fingerprint key's check value. */
export const FINGERPRINT_CHECK_META = 'vault.fingerprint-key-check';

/** What the guard needs to know of the configuration, besides its cipher. */
export interface StoreKeysInfo {
  /** Whether `keys.vault.fingerprintKey` is configured (otherwise it is derived from the first KEK). */
  fingerprintKeyConfigured: boolean;
}

const describeKeyId = (id: string): string => (id === '' ? '(values in no format this version reads)' : id);

/**
 * Checks that a store and a vault configuration belong together, and claims
 * the store for the configuration's fingerprint key the first time:
 *
 * 1. the fingerprint key: the store records a check value of it (an HMAC of
 *    a fixed label, never the key) the first time; afterwards a different
 *    key is refused. A store that already holds tokens but no check value
 *    (written before this check existed) is first verified against one of
 *    its tokens: the hash of its token number must be the stored one.
 * 2. the KEKs: a store holding values sealed under a key id the
 *    configuration does not have is refused (the key ids in use are read
 *    through an index: cheap on any number of rows).
 *
 * Fails with `configuration_invalid`, the message saying what differs and
 * how to proceed (never a key), or `store_unavailable`.
 *
 * @example
 * ```ts
 * await checkStoreKeys(store, cipher, { fingerprintKeyConfigured: config.keys.vault.fingerprintKey !== undefined });
 * ```
 */
export async function checkStoreKeys(store: TokenServiceStore, cipher: VaultCipher, info: StoreKeysInfo): Promise<void> {
  const mismatch = (): InternalError =>
    new InternalError(
      'configuration_invalid',
      info.fingerprintKeyConfigured
        ? 'The fingerprint key (keys.vault.fingerprintKey) differs from the one this store was built with: with it, already provisioned cards would not be found ' +
            'and token numbers would no longer be unique. Configure the fingerprint key this store was built with; changing it needs a migration of every fingerprint and token-number hash, which this version does not have.'
        : `The fingerprint key, derived from the first vault key (${cipher.activeKeyId}) because keys.vault.fingerprintKey is not configured, differs from the one this store was built with: ` +
            'the first vault key changed. With it, already provisioned cards would not be found and token numbers would no longer be unique. ' +
            'Put the previous first vault key back first, run `token-service vault pin-fingerprint-key --config FILE --out FILE` to write its fingerprint key into the key set as keys.vault.fingerprintKey, ' +
            'then add the new vault key first (see "Keys and rotation" in docs/token-service-guide.md).',
    );

  let recorded = await store.meta.get(FINGERPRINT_CHECK_META);
  if (recorded === undefined) {
    // A store written before the check existed: prove the key on its data before claiming it.
    const [sample] = await store.sealed.list('tokens', { limit: 1 });
    if (sample) {
      const token = await store.tokens.find(sample.key[0]!);
      let hash: string | undefined;
      try {
        hash = token && token.sealedTokenNumber !== null ? cipher.hashTokenNumber(cipher.open(token.sealedTokenNumber, 'token-number', token.tokenReferenceId)) : undefined;
      } catch {
        // Sealed under a key the configuration lacks: reported below, by key id.
      }
      if (token && hash !== undefined && hash !== token.tokenNumberHash) throw mismatch();
      if (token && hash === undefined) {
        await checkKeyIds(store, cipher);
        throw new InternalError(
          'configuration_invalid',
          'A token of this store does not open with the configured vault key of its key id: that key is not the one it was sealed with. Configure the vault keys this store was built with.',
        );
      }
    }
    recorded = await store.meta.claim(FINGERPRINT_CHECK_META, cipher.fingerprintKeyCheck);
  }
  if (recorded !== cipher.fingerprintKeyCheck) throw mismatch();
  await checkKeyIds(store, cipher);
}

async function checkKeyIds(store: TokenServiceStore, cipher: VaultCipher): Promise<void> {
  const configured = new Set(cipher.keyIds);
  const missing = new Map<string, SealedTable[]>();
  for (const table of SEALED_TABLES) {
    for (const id of await store.sealed.keyIds(table)) {
      if (configured.has(id)) continue;
      missing.set(id, [...(missing.get(id) ?? []), table]);
    }
  }
  if (missing.size === 0) return;
  const list = [...missing].map(([id, tables]) => `${describeKeyId(id)} (${tables.join(', ')})`).join('; ');
  throw new InternalError(
    'configuration_invalid',
    `The store holds values sealed under vault key ids the configuration does not have: ${list}. ` +
      'Put those keys back in keys.vault.keks (after the first), run `token-service vault rotate --config FILE`, ' +
      'and remove a key only once `token-service vault status --config FILE` shows it holds nothing.',
  );
}
