// Test helpers: a complete sandbox (issuer, wallet provider, service keys,
// config) and builders for provisioning requests, valid or tampered.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CompactEncrypt, CompactSign } from 'jose';
import {
  deviceKeyThumbprint,
  type Card,
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
import { sha256 } from '@noble/hashes/sha2.js';
import { type KeySet, type TokenServiceConfigInput, generateKeySet } from '../src/index.js';

/** The canary PAN of the suite: it must never appear outside the sealed vault. */
export const PAN = '4111111111111111';
/** A second card of the same issuer range. */
export const PAN_2 = '4111111111111129';
/** A card the sandbox decision rules decline (last four 0002). */
export const PAN_DECLINE = '4111110000030002';
/** A card the sandbox decision rules step up (last four 0010). */
export const PAN_STEP_UP = '4111110000030010';
export const CARD: Card = { pan: PAN, expiry: { month: 12, year: 2030 }, cardholderName: 'Ada Lovelace' };
export const ISSUER_ID = 'bank-a';
export const SERVICE_ID = 'ts-sandbox';
export const WALLET = 'wallet-co';
export const OTHER_WALLET = 'wallet-two';
export const API_KEY = 'wallet-co-test-api-key-0123456789abcdef';
export const OTHER_API_KEY = 'wallet-two-test-api-key-0123456789abcdef';
export const TOKEN_BIN = '489537';
/** 28 November 2026, 12:00 UTC. */
export const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);

/** A deterministic random source (SHA-256 counter mode) for tests: distinct values, reproducible. */
export function seededRandom(seed: string): RandomSource {
  let counter = 0;
  let pool = new Uint8Array(0);
  return {
    bytes(length) {
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i++) {
        if (pool.length === 0) pool = sha256(new TextEncoder().encode(`${seed}/${counter++}`));
        out[i] = pool[0]!;
        pool = pool.subarray(1);
      }
      return out;
    },
  };
}

/** Everything a test needs: keys, config, clock. */
export interface Fixture {
  clock: ReturnType<typeof manualClock>;
  issuer: JwkPair;
  keySet: KeySet;
  serviceEncryptionKey: KeyJwk;
  walletSigning: JwkPair;
  config: TokenServiceConfigInput;
}

/** Builds a sandbox: one issuer (ES256, range 411111), two wallet providers, a token range. */
export async function createFixture(): Promise<Fixture> {
  const [issuer, walletSigning, keySet] = await Promise.all([
    generateSigningKey({ alg: 'ES256', kid: 'issuer-1' }),
    generateSigningKey({ alg: 'EdDSA', kid: 'wallet-sig-1' }),
    generateKeySet({ kid: 'svc-1', kekId: 'kek-1' }),
  ]);
  const config: TokenServiceConfigInput = {
    serviceId: SERVICE_ID,
    keys: keySet,
    issuers: [
      {
        id: ISSUER_ID,
        jwks: { keys: [issuer.publicJwk] },
        binRanges: [{ start: '411111', end: '411111' }],
        walletProviders: [WALLET, OTHER_WALLET],
        network: 'visa',
        decision: { default: 'approve', byLast4: { '0002': 'decline', '0010': 'step_up' } },
      },
    ],
    walletProviders: [
      { id: WALLET, apiKeys: [API_KEY], jwks: { keys: [walletSigning.publicJwk] } },
      { id: OTHER_WALLET, apiKeys: [OTHER_API_KEY] },
    ],
    tokenRange: { bin: TOKEN_BIN, length: 16 },
  };
  return { clock: manualClock(NOW), issuer, keySet, serviceEncryptionKey: toPublicJwk(keySet.encryptionKeys.keys[0]!), walletSigning, config };
}

/** Fresh wallet identifiers (a new session, nonce and device each time, unless overridden). */
export function createIdentifiers(overrides: Partial<Identifiers> = {}): Identifiers {
  return {
    type: 'identifiers',
    version: 1,
    sessionId: createSessionId(),
    walletProviderId: WALLET,
    walletAccountId: 'user-42',
    deviceId: `device-${createNonce().slice(0, 10)}`,
    nonce: createNonce(),
    ...overrides,
  };
}

/** Options of {@link buildSubmission}. */
export interface BuildOptions {
  identifiers?: Identifiers;
  card?: Card;
  accountRef?: string;
  /** The `accountId` claim. */
  accountId?: string;
  /** Changes the claims after they are built (then sealed without schema checks). */
  claims?: (claims: RequestClaims) => Record<string, unknown>;
  /** Changes the submission after it is built. */
  submission?: (submission: Submission) => Record<string, unknown>;
  devicePublicKey?: Submission['devicePublicKey'];
  lifetimeSeconds?: number;
}

