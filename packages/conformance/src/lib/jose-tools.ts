/**
 * Building JOSE objects the protocol's own API refuses to build (headers
 * outside the allow-list, unsigned or HMAC-signed inner tokens), and
 * tampering with segments. Signing and encryption are jose's; this file only
 * chooses headers and moves base64url segments around.
 */
import { CompactEncrypt, CompactSign, type JWK, base64url, importJWK } from 'jose';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** base64url of a string's UTF-8 (or of bytes). */
export const b64u = (input: string | Uint8Array): string => base64url.encode(typeof input === 'string' ? encoder.encode(input) : input);

/** base64url of `JSON.stringify(value)`. */
export const b64uJson = (value: unknown): string => b64u(JSON.stringify(value));

/** The decoded protected header (first segment) of a compact JWS or JWE. */
export function headerOf(compact: string): Record<string, unknown> {
  return JSON.parse(decoder.decode(base64url.decode(compact.split('.')[0] ?? ''))) as Record<string, unknown>;
}

/** Signs a compact JWS with any protected header: a private JWK, or bytes for an HMAC `alg`. */
export async function signJws(header: Record<string, unknown>, payload: string, key: JWK | Uint8Array): Promise<string> {
  const alg = String(header.alg);
  const signingKey = key instanceof Uint8Array ? key : await importJWK(key, alg);
  return new CompactSign(encoder.encode(payload)).setProtectedHeader(header as { alg: string }).sign(signingKey);
}

/** An unsecured compact JWS (`alg: none` in any spelling): header and payload, and the given signature segment (default empty). */
export function unsecuredJws(header: Record<string, unknown>, payload: string, signature = ''): string {
  return `${b64uJson(header)}.${b64u(payload)}.${signature}`;
}

/**
 * Encrypts a compact JWE with jose to `recipient` (a public JWK), with any
 * protected header members (`alg` and `enc` pick the algorithms jose runs; jose adds `epk`).
 */
export async function encryptJwe(plaintext: string, header: Record<string, unknown>, recipient: JWK, options: { crit?: Record<string, boolean> } = {}): Promise<string> {
  const alg = String(header.alg);
  const key = await importJWK(recipient, alg);
  return new CompactEncrypt(encoder.encode(plaintext))
    .setProtectedHeader(header as { alg: string; enc: string })
    .encrypt(key, options.crit ? { crit: options.crit } : undefined);
}

/** Replaces segment `index` of a compact serialisation. */
export function replaceSegment(compact: string, index: number, segment: string): string {
  const parts = compact.split('.');
  parts[index] = segment;
  return parts.join('.');
}

/** Flips the lowest bit of the first byte of the decoded segment `index`. */
export function flipFirstBit(compact: string, index: number): string {
  const bytes = new Uint8Array(base64url.decode(compact.split('.')[index] ?? ''));
  if (bytes.length > 0) bytes[0] = bytes[0]! ^ 0x01;
  return replaceSegment(compact, index, b64u(bytes));
}
