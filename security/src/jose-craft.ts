/**
 * JOSE built by hand with `node:crypto`, for the attacks a JOSE library
 * refuses to produce: any protected header (`zip`, `crit`, `jku`, `alg:
 * none`, HS256 keyed with a public key, another `enc`), real compression,
 * chosen `epk`s, and bent signatures. The cryptography is the real thing
 * (ECDH-ES with the Concat KDF, AES key wrap, AES-GCM, ECDSA, Ed25519), so a
 * crafted message differs from a valid one only where a test bends it.
 */
import {
  type KeyObject,
  createCipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  randomBytes,
  sign,
} from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import type { KeyJwk } from '@pushprov/protocol';

/** Unpadded base64url of bytes or UTF-8 text. */
export const b64u = (data: Uint8Array | string): string => Buffer.from(typeof data === 'string' ? Buffer.from(data, 'utf8') : data).toString('base64url');

/** Decodes base64url to bytes. */
export const unb64u = (text: string): Buffer => Buffer.from(text, 'base64url');

/** The JSON of a protected header, base64url encoded. */
export const encodeHeader = (header: unknown): string => b64u(JSON.stringify(header));

/** Decodes the protected header (first segment) of a compact serialisation. */
export const decodeHeader = (compact: string): Record<string, unknown> =>
  JSON.parse(unb64u(compact.split('.')[0]!).toString('utf8')) as Record<string, unknown>;

function privateKeyOf(jwk: KeyJwk): KeyObject {
  const { alg: _alg, kid: _kid, use: _use, key_ops: _ops, ...material } = jwk;
  return createPrivateKey({ key: material as never, format: 'jwk' });
}

function publicKeyOf(jwk: KeyJwk | Record<string, unknown>): KeyObject {
  const { kty, crv, x, y } = jwk as Record<string, string>;
  return createPublicKey({ key: (kty === 'OKP' ? { kty, crv, x } : { kty, crv, x, y }) as never, format: 'jwk' });
}

/** Signs `signingInput` as the header's `alg` says: ES256 (JOSE r‖s), EdDSA, HS256 with `hmacSecret`, or `none`. */
export function rawSignature(alg: unknown, signingInput: string, key: KeyJwk | undefined, hmacSecret?: Uint8Array): Uint8Array {
  const data = Buffer.from(signingInput, 'ascii');
  if (typeof alg === 'string' && alg.toLowerCase() === 'none') return new Uint8Array(0);
  if (alg === 'HS256') return createHmac('sha256', hmacSecret ?? new Uint8Array(32)).update(data).digest();
  if (!key) throw new TypeError('a key is needed');
  if (key.alg === 'EdDSA') return sign(null, data, privateKeyOf(key));
  return sign('sha256', data, { key: privateKeyOf(key), dsaEncoding: 'ieee-p1363' });
}

/** Options of {@link signCompact}. */
export interface SignOptions {
  /** HMAC secret when the header says HS256. */
  hmacSecret?: Uint8Array;
  /** Replaces the signature bytes (DER, truncated, zero…). */
  signature?: (signature: Uint8Array) => Uint8Array;
}

/**
 * A compact JWS with exactly `header` as its protected header, signed with
 * `key` according to the key's algorithm (or as `header.alg` says for
 * `none` and HS256).
 */
export async function signCompact(header: Record<string, unknown>, payload: string, key: KeyJwk | undefined, options: SignOptions = {}): Promise<string> {
  const signingInput = `${encodeHeader(header)}.${b64u(payload)}`;
  const alg = header.alg === 'HS256' || (typeof header.alg === 'string' && header.alg.toLowerCase() === 'none') ? header.alg : key?.alg;
  let signature = rawSignature(alg, signingInput, key, options.hmacSecret);
  if (options.signature) signature = options.signature(signature);
  return `${signingInput}.${b64u(signature)}`;
}

function uint32be(n: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(n);
  return out;
}

/** The Concat KDF of RFC 7518 §4.6.2 (one round of SHA-256 suffices up to 256 bits). */
export function concatKdf(z: Uint8Array, algorithmId: string, keyBits: number, apu: Uint8Array = new Uint8Array(0), apv: Uint8Array = new Uint8Array(0)): Buffer {
  const alg = Buffer.from(algorithmId, 'ascii');
  const otherInfo = Buffer.concat([uint32be(alg.length), alg, uint32be(apu.length), apu, uint32be(apv.length), apv, uint32be(keyBits)]);
  return createHash('sha256').update(Buffer.concat([uint32be(1), z, otherInfo])).digest().subarray(0, keyBits / 8);
}

const GCM_BITS: Record<string, number> = { A128GCM: 128, A192GCM: 192, A256GCM: 256 };
const KW_BITS: Record<string, number> = { 'ECDH-ES+A128KW': 128, 'ECDH-ES+A192KW': 192, 'ECDH-ES+A256KW': 256 };

/** Options of {@link encryptCompact}. */
export interface EncryptOptions {
  /** Put this in the header as `epk` instead of the real ephemeral public key (the real one is still used for the key agreement). */
  epk?: unknown;
  /** Leave `epk` out of the header. */
  omitEpk?: boolean;
  /** Fixed IV (default 12 random bytes). */
  iv?: Uint8Array;
}

