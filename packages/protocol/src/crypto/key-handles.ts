import { importKeyCached } from './import-key-cached.js';
import { CompactSign, type CryptoKey, type JWK, type KeyObject } from 'jose';
import { CryptoError } from '../errors.js';
import { KEY_MANAGEMENT_ALGORITHM, type KeyJwk, SIGNING_ALGORITHMS, type SigningAlgorithm, toPublicJwk, zPublicJwk } from './keys.js';

/**
 * A private key as jose takes it: a WebCrypto `CryptoKey` of the runtime's
 * own WebCrypto (`globalThis.crypto`), or a Node.js `KeyObject`.
 */
export type JoseKey = CryptoKey | KeyObject;

/**
 * A signing key held anywhere: a JWK file, a non-extractable WebCrypto key, or
 * a provider (HSM, cloud KMS) that yields a `CryptoKey` or `KeyObject` whose
 * operations it performs. It carries no private member: `kid` and `alg` go
 * into the JWS header, `publicJwk` is what verifiers trust, and `key()` gives
 * jose the key to sign with. Made by {@link signingKeyFromJwk} (the default,
 * what a JWK file gives) or {@link signingKeyFromCryptoKey}; any object of
 * this shape works.
 *
 * @example
 * ```ts
 * const handle: SigningKeyHandle = signingKeyFromJwk(JSON.parse(process.env.ISSUER_SIGNING_JWK!));
 * ```
 */
export interface SigningKeyHandle {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  /** The public half, with the same `kid` and `alg`. */
  readonly publicJwk: KeyJwk;
  /** The private key jose signs with (called for every signature; cache inside when it is costly). */
  key(): JoseKey | Promise<JoseKey>;
}

/**
 * A decryption (ECDH-ES+A256KW, P-256) key held anywhere: a JWK file, a
 * non-extractable WebCrypto key, or a provider that yields a `CryptoKey` or
 * `KeyObject`. The JWE header's `kid` picks the handle; `key()` gives jose the
 * private key it derives the key-wrapping key with. Made by
 * {@link decryptionKeyFromJwk} or {@link decryptionKeyFromCryptoKey}.
 *
 * @example
 * ```ts
 * const handle: DecryptionKeyHandle = decryptionKeyFromCryptoKey(privateKey, { kid: 'ts-2026-11', publicJwk });
 * ```
 */
export interface DecryptionKeyHandle {
  readonly kid: string;
  readonly alg: typeof KEY_MANAGEMENT_ALGORITHM;
  /** The public half, with the same `kid` and `alg`: what the token service publishes. */
  readonly publicJwk: KeyJwk;
  /** The private key jose decrypts with (called for every decryption; cache inside when it is costly). */
  key(): JoseKey | Promise<JoseKey>;
}

/** A signing key as the APIs take it: a handle, or a private JWK (ES256 or EdDSA, with `kid`). */
export type SigningKeyInput = SigningKeyHandle | KeyJwk;
/** A decryption key as the APIs take it: a handle, or a private JWK (ECDH-ES+A256KW, with `kid`). */
export type DecryptionKeyInput = DecryptionKeyHandle | KeyJwk;

type KeyKind = 'ES256' | 'EdDSA' | 'P-256' | undefined;

const fail = (message: string): never => {
  throw new CryptoError('unknown_key', message);
};

/** True for a key handle (an object with a `key` function); a JWK never has a `key` member. */
export function isKeyHandle(input: unknown): input is SigningKeyHandle | DecryptionKeyHandle {
  return typeof input === 'object' && input !== null && typeof (input as { key?: unknown }).key === 'function';
}

/** The public JWK of a handle: only public members, the handle's `kid` and `alg`, a key of this protocol. */
function publicHalf(jwk: unknown, kid: string, alg: string): KeyJwk {
  const given = jwk as JWK | null;
  if (typeof given !== 'object' || given === null || 'd' in given) return fail('publicJwk must be a public JWK');
  if ((given.kid !== undefined && given.kid !== kid) || (given.alg !== undefined && given.alg !== alg)) {
    return fail("publicJwk's kid and alg must be the handle's");
  }
  const pub = toPublicJwk({ ...given, kid, alg } as KeyJwk);
  if (!zPublicJwk.safeParse(pub).success) return fail(`publicJwk must be a public ${alg} JWK with a kid`);
  return pub;
}