/** A valid submission (and what went into it), built with the protocol's own `createRequestClaims` + `sealProvisioningRequest`. */
export async function buildSubmission(fx: Fixture, options: BuildOptions = {}) {
  const identifiers = options.identifiers ?? createIdentifiers();
  const claims = createRequestClaims({
    issuerId: ISSUER_ID,
    audience: SERVICE_ID,
    identifiers,
    ...(options.accountRef === undefined ? { card: options.card ?? CARD } : { accountRef: options.accountRef }),
    ...(options.accountId === undefined ? {} : { accountId: options.accountId }),
    clock: fx.clock,
    ...(options.lifetimeSeconds === undefined ? {} : { lifetimeSeconds: options.lifetimeSeconds }),
    ...(options.devicePublicKey === undefined ? {} : { deviceKeyThumbprint: await deviceKeyThumbprint(options.devicePublicKey) }),
  });
  const encryptedRequest = options.claims
    ? await sealRaw({ payload: options.claims(claims), signingKey: fx.issuer.privateJwk, encryptionKey: fx.serviceEncryptionKey })
    : await sealProvisioningRequest({ claims, signingKey: fx.issuer.privateJwk, encryptionKey: fx.serviceEncryptionKey });
  let submission: Submission = {
    type: 'submission',
    version: 1,
    sessionId: identifiers.sessionId,
    walletAccountId: identifiers.walletAccountId,
    deviceId: identifiers.deviceId,
    nonce: identifiers.nonce,
    encryptedRequest,
  };
  if (options.devicePublicKey) submission.devicePublicKey = options.devicePublicKey;
  if (options.submission) submission = options.submission(submission) as Submission;
  return { submission, claims, identifiers };
}

/** Options of {@link sealRaw}: every part can be bent. */
export interface SealRawOptions {
  payload: unknown;
  signingKey: KeyJwk;
  encryptionKey: KeyJwk;
  jwsHeader?: Record<string, unknown>;
  jweHeader?: Record<string, unknown>;
  /** Replace the JWS entirely (e.g. a payload that is not a JWS). */
  jws?: string;
}

/** Signs and encrypts without any schema check, so tests can build malformed or tampered requests. */
export async function sealRaw(options: SealRawOptions): Promise<string> {
  const { importJWK } = await import('jose');
  const jws =
    options.jws ??
    (await new CompactSign(new TextEncoder().encode(typeof options.payload === 'string' ? options.payload : JSON.stringify(options.payload)))
      .setProtectedHeader({ alg: options.signingKey.alg, kid: options.signingKey.kid, typ: 'pushprov-request+jwt', ...options.jwsHeader } as never)
      .sign(await importJWK(options.signingKey, options.signingKey.alg)));
  return new CompactEncrypt(new TextEncoder().encode(jws))
    .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: options.encryptionKey.kid, cty: 'JWT', ...options.jweHeader } as never)
    .encrypt(await importJWK({ ...options.encryptionKey, alg: 'ECDH-ES+A256KW' }, 'ECDH-ES+A256KW'));
}

/** A device key pair for encrypted access data. */
export async function createDeviceKey() {
  const pair = await generateEncryptionKey({ kid: 'device-key-1' });
  const { kty, crv, x, y } = pair.publicJwk;
  return { privateJwk: pair.privateJwk, publicJwk: { kty: kty as 'EC', crv: crv as 'P-256', x: x!, y: y! } };
}

/** A temporary directory, removed by the returned function. */
export function createTempDir(prefix = 'token-service-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Row counts of every table, read through a separate read-only connection (not the store under test). */
export function countRows(dbPath: string): Record<'tokens' | 'vault' | 'replay' | 'idempotency', number> {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const count = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return { tokens: count('tokens'), vault: count('vault'), replay: count('replay'), idempotency: count('idempotency') };
  } finally {
    db.close();
  }
}

/** Every text column of every table, joined: to search for a canary PAN. */
export function dumpDatabase(dbPath: string): string {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return ['tokens', 'vault', 'replay', 'idempotency']
      .map((table) => JSON.stringify(db.prepare(`SELECT * FROM ${table}`).all()))
      .join('\n');
  } finally {
    db.close();
  }
}

/** POSTs a submission to a running server. */
export function postSubmission(
  url: string,
  body: unknown,
  options: { apiKey?: string; authorization?: string; idempotencyKey?: string | null; contentType?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? 'application/json',
    authorization: options.authorization ?? `Bearer ${options.apiKey ?? API_KEY}`,
  };
  if (options.idempotencyKey !== null) headers['idempotency-key'] = options.idempotencyKey ?? `key-${createSessionId()}`;
  return fetch(`${url}/v1/provisioning-requests`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** What `/.well-known/jwks.json` publishes after the encryption keys: the key set's notification signing keys, public, `use: sig`. */
export function publishedSigningKeys(keySet: KeySet): KeyJwk[] {
  return (keySet.signingKeys?.keys ?? []).map((k) => ({ ...toPublicJwk(k as KeyJwk), use: 'sig' }));
}