/**
 * A compact JWE of `plaintext` to `recipient` (a public P-256 JWK) with
 * exactly `header` plus the `epk` as protected header. The cryptography
 * follows the header where it can: `ECDH-ES+A128/192/256KW` or `ECDH-ES`
 * (direct) with the Concat KDF, `A128/192/256GCM`, and `zip: "DEF"` (raw
 * DEFLATE before encryption). Anything else in the header is only a label:
 * ECDH-ES+A256KW / A256GCM is used underneath.
 */
export function encryptCompact(header: Record<string, unknown>, plaintext: string | Uint8Array, recipient: KeyJwk | Record<string, unknown>, options: EncryptOptions = {}): string {
  const ephemeral = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const epkJwk = ephemeral.publicKey.export({ format: 'jwk' }) as { kty: string; crv: string; x: string; y: string };
  const protectedHeader: Record<string, unknown> = { ...header };
  if (!options.omitEpk) protectedHeader.epk = options.epk ?? { kty: 'EC', crv: 'P-256', x: epkJwk.x, y: epkJwk.y };
  const z = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: publicKeyOf(recipient) });
  const enc = typeof header.enc === 'string' && header.enc in GCM_BITS ? header.enc : 'A256GCM';
  const alg = typeof header.alg === 'string' && (header.alg in KW_BITS || header.alg === 'ECDH-ES') ? header.alg : 'ECDH-ES+A256KW';
  const apu = typeof header.apu === 'string' ? unb64u(header.apu) : undefined;
  const apv = typeof header.apv === 'string' ? unb64u(header.apv) : undefined;
  let cek: Buffer;
  let encryptedKey: Buffer;
  if (alg === 'ECDH-ES') {
    cek = concatKdf(z, enc, GCM_BITS[enc]!, apu, apv);
    encryptedKey = Buffer.alloc(0);
  } else {
    const kek = concatKdf(z, alg, KW_BITS[alg]!, apu, apv);
    cek = randomBytes(GCM_BITS[enc]! / 8);
    const wrap = createCipheriv(`id-aes${KW_BITS[alg]}-wrap`, kek, Buffer.from('A6A6A6A6A6A6A6A6', 'hex'));
    encryptedKey = Buffer.concat([wrap.update(cek), wrap.final()]);
  }
  const headerB64 = encodeHeader(protectedHeader);
  const iv = options.iv ?? randomBytes(12);
  let data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : Buffer.from(plaintext);
  if (header.zip === 'DEF') data = deflateRawSync(data);
  const cipher = createCipheriv(`aes-${GCM_BITS[enc]}-gcm` as 'aes-256-gcm', cek, iv);
  cipher.setAAD(Buffer.from(headerB64, 'ascii'));
  const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [headerB64, b64u(encryptedKey), b64u(iv), b64u(ciphertext), b64u(tag)].join('.');
}

/** Replaces segment `index` of a compact serialisation. */
export function replaceSegment(compact: string, index: number, change: (segment: string) => string): string {
  const parts = compact.split('.');
  parts[index] = change(parts[index]!);
  return parts.join('.');
}

/** Flips one bit of the bytes of segment `index` (at byte `at`, default the middle). */
export function flipBit(compact: string, index: number, at?: number): string {
  return replaceSegment(compact, index, (segment) => {
    const bytes = unb64u(segment);
    const i = at ?? Math.floor(bytes.length / 2);
    bytes[i] = bytes[i]! ^ 0x01;
    return b64u(bytes);
  });
}

/** Cuts the bytes of segment `index` to `length` bytes. */
export function truncateSegment(compact: string, index: number, length: number): string {
  return replaceSegment(compact, index, (segment) => b64u(unb64u(segment).subarray(0, length)));
}

/** An ECDSA P-256 signature in JOSE r‖s form turned into ASN.1 DER (what JOSE must refuse). */
export function joseToDer(signature: Uint8Array): Uint8Array {
  const int = (bytes: Uint8Array) => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    let body = Buffer.from(bytes.subarray(i));
    if (body[0]! & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
    return Buffer.concat([Buffer.from([0x02, body.length]), body]);
  };
  const seq = Buffer.concat([int(signature.subarray(0, 32)), int(signature.subarray(32))]);
  return Buffer.concat([Buffer.from([0x30, seq.length]), seq]);
}

/** The order n of P-256. */
const P256_N = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');

/** The other valid ECDSA signature of the same message: (r, n − s). */
export function malleateEcdsa(signature: Uint8Array): Uint8Array {
  const s = BigInt(`0x${Buffer.from(signature.subarray(32)).toString('hex')}`);
  const flipped = (P256_N - s).toString(16).padStart(64, '0');
  return Buffer.concat([Buffer.from(signature.subarray(0, 32)), Buffer.from(flipped, 'hex')]);
}

/** A P-256 point that is not on the curve (y of the generator + 1), as JWK coordinates. */
export function offCurvePoint(): { x: string; y: string } {
  const gx = Buffer.from('6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296', 'hex');
  const gy = Buffer.from('4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f6', 'hex');
  gy[31] = gy[31]! ^ 0x01;
  return { x: b64u(gx), y: b64u(gy) };
}