/** What a CryptoKey or KeyObject is, read from its public properties (no Node.js built-in needed). */
function kindOf(key: unknown, usage: string): KeyKind {
  const k = key as {
    [Symbol.toStringTag]?: string;
    type?: string;
    algorithm?: { name?: string; namedCurve?: string };
    usages?: string[];
    asymmetricKeyType?: string;
    asymmetricKeyDetails?: { namedCurve?: string };
  } | null;
  if (typeof k !== 'object' || k === null || k.type !== 'private') return undefined;
  if (k[Symbol.toStringTag] === 'KeyObject') {
    if (k.asymmetricKeyType === 'ed25519') return 'EdDSA';
    return k.asymmetricKeyType === 'ec' && k.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? 'P-256' : undefined;
  }
  if (!Array.isArray(k.usages) || !k.usages.includes(usage)) return undefined;
  const { name, namedCurve } = k.algorithm ?? {};
  if (name === 'Ed25519') return 'EdDSA';
  if (name === 'ECDSA' && namedCurve === 'P-256') return 'ES256';
  return name === 'ECDH' && namedCurve === 'P-256' ? 'P-256' : undefined;
}

const checkKid = (kid: unknown): string =>
  typeof kid === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(kid) ? kid : fail('kid must be 1-128 characters of [A-Za-z0-9._:-]');

/**
 * The default signing key handle: a private JWK (ES256 on P-256 or EdDSA on
 * Ed25519, with `d`, `kid` and `alg`), as a JWK file holds it. jose imports
 * it once (non-extractable) and caches the `CryptoKey`. Code: `unknown_key`.
 *
 * @example
 * ```ts
 * const signingKey = signingKeyFromJwk(JSON.parse(readFileSync('issuer-signing.jwk', 'utf8')));
 * ```
 */
export function signingKeyFromJwk(privateJwk: KeyJwk): SigningKeyHandle {
  const jwk = privateJwk as Partial<KeyJwk> | null;
  if (typeof jwk !== 'object' || jwk === null || typeof jwk.d !== 'string' || !(SIGNING_ALGORITHMS as readonly unknown[]).includes(jwk.alg)) {
    return fail('The signing key must be a private ES256 or EdDSA JWK with a kid');
  }
  const kid = checkKid(jwk.kid);
  const alg = jwk.alg as SigningAlgorithm;
  return Object.freeze({
    kid,
    alg,
    publicJwk: publicHalf(toPublicJwk(privateJwk), kid, alg),
    key: () => importKeyCached(privateJwk, alg) as Promise<JoseKey>,
  });
}

/**
 * A signing key handle over a private `CryptoKey` (of the runtime's
 * WebCrypto: ECDSA P-256 or Ed25519 with the `sign` usage, typically
 * non-extractable) or a private `KeyObject`. `publicJwk` is its public half
 * (for example `exportJWK(publicKey)`); its `kid` and `alg` become the
 * handle's. The pairing is not checked here: a wrong public key shows as
 * `signature_invalid` at the verifier. Code: `unknown_key`.
 *
 * @example
 * ```ts
 * const { privateKey, publicKey } = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
 * const signingKey = signingKeyFromCryptoKey(privateKey, { kid: 'bank-a-2026', alg: 'ES256', publicJwk: await exportJWK(publicKey) });
 * ```
 */
export function signingKeyFromCryptoKey(key: JoseKey, options: { kid: string; alg: SigningAlgorithm; publicJwk: JWK }): SigningKeyHandle {
  const kid = checkKid(options?.kid);
  const alg = options.alg;
  if (!(SIGNING_ALGORITHMS as readonly unknown[]).includes(alg)) return fail('alg must be ES256 or EdDSA');
  const kind = kindOf(key, 'sign');
  if (!(kind === alg || (kind === 'P-256' && alg === 'ES256'))) {
    return fail(`The key must be a private ${alg === 'ES256' ? 'ECDSA P-256' : 'Ed25519'} CryptoKey with the sign usage, or such a KeyObject`);
  }
  return Object.freeze({ kid, alg, publicJwk: publicHalf(options.publicJwk, kid, alg), key: () => key });
}

/**
 * The default decryption key handle: a private ECDH-ES+A256KW JWK on P-256
 * (with `d`, `kid` and `alg`), as the token service's key set file holds it.
 * Code: `unknown_key`.
 *
 * @example
 * ```ts
 * const decryptionKeys = keySet.encryptionKeys.keys.map(decryptionKeyFromJwk);
 * ```
 */
export function decryptionKeyFromJwk(privateJwk: KeyJwk): DecryptionKeyHandle {
  const jwk = privateJwk as Partial<KeyJwk> | null;
  if (typeof jwk !== 'object' || jwk === null || typeof jwk.d !== 'string' || jwk.alg !== KEY_MANAGEMENT_ALGORITHM) {
    return fail('The decryption key must be a private ECDH-ES+A256KW JWK with a kid');
  }
  const kid = checkKid(jwk.kid);
  return Object.freeze({
    kid,
    alg: KEY_MANAGEMENT_ALGORITHM,
    publicJwk: publicHalf(toPublicJwk(privateJwk), kid, KEY_MANAGEMENT_ALGORITHM),
    key: () => importKeyCached(privateJwk, KEY_MANAGEMENT_ALGORITHM) as Promise<JoseKey>,
  });
}

