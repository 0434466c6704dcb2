/**
 * Tools to build JOSE objects that the protocol's own API refuses to build:
 * headers outside the allow-list, unsigned or HMAC-signed inner tokens,
 * tampered segments. Used by the tests and the vector generator to produce
 * inputs that are cryptographically valid except for the one property a case
 * is about. Everything goes through jose and WebCrypto; nothing is hand-rolled.
 *
 * Never used by the shipped code.
 */
import { CompactEncrypt, CompactSign, type JWK, base64url, importJWK } from 'jose';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of a string (bytes pass through). */
export function bytesOf(input: string | Uint8Array): Uint8Array {
  return typeof input === 'string' ? encoder.encode(input) : input;
}

/** base64url of bytes or of a string's UTF-8. */
export function b64u(input: string | Uint8Array): string {
  return base64url.encode(bytesOf(input));
}

/** base64url of `JSON.stringify(value)`. */
export function b64uJson(value: unknown): string {
  return b64u(JSON.stringify(value));
}

/** Decodes a base64url segment to text. */
export function textOfSegment(segment: string): string {
  return decoder.decode(base64url.decode(segment));
}

/** Decodes the protected header (first segment) of a compact JWS or JWE. */
export function headerOf(compact: string): Record<string, unknown> {
  return JSON.parse(textOfSegment(compact.split('.')[0]!)) as Record<string, unknown>;
}

/** Input of {@link craftJws}. */
export interface CraftJwsInput {
  /** The protected header, exactly as it should appear (any members). */
  header: Record<string, unknown>;
  /** The payload: a string (UTF-8) or bytes. */
  payload: string | Uint8Array;
  /**
   * The signing key: a private JWK, or bytes for HMAC. Omit for an unsecured
   * token (`alg: none` in any spelling): the signature segment is then `signature` (default empty).
   */
  key?: JWK | Uint8Array;
  /** The signature segment of an unsecured token. */
  signature?: string;
  /** `crit` members jose should accept while signing. */
  crit?: Record<string, boolean>;
}

/**
 * Signs (or, without a key, leaves unsigned) a compact JWS with any
 * protected header.
 */
export async function craftJws(input: CraftJwsInput): Promise<string> {
  const payload = bytesOf(input.payload);
  if (input.key === undefined) return `${b64uJson(input.header)}.${b64u(payload)}.${input.signature ?? ''}`;
  const alg = String(input.header.alg);
  const key = input.key instanceof Uint8Array ? input.key : await importJWK(input.key, alg);
  const signer = new CompactSign(payload).setProtectedHeader(input.header as { alg: string });
  return signer.sign(key, input.crit ? { crit: input.crit } : undefined);
}

/** Input of {@link craftJwe}. */
export interface CraftJweInput {
  /** Protected header members; jose adds `epk`. `alg` and `enc` pick the algorithms jose runs. */
  header: Record<string, unknown>;
  plaintext: string | Uint8Array;
  /** The recipient's public JWK. */
  recipient: JWK;
  /** The ephemeral private JWK (ECDH-ES). Random when omitted. */
  epk?: JWK;
  /** The content encryption key. Random when omitted. */
  cek?: Uint8Array;
  /** The GCM initialisation vector. Random when omitted. */
  iv?: Uint8Array;
  /** `crit` members jose should accept while encrypting. */
  crit?: Record<string, boolean>;
}

/**
 * Encrypts a compact JWE with jose, with optional fixed randomness (ephemeral
 * key, CEK, IV) so that a vector can record every random value it used.
 */
export async function craftJwe(input: CraftJweInput): Promise<string> {
  const alg = String(input.header.alg);
  const recipient = await importJWK(input.recipient, alg);
  const enc = new CompactEncrypt(bytesOf(input.plaintext)).setProtectedHeader(input.header as { alg: string; enc: string });
  if (input.epk !== undefined) {
    enc.setKeyManagementParameters({ epk: (await importJWK(input.epk, alg, { extractable: true })) as CryptoKey });
  }
  if (input.cek !== undefined) enc.setContentEncryptionKey(input.cek);
  if (input.iv !== undefined) enc.setInitializationVector(input.iv);
  return enc.encrypt(recipient, input.crit ? { crit: input.crit } : undefined);
}

async function gcmKey(cek: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', cek as BufferSource, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

/**
 * Decrypts the content of an A256GCM compact JWE with a known CEK (the
 * protected header segment is the AAD).
 */
export async function decryptContent(jwe: string, cek: Uint8Array): Promise<Uint8Array> {
  const [protectedHeader, , iv, ciphertext, tag] = jwe.split('.') as [string, string, string, string, string];
  const data = new Uint8Array([...base64url.decode(ciphertext), ...base64url.decode(tag)]);
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: base64url.decode(iv) as BufferSource, additionalData: encoder.encode(protectedHeader), tagLength: 128 },
    await gcmKey(cek),
    data,
  );
  return new Uint8Array(plain);
}

/**
 * Replaces the protected header of an A256GCM compact JWE with `newHeader`
 * (serialised with `JSON.stringify`, or taken verbatim when a string) and
 * re-encrypts the content under the same CEK and IV, so that the result is a
 * valid JWE whose header the caller chose. The encrypted key is kept, so the
 * header's `epk` must stay the one the key was wrapped with for it to decrypt.
 */
export async function rewriteProtectedHeader(
  jwe: string,
  newHeader: Record<string, unknown> | string,
  cek: Uint8Array,
  plaintext?: string | Uint8Array,
): Promise<string> {
  const [, encryptedKey, iv] = jwe.split('.') as [string, string, string];
  const content = plaintext === undefined ? await decryptContent(jwe, cek) : bytesOf(plaintext);
  const protectedHeader = b64u(typeof newHeader === 'string' ? newHeader : JSON.stringify(newHeader));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: base64url.decode(iv) as BufferSource, additionalData: encoder.encode(protectedHeader), tagLength: 128 },
      await gcmKey(cek),
      content as BufferSource,
    ),
  );
  const ciphertext = sealed.slice(0, sealed.length - 16);
  const tag = sealed.slice(sealed.length - 16);
  return [protectedHeader, encryptedKey, iv, b64u(ciphertext), b64u(tag)].join('.');
}

/**
 * Flips one bit of the byte at `byteIndex` (negative counts from the end) of
 * the decoded segment `segmentIndex` of a compact serialisation.
 */
export function flipByte(compact: string, segmentIndex: number, byteIndex: number): string {
  const parts = compact.split('.');
  const bytes = new Uint8Array(base64url.decode(parts[segmentIndex]!));
  const index = byteIndex < 0 ? bytes.length + byteIndex : byteIndex;
  bytes[index] = bytes[index]! ^ 0x01;
  parts[segmentIndex] = b64u(bytes);
  return parts.join('.');
}

/** Replaces segment `segmentIndex` of a compact serialisation. */
export function replaceSegment(compact: string, segmentIndex: number, segment: string): string {
  const parts = compact.split('.');
  parts[segmentIndex] = segment;
  return parts.join('.');
}
