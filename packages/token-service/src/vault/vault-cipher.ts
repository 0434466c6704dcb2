import { type KeyObject, createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync } from 'node:crypto';
import { InternalError, secureRandom } from '@pushprov/protocol';

const base64url = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');

/** A key-encryption key: an id (stored beside each ciphertext) and 32 bytes. */
export interface VaultKey {
  /** 1-64 characters of [A-Za-z0-9_-]. */
  id: string;
  /** 32 bytes (AES-256). */
  key: Uint8Array;
}

/** What a sealed value is for; part of the authenticated data, so a ciphertext cannot be moved to another use. */
export type SealPurpose = 'card' | 'token-number' | 'idempotency-response';

/**
 * Seals and opens the vault's secrets with AES-256-GCM, and computes the
 * keyed fingerprints the store indexes instead of clear numbers.
 *
 * @example
 * ```ts
 * const card = JSON.parse(cipher.open(vault.sealedCard, 'card', vault.tokenReferenceId));
 * ```
 */
export interface VaultCipher {
  /** The id of the key that seals (the first configured). */
  readonly activeKeyId: string;
  /** The ids of every key that opens, the active one first. */
  readonly keyIds: readonly string[];
  /**
   * A check value of the fingerprint key: HMAC-SHA-256 of a fixed label
   * under it (base64url). It reveals nothing of the key, yet two different
   * keys give different values: the store records it to refuse a changed key.
   */
  readonly fingerprintKeyCheck: string;
  /** Seals `plaintext` for `purpose`, bound to `context` (e.g. the token reference id). */
  seal(plaintext: string, purpose: SealPurpose, context: string): string;
  /** Opens a sealed value; fails with `internal_error` on any mismatch. */
  open(sealed: string, purpose: SealPurpose, context: string): string;
  /**
   * Opens a sealed value and seals it again under `keyId` (default: the
   * active key), for the same purpose and context: key rotation. The clear
   * value never leaves the cipher. Fails with `internal_error` as `open` does,
   * or with `configuration_invalid` for a key id it does not have.
   */
  reseal(sealed: string, purpose: SealPurpose, context: string, keyId?: string): string;
  /** `fingerprintPan(pan, fingerprintKey)`: finds an already provisioned card. */
  fingerprintPan(pan: string): string;
  /** A keyed hash of a token number: carries its uniqueness without storing it. */
  hashTokenNumber(tokenNumber: string): string;
  /**
   * The keyed hash a one-time code is stored as: HMAC-SHA-256 of
   * `"pushprov/otp/v1" ‖ 0 ‖ tokenReferenceId ‖ 0 ‖ methodId ‖ 0 ‖ code`
   * (base64url) under a key derived from the fingerprint key, so a stored
   * hash is bound to its token and method and reveals nothing without the key.
   */
  hashVerificationCode(tokenReferenceId: string, methodId: string, code: string): string;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const VERSION = 'v1';

/**
 * The id of the key a sealed value names (`v1.<keyId>.…`), read without
 * opening it; `''` for a value in no format this version seals. The stores
 * count and index sealed values by this (the same expression in SQL).
 *
 * @example
 * ```ts
 * sealedKeyId(vault.sealedCard) === 'kek-2026';
 * ```
 */
export function sealedKeyId(sealed: string): string {
  if (!sealed.startsWith(`${VERSION}.`)) return '';
  const end = sealed.indexOf('.', VERSION.length + 1);
  return end < 0 ? sealed.slice(VERSION.length + 1) : sealed.slice(VERSION.length + 1, end);
}

/** The label the fingerprint key's check value is the HMAC of. */
const FINGERPRINT_CHECK_LABEL = 'pushprov/token-service/fingerprint-key-check/v1';

/**
 * The fingerprint key a vault key configuration gives: the configured
 * `fingerprintKey`, or else the one derived from the first KEK
 * ({@link deriveFingerprintKey}). `derived` says which.
 *
 * @example
 * ```ts
 * const { key, derived } = effectiveFingerprintKey(config.keys.vault);
 * ```
 */
export function effectiveFingerprintKey(vault: { keks: readonly { id: string; key: string }[]; fingerprintKey?: string | undefined }): {
  key: Uint8Array;
  derived: boolean;
} {
  if (vault.fingerprintKey !== undefined) return { key: new Uint8Array(Buffer.from(vault.fingerprintKey, 'base64url')), derived: false };
  const first = vault.keks[0];
  if (!first) throw new InternalError('configuration_invalid', 'At least one vault key is required');
  return { key: deriveFingerprintKey(new Uint8Array(Buffer.from(first.key, 'base64url'))), derived: true };
}

/**
 * The vault cipher of a vault key configuration (`config.keys.vault`: KEKs
 * as base64url, the optional fingerprint key).
 *
 * @example
 * ```ts
 * const cipher = createVaultCipherFromConfig(loadConfig('token-service.json').keys.vault);
 * ```
 */
export function createVaultCipherFromConfig(vault: { keks: readonly { id: string; key: string }[]; fingerprintKey?: string | undefined }): VaultCipher {
  const keys = vault.keks.map((k) => ({ id: k.id, key: new Uint8Array(Buffer.from(k.key, 'base64url')) }));
  return createVaultCipher({ keys, fingerprintKey: effectiveFingerprintKey(vault).key });
}

/**
 * Derives the PAN fingerprint key from a key-encryption key (HKDF-SHA-256),
 * used only when no explicit fingerprint key is configured.
 *
 * @example
 * ```ts
 * const fingerprintKey = deriveFingerprintKey(kekBytes);
 * ```
 */
export function deriveFingerprintKey(kek: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', kek, new Uint8Array(0), 'pushprov/token-service/fingerprint/v1', 32));
}

/**
 * Creates the vault cipher. Sealed values read
 * `v1.<keyId>.<iv>.<ciphertext>.<tag>` (base64url); the first key seals, all
 * keys open (rotation: put the new key first, keep the old ones until no
 * record uses them). The authenticated data binds version, key id, purpose
 * and context.
 *
 * @example
 * ```ts
 * const cipher = createVaultCipher({ keys: [{ id: 'kek-2026', key }], fingerprintKey });
 * const sealed = cipher.seal(JSON.stringify(card), 'card', tokenReferenceId);
 * ```
 */
export function createVaultCipher(options: { keys: readonly VaultKey[]; fingerprintKey: Uint8Array }): VaultCipher {
  // IVs always come from the platform CSPRNG, never from an injected source:
  // a deterministic source could repeat an IV under the same key.
  const random = secureRandom;
  if (options.keys.length === 0) throw new InternalError('configuration_invalid', 'At least one vault key is required');
  const keys = new Map<string, KeyObject>();
  for (const { id, key } of options.keys) {
    if (!KEY_ID.test(id)) throw new InternalError('configuration_invalid', 'A vault key id must be 1-64 characters of [A-Za-z0-9_-]');
    if (key.length !== 32) throw new InternalError('configuration_invalid', 'A vault key must be 32 bytes');
    if (keys.has(id)) throw new InternalError('configuration_invalid', 'Vault key ids must be distinct');
    keys.set(id, createSecretKey(key));
  }
  if (options.fingerprintKey.length < 32) throw new InternalError('configuration_invalid', 'The fingerprint key must be at least 32 bytes');
  const fingerprintKey = new Uint8Array(options.fingerprintKey);
  // The protocol's `fingerprintPan(pan, fingerprintKey)` (HMAC-SHA-256 of "pushprov/pan/v1\0" + PAN, base64url),
  // computed natively with the key imported once instead of in JavaScript with the pads rebuilt per call.
  const fingerprintHmacKey = createSecretKey(fingerprintKey);
  const tokenHashKey = createSecretKey(new Uint8Array(hkdfSync('sha256', fingerprintKey, new Uint8Array(0), 'pushprov/token-service/token-number/v1', 32)));
  const otpHashKey = createSecretKey(new Uint8Array(hkdfSync('sha256', fingerprintKey, new Uint8Array(0), 'pushprov/token-service/otp/v1', 32)));
  const activeKeyId = options.keys[0]!.id;
  const fingerprintKeyCheck = createHmac('sha256', fingerprintHmacKey).update(FINGERPRINT_CHECK_LABEL, 'utf8').digest('base64url');
  const aad = (keyId: string, purpose: SealPurpose, context: string) =>
    Buffer.from(`pushprov/vault/${VERSION}\u0000${keyId}\u0000${purpose}\u0000${context}`, 'utf8');
  const fail = (cause?: unknown): never => {
    throw new InternalError('internal_error', 'A vault record could not be opened', cause === undefined ? {} : { cause });
  };
  const sealWith = (keyId: string, plaintext: string, purpose: SealPurpose, context: string): string => {
    const key = keys.get(keyId);
    if (!key) throw new InternalError('configuration_invalid', `No vault key with id ${keyId} is configured`);
    const iv = random.bytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(aad(keyId, purpose, context));
    // GCM is a stream mode: final() adds no bytes, so update's output is the whole ciphertext.
    const ciphertext = cipher.update(plaintext, 'utf8');
    cipher.final();
    const tag = cipher.getAuthTag();
    // Node's native base64url (unpadded, the protocol's alphabet): the vault never runs in a browser.
    return `${VERSION}.${keyId}.${base64url(iv)}.${ciphertext.toString('base64url')}.${tag.toString('base64url')}`;
  };

  const cipher: VaultCipher = {
    activeKeyId,
    keyIds: Object.freeze([...keys.keys()]),
    fingerprintKeyCheck,
    seal: (plaintext, purpose, context) => sealWith(activeKeyId, plaintext, purpose, context),
    reseal(sealed, purpose, context, keyId = activeKeyId) {
      if (!keys.has(keyId)) throw new InternalError('configuration_invalid', `No vault key with id ${keyId} is configured`);
      return sealWith(keyId, cipher.open(sealed, purpose, context), purpose, context);
    },
    open(sealed, purpose, context) {
      const parts = sealed.split('.');
      if (parts.length !== 5 || parts[0] !== VERSION) return fail();
      const [, keyId, ivText, ctText, tagText] = parts as [string, string, string, string, string];
      const key = keys.get(keyId);
      if (!key || !/^[A-Za-z0-9_-]{16}$/.test(ivText) || !/^[A-Za-z0-9_-]{22}$/.test(tagText) || !/^[A-Za-z0-9_-]*$/.test(ctText)) return fail();
      try {
        // Buffer's base64url decoder skips characters outside the alphabet; the patterns above refuse them first.
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(ivText, 'base64url'), { authTagLength: 16 });
        decipher.setAAD(aad(keyId, purpose, context));
        decipher.setAuthTag(Buffer.from(tagText, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(ctText, 'base64url')), decipher.final()]).toString('utf8');
      } catch (cause) {
        return fail(cause);
      }
    },
    fingerprintPan(pan) {
      return createHmac('sha256', fingerprintHmacKey).update(`pushprov/pan/v1\u0000${pan}`, 'utf8').digest('base64url');
    },
    hashTokenNumber(tokenNumber) {
      return createHmac('sha256', tokenHashKey).update(`pushprov/token-number/v1\u0000${tokenNumber}`, 'utf8').digest('base64url');
    },
    hashVerificationCode(tokenReferenceId, methodId, code) {
      return createHmac('sha256', otpHashKey).update(`pushprov/otp/v1\u0000${tokenReferenceId}\u0000${methodId}\u0000${code}`, 'utf8').digest('base64url');
    },
  };
  return cipher;
}