/**
 * A decryption key handle over a private `CryptoKey` (of the runtime's
 * WebCrypto: ECDH on P-256 with the `deriveBits` usage, typically
 * non-extractable) or a private P-256 `KeyObject`. `publicJwk` is its public
 * half; `kid` is the JWE `kid` that picks it. The pairing is not checked
 * here: requests encrypted to a wrong public key fail with
 * `decryption_failed`. Code: `unknown_key`.
 *
 * @example
 * ```ts
 * const { privateKey, publicKey } = await generateKeyPair('ECDH-ES+A256KW', { extractable: false });
 * const handle = decryptionKeyFromCryptoKey(privateKey, { kid: 'ts-2026-11', publicJwk: await exportJWK(publicKey) });
 * ```
 */
export function decryptionKeyFromCryptoKey(key: JoseKey, options: { kid: string; publicJwk: JWK }): DecryptionKeyHandle {
  const kid = checkKid(options?.kid);
  if (kindOf(key, 'deriveBits') !== 'P-256') return fail('The key must be a private ECDH P-256 CryptoKey with the deriveBits usage, or such a KeyObject');
  return Object.freeze({ kid, alg: KEY_MANAGEMENT_ALGORITHM, publicJwk: publicHalf(options.publicJwk, kid, KEY_MANAGEMENT_ALGORITHM), key: () => key });
}

const checked = /* @__PURE__ */ new WeakSet<object>();

function checkHandle<H extends SigningKeyHandle | DecryptionKeyHandle>(handle: H, algs: readonly string[]): H {
  if (checked.has(handle)) return handle;
  const kid = checkKid(handle.kid);
  if (!algs.includes(handle.alg)) fail(`The key handle's alg must be ${algs.join(' or ')}`);
  publicHalf(handle.publicJwk, kid, handle.alg);
  checked.add(handle);
  return handle;
}

/**
 * A signing key input as a handle: a handle is checked (`kid`, `alg`,
 * `publicJwk`, a `key` function) and returned; a private JWK goes through
 * {@link signingKeyFromJwk}. Code: `unknown_key`.
 *
 * @example
 * ```ts
 * const handle = toSigningKeyHandle(options.signingKey); // at startup: a bad key fails here, not at the first request
 * ```
 */
export function toSigningKeyHandle(input: SigningKeyInput): SigningKeyHandle {
  return isKeyHandle(input) ? checkHandle(input as SigningKeyHandle, SIGNING_ALGORITHMS) : signingKeyFromJwk(input as KeyJwk);
}

/**
 * A decryption key input as a handle: a handle is checked and returned; a
 * private JWK goes through {@link decryptionKeyFromJwk}. Code: `unknown_key`.
 *
 * @example
 * ```ts
 * const handles = options.decryptionKeys.map(toDecryptionKeyHandle);
 * ```
 */
export function toDecryptionKeyHandle(input: DecryptionKeyInput): DecryptionKeyHandle {
  return isKeyHandle(input) ? checkHandle(input as DecryptionKeyHandle, [KEY_MANAGEMENT_ALGORITHM]) : decryptionKeyFromJwk(input as KeyJwk);
}

/**
 * Signs `payload` as a compact JWS (`alg` and `kid` of the key, `typ`) with
 * jose: a JWK is checked as a private ES256 or EdDSA JWK, imported and cached;
 * a handle's `kid` and `alg` are checked and its `key()` used. A key that cannot be had or
 * cannot sign is `unknown_key`. Internal to the signing functions.
 */
export async function signCompact(input: SigningKeyInput, payload: Uint8Array, typ: string): Promise<string> {
  let kid: string;
  let alg: SigningAlgorithm;
  let key: () => JoseKey | Promise<JoseKey | Uint8Array>;
  if (isKeyHandle(input)) {
    // Signing needs the kid and alg only (the public JWK is the verifier's business): a light check.
    kid = checkKid(input.kid);
    alg = input.alg as SigningAlgorithm;
    if (!(SIGNING_ALGORITHMS as readonly string[]).includes(alg)) return fail("The key handle's alg must be ES256 or EdDSA");
    key = () => input.key();
  } else {
    const jwk = input as KeyJwk;
    if (!(SIGNING_ALGORITHMS as readonly string[]).includes(jwk?.alg) || typeof jwk.d !== 'string') {
      return fail('The signing key must be a private ES256 or EdDSA JWK');
    }
    kid = jwk.kid;
    alg = jwk.alg as SigningAlgorithm;
    key = () => importKeyCached(jwk, alg);
  }
  const resolved = await Promise.resolve()
    .then(key)
    .catch((cause: unknown) => {
      throw cause instanceof CryptoError ? cause : new CryptoError('unknown_key', 'The signing key is not available', { cause });
    });
  try {
    return await new CompactSign(payload).setProtectedHeader({ alg, kid, typ }).sign(resolved as JoseKey);
  } catch (cause) {
    throw new CryptoError('unknown_key', `The signing key cannot sign ${alg}`, { cause });
  }
}
