/**
 * A complete sandbox for the suite: an issuer (ES256 and EdDSA keys, BIN
 * range 411111), two wallet providers (API keys, one also with client
 * assertion keys), the token service's key set and configuration, and an
 * injected clock. Requests are built with the protocol's own functions, so a
 * valid one is valid by construction and every bad one differs in one way.
 */
import { createHash } from 'node:crypto';
import {
  type Card,
  deviceKeyThumbprint,
  type Identifiers,
  type JwkPair,
  type KeyJwk,
  type RandomSource,
  type RequestClaims,
  type Submission,
  createNonce,
  createRequestClaims,
  createSessionId,
  generateEncryptionKey,
  generateSigningKey,
  manualClock,
  sealProvisioningRequest,
  toPublicJwk,
} from '@pushprov/protocol';
import { type KeySet, type TokenServiceConfigInput, generateKeySet } from '@pushprov/token-service';
import { CANARY_PAN } from './canary.js';
import { encryptCompact, signCompact } from './jose-craft.js';

export const SERVICE_ID = 'ts-security';
export const ISSUER_ID = 'bank-sec';
export const WALLET = 'wallet-sec';
export const OTHER_WALLET = 'wallet-rival';
export const API_KEY = 'wallet-sec-api-key-6f1c0b3e9d2a4c58b7e1';
export const OTHER_API_KEY = 'wallet-rival-api-key-0d9e8f7a6b5c4d3e2f1a';
export const TOKEN_BIN = '489537';
export const ISSUER_KID = 'issuer-es-1';
export const ISSUER_ED_KID = 'issuer-ed-1';
export const SERVICE_KID = 'svc-sec-1';
/** 14 March 2027, 09:26:53 UTC: the injected "now" of every deterministic test. */
export const NOW = Date.UTC(2027, 2, 14, 9, 26, 53);
export const NOW_SECONDS = Math.floor(NOW / 1000);
/** The canary card, valid until the end of 2031. */
export const CANARY_CARD: Card = { pan: CANARY_PAN, expiry: { month: 12, year: 2031 }, cardholderName: 'Grace Hopper' };

/** A manual clock with `advance` and `set`. */
export type ManualClock = ReturnType<typeof manualClock>;

/** Keys, configuration and clock of one sandbox. */
export interface Sandbox {
  clock: ManualClock;
  issuer: JwkPair;
  issuerEd: JwkPair;
  keySet: KeySet;
  /** The service's public encryption key (what issuers encrypt to). */
  serviceKey: KeyJwk;
  /** The service's private encryption key (to craft JWEs a real issuer could not). */
  servicePrivateKey: KeyJwk;
  /** The wallet provider's client assertion key (EdDSA). */
  walletSigning: JwkPair;
  config: TokenServiceConfigInput;
}

/** Builds a sandbox with fresh keys. */
export async function createSandbox(options: { now?: number; config?: (config: TokenServiceConfigInput) => TokenServiceConfigInput } = {}): Promise<Sandbox> {
  const [issuer, issuerEd, walletSigning, keySet] = await Promise.all([
    generateSigningKey({ alg: 'ES256', kid: ISSUER_KID }),
    generateSigningKey({ alg: 'EdDSA', kid: ISSUER_ED_KID }),
    generateSigningKey({ alg: 'EdDSA', kid: 'wallet-sec-sig-1' }),
    generateKeySet({ kid: SERVICE_KID, kekId: 'kek-sec-1' }),
  ]);
  let config: TokenServiceConfigInput = {
    serviceId: SERVICE_ID,
    keys: keySet,
    issuers: [
      {
        id: ISSUER_ID,
        jwks: { keys: [issuer.publicJwk, issuerEd.publicJwk] },
        binRanges: [{ start: '411111', end: '411111' }],
        walletProviders: [WALLET, OTHER_WALLET],
        network: 'visa',
      },
    ],
    walletProviders: [
      { id: WALLET, apiKeys: [API_KEY], jwks: { keys: [walletSigning.publicJwk] } },
      { id: OTHER_WALLET, apiKeys: [OTHER_API_KEY] },
    ],
    tokenRange: { bin: TOKEN_BIN, length: 16 },
    lifetimes: { clockSkewSeconds: 60, maxRequestSeconds: 900 },
    limits: { maxBodyBytes: 32_768, hookTimeoutMs: 2_000 },
  };
  if (options.config) config = options.config(config);
  const servicePrivateKey = keySet.encryptionKeys.keys[0] as KeyJwk;
  return {
    clock: manualClock(options.now ?? NOW),
    issuer,
    issuerEd,
    keySet,
    serviceKey: toPublicJwk(servicePrivateKey),
    servicePrivateKey,
    walletSigning,
    config,
  };
}

