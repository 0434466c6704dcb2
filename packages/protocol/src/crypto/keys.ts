import { type JWK, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import * as z from 'zod/mini';
import { CryptoError, createError } from '../errors.js';
import { zKid } from '../schemas/primitives.js';

/** Signature algorithms allowed for issuer and wallet provider keys. */
export const SIGNING_ALGORITHMS = ['ES256', 'EdDSA'] as const;
/** A signature algorithm. */
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];
/** The only JWE key management algorithm. */
export const KEY_MANAGEMENT_ALGORITHM = 'ECDH-ES+A256KW' as const;
/** The only JWE content encryption algorithm. */
export const CONTENT_ENCRYPTION_ALGORITHM = 'A256GCM' as const;

/** A JWK with the members every key of this protocol must have. */
export type KeyJwk = JWK & { kid: string; alg: string };

/** A key pair as JWKs: the private one (with `d`) and its public half. */
export interface JwkPair {
  privateJwk: KeyJwk;
  publicJwk: KeyJwk;
}

/** A JSON Web Key Set. */
export interface Jwks {
  keys: KeyJwk[];
}

const b64 = (len: number) => z.string().check(z.regex(new RegExp(`^[A-Za-z0-9_-]{${len}}$`)));

const zEcSigPublic = /* @__PURE__ */ z.strictObject({
  kty: z.literal('EC'),
  crv: z.literal('P-256'),
  x: b64(43),
  y: b64(43),
  kid: zKid,
  alg: z.literal('ES256'),
  use: z.optional(z.literal('sig')),
});
const zOkpSigPublic = /* @__PURE__ */ z.strictObject({
  kty: z.literal('OKP'),
  crv: z.literal('Ed25519'),
  x: b64(43),
  kid: zKid,
  alg: z.literal('EdDSA'),
  use: z.optional(z.literal('sig')),
});
const zEcEncPublic = /* @__PURE__ */ z.strictObject({
  kty: z.literal('EC'),
  crv: z.literal('P-256'),
  x: b64(43),
  y: b64(43),
  kid: zKid,
  alg: z.literal(KEY_MANAGEMENT_ALGORITHM),
  use: z.optional(z.literal('enc')),
});

/**
 * A public JWK of this protocol: ES256 or EdDSA for signing, ECDH-ES+A256KW
 * on P-256 for encryption; `kid` and `alg` required, private members refused.
 */
export const zPublicJwk = /* @__PURE__ */ z.union([zEcSigPublic, zOkpSigPublic, zEcEncPublic]);

/** A JWK set's rules: 1 to 32 keys with distinct `kid`s. */
const jwkSet = <K extends { kid: string }>(key: z.ZodMiniType<K>) =>
  z.strictObject({
    keys: z.array(key).check(
      z.minLength(1),
      z.maxLength(32),
      z.refine((keys) => new Set(keys.map((k) => k.kid)).size === keys.length, 'kids must be distinct'),
    ),
  });

/** A public JWK set: 1 to 32 keys with distinct `kid`s. */
export const zPublicJwks = /* @__PURE__ */ jwkSet(zPublicJwk);

// What parsePublicJwks does with zPublicJwk, without z.union: the first form a
// key matches (as the union takes it). Its issues are never shown, so an app
// bundle that parses a trust list need not carry the union's machinery.
const PUBLIC_JWK_FORMS = [zEcSigPublic, zOkpSigPublic, zEcEncPublic] as const;
const publicJwkOf = (value: unknown): z.infer<typeof zPublicJwk> | undefined => {
  for (const form of PUBLIC_JWK_FORMS) {
    const result = form.safeParse(value, { reportInput: false });
    if (result.success) return result.data;
  }
  return undefined;
};
const zPublicJwksByForm = /* @__PURE__ */ jwkSet(z.custom<z.infer<typeof zPublicJwk>>((value) => publicJwkOf(value) !== undefined));

/**
 * Generates an issuer (or wallet provider) signing key.
 *
 * @example
 * ```ts
 * const { privateJwk, publicJwk } = await generateSigningKey({ alg: 'ES256' });
 * ```
 */
export async function generateSigningKey(options: { alg?: SigningAlgorithm; kid?: string } = {}): Promise<JwkPair> {
  const alg = options.alg ?? 'ES256';
  const { privateKey, publicKey } = await generateKeyPair(alg, alg === 'EdDSA' ? { extractable: true, crv: 'Ed25519' } : { extractable: true });
  return finishPair(await exportJWK(privateKey), await exportJWK(publicKey), alg, 'sig', options.kid);
}

/**
 * Generates a token service (or device) encryption key: ECDH-ES+A256KW on P-256.
 *
 * @example
 * ```ts
 * const { privateJwk, publicJwk } = await generateEncryptionKey({ kid: 'ts-2026-11' });
 * ```
 */
export async function generateEncryptionKey(options: { kid?: string } = {}): Promise<JwkPair> {
  const { privateKey, publicKey } = await generateKeyPair(KEY_MANAGEMENT_ALGORITHM, { extractable: true, crv: 'P-256' });
  return finishPair(await exportJWK(privateKey), await exportJWK(publicKey), KEY_MANAGEMENT_ALGORITHM, 'enc', options.kid);
}

async function finishPair(priv: JWK, pub: JWK, alg: string, use: 'sig' | 'enc', kid?: string): Promise<JwkPair> {
  const id = kid ?? (await calculateJwkThumbprint(pub, 'sha256'));
  return {
    privateJwk: { ...priv, kid: id, alg, use },
    publicJwk: { ...pub, kid: id, alg, use },
  };
}

/**
 * The public half of a JWK: only the members a public key may carry.
 *
 * @example
 * ```ts
 * const published = { keys: [toPublicJwk(privateJwk)] };
 * ```
 */
export function toPublicJwk(jwk: KeyJwk): KeyJwk {
  const out: KeyJwk = { ...(jwk.kty === undefined ? {} : { kty: jwk.kty }), kid: jwk.kid, alg: jwk.alg };
  if (jwk.crv !== undefined) out.crv = jwk.crv;
  if (jwk.x !== undefined) out.x = jwk.x;
  if (jwk.y !== undefined) out.y = jwk.y;
  if (jwk.use !== undefined) out.use = jwk.use;
  return out;
}

/**
 * Parses a public JWK set (for example the token service's
 * `/.well-known/jwks.json`). Private members, unknown algorithms and duplicate
 * `kid`s are refused with `invalid_message`.
 */
export function parsePublicJwks(input: unknown): Jwks {
  const result = zPublicJwksByForm.safeParse(input, { reportInput: false });
  if (!result.success) throw createError('invalid_message', 'Invalid JWK set');
  // Each key as its form's schema outputs it, as zPublicJwks would.
  return { keys: result.data.keys.map((key) => publicJwkOf(key)!) } as Jwks;
}

/**
 * Finds the key with `kid` in a set, optionally requiring its `alg`.
 * Throws `unknown_key` when there is none.
 *
 * @example
 * ```ts
 * const key = selectKey(serviceJwks, header.kid, { alg: 'ECDH-ES+A256KW' });
 * ```
 */
export function selectKey(jwks: Jwks, kid: string, options: { alg?: string } = {}): KeyJwk {
  const key = jwks.keys.find((k) => k.kid === kid);
  if (!key || (options.alg !== undefined && key.alg !== options.alg)) {
    throw new CryptoError('unknown_key', 'No key with that kid for this algorithm');
  }
  return key;
}