/** A deterministic random source (SHA-256 counter mode): distinct, reproducible values. */
export function seededRandom(seed: string): RandomSource {
  let counter = 0;
  let pool: Uint8Array = new Uint8Array(0);
  return {
    bytes(length) {
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i++) {
        if (pool.length === 0) pool = createHash('sha256').update(`${seed}/${counter++}`).digest();
        out[i] = pool[0]!;
        pool = pool.subarray(1);
      }
      return out;
    },
  };
}

/** Fresh wallet identifiers: a new session, nonce and device each time unless overridden. */
export function createIdentifiers(overrides: Partial<Identifiers> = {}): Identifiers {
  return {
    type: 'identifiers',
    version: 1,
    sessionId: createSessionId(),
    walletProviderId: WALLET,
    walletAccountId: 'user-7',
    deviceId: `device-${createNonce().slice(0, 12)}`,
    nonce: createNonce(),
    ...overrides,
  };
}

/** Options of {@link buildRequest}. */
export interface BuildRequestOptions {
  identifiers?: Identifiers;
  card?: Card;
  lifetimeSeconds?: number;
  /** Bends the claims (the result is signed without any schema check). */
  claims?: (claims: RequestClaims) => unknown;
  /** Claims serialised by the caller (e.g. with duplicate members): signed as is. */
  claimsText?: (claims: RequestClaims) => string;
  /** The JWS protected header, replacing the valid one. */
  jwsHeader?: (header: Record<string, unknown>) => Record<string, unknown>;
  /** Signs with this key instead of the issuer's ES256 key. */
  signingKey?: KeyJwk;
  /** The JWE protected header (besides `epk`), replacing the valid one. */
  jweHeader?: (header: Record<string, unknown>) => Record<string, unknown>;
  /** Bends the submission. */
  submission?: (submission: Submission) => unknown;
  devicePublicKey?: Submission['devicePublicKey'];
  clock?: { now(): number };
}

/** A built request: the submission to POST and what went into it. */
export interface BuiltRequest {
  submission: Submission;
  /** The body as it will be sent (after `options.submission`). */
  body: unknown;
  claims: RequestClaims;
  identifiers: Identifiers;
}

/**
 * A provisioning request for the canary card, valid unless bent by an
 * option. Without bending options it is sealed by the protocol's own
 * `sealProvisioningRequest`; with them, by the suite's JOSE crafting
 * functions (same profile, no checks).
 */
export async function buildRequest(sb: Sandbox, options: BuildRequestOptions = {}): Promise<BuiltRequest> {
  const identifiers = options.identifiers ?? createIdentifiers();
  const claims = createRequestClaims({
    issuerId: ISSUER_ID,
    audience: SERVICE_ID,
    identifiers,
    card: options.card ?? CANARY_CARD,
    clock: options.clock ?? sb.clock,
    ...(options.lifetimeSeconds === undefined ? {} : { lifetimeSeconds: options.lifetimeSeconds }),
    // The issuer binds the device key the wallet sent (cnf.jkt).
    ...(options.devicePublicKey === undefined ? {} : { deviceKeyThumbprint: await deviceKeyThumbprint(options.devicePublicKey) }),
  });
  const bent = options.claims ?? options.claimsText ?? options.jwsHeader ?? options.signingKey ?? options.jweHeader;
  let encryptedRequest: string;
  if (bent === undefined) {
    encryptedRequest = await sealProvisioningRequest({ claims, signingKey: sb.issuer.privateJwk, encryptionKey: sb.serviceKey });
  } else {
    const signingKey = options.signingKey ?? sb.issuer.privateJwk;
    const payload = options.claimsText ? options.claimsText(claims) : JSON.stringify(options.claims ? options.claims(claims) : claims);
    const baseJws = { alg: signingKey.alg, kid: signingKey.kid, typ: 'pushprov-request+jwt' };
    const jws = await signCompact(options.jwsHeader ? options.jwsHeader(baseJws) : baseJws, payload, signingKey);
    const baseJwe = { alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: sb.serviceKey.kid, cty: 'JWT' };
    encryptedRequest = encryptCompact(options.jweHeader ? options.jweHeader(baseJwe) : baseJwe, jws, sb.serviceKey);
  }
  const submission: Submission = {
    type: 'submission',
    version: 1,
    sessionId: identifiers.sessionId,
    walletAccountId: identifiers.walletAccountId,
    deviceId: identifiers.deviceId,
    nonce: identifiers.nonce,
    encryptedRequest,
  };
  if (options.devicePublicKey) submission.devicePublicKey = options.devicePublicKey;
  return { submission, body: options.submission ? options.submission(submission) : submission, claims, identifiers };
}

/** A device key pair for access data encrypted to the device. */
export async function createDeviceKey() {
  const pair = await generateEncryptionKey({ kid: 'device-sec-1' });
  const { kty, crv, x, y } = pair.publicJwk;
  return { privateJwk: pair.privateJwk, publicJwk: { kty: kty as 'EC', crv: crv as 'P-256', x: x!, y: y! } };
}
