import {
  type Card,
  type Identifiers,
  type JwkPair,
  type KeyJwk,
  type Submission,
  createNonce,
  createRequestClaims,
  createSessionId,
  generateSigningKey,
  sealProvisioningRequest,
  toPublicJwk,
} from '@pushprov/protocol';
import { type KeySet, type TokenServiceConfigInput, generateKeySet } from '@pushprov/token-service';
import { mapConcurrent } from './load.js';

/** The benchmark's sandbox: one ES256 issuer, one wallet provider with an API key, the service's key set. */
export interface Fixture {
  issuer: JwkPair;
  keySet: KeySet;
  /** The service's public encryption key (what issuers encrypt to). */
  serviceEncryptionKey: KeyJwk;
  config: TokenServiceConfigInput;
  card: Card;
}

export const ISSUER_ID = 'bank-bench';
export const SERVICE_ID = 'ts-bench';
export const WALLET_PROVIDER_ID = 'wallet-bench';
/** A synthetic API key of the sandbox (never a real credential). */
export const API_KEY = 'bench-wallet-api-key-0123456789abcdef';

/** Builds a fresh sandbox with new keys. */
export async function createFixture(): Promise<Fixture> {
  const [issuer, keySet] = await Promise.all([generateSigningKey({ alg: 'ES256', kid: 'issuer-bench-1' }), generateKeySet({ kid: 'ts-bench-1', kekId: 'kek-bench-1' })]);
  const config: TokenServiceConfigInput = {
    serviceId: SERVICE_ID,
    keys: keySet,
    issuers: [{ id: ISSUER_ID, jwks: { keys: [issuer.publicJwk] }, binRanges: [{ start: '411111', end: '411111' }], walletProviders: [WALLET_PROVIDER_ID], network: 'visa', decision: 'approve' }],
    walletProviders: [{ id: WALLET_PROVIDER_ID, apiKeys: [API_KEY] }],
    tokenRange: { bin: '489537', length: 16 },
  };
  const year = new Date().getUTCFullYear() + 3;
  return {
    issuer,
    keySet,
    serviceEncryptionKey: toPublicJwk(keySet.encryptionKeys.keys[0]!),
    config,
    card: { pan: '4111111111111111', expiry: { month: 12, year }, cardholderName: 'Bench Holder' },
  };
}

/** Fresh identifiers: a new session, nonce and device each time, so every request issues a new token. */
export function createBenchIdentifiers(index: number): Identifiers {
  return {
    type: 'identifiers',
    version: 1,
    sessionId: createSessionId(),
    walletProviderId: WALLET_PROVIDER_ID,
    walletAccountId: `user-${index % 1000}`,
    deviceId: `dev-${createNonce().slice(0, 16)}`,
    nonce: createNonce(),
  };
}

/** A submission ready to send: its JSON body and an idempotency key. */
export interface PreparedRequest {
  body: string;
  idempotencyKey: string;
}

/** Builds one valid, unique submission (claims bound to fresh identifiers, signed and encrypted by the protocol). */
export async function prepareRequest(fx: Fixture, index: number): Promise<PreparedRequest> {
  const identifiers = createBenchIdentifiers(index);
  const claims = createRequestClaims({ issuerId: ISSUER_ID, audience: SERVICE_ID, identifiers, card: fx.card });
  const encryptedRequest = await sealProvisioningRequest({ claims, signingKey: fx.issuer.privateJwk, encryptionKey: fx.serviceEncryptionKey });
  const submission: Submission = {
    type: 'submission',
    version: 1,
    sessionId: identifiers.sessionId,
    walletAccountId: identifiers.walletAccountId,
    deviceId: identifiers.deviceId,
    nonce: identifiers.nonce,
    encryptedRequest,
  };
  return { body: JSON.stringify(submission), idempotencyKey: `idem-${createNonce()}` };
}

/** Builds `count` unique submissions, 64 at a time (not timed). */
export function prepareRequests(fx: Fixture, count: number): Promise<PreparedRequest[]> {
  return mapConcurrent(count, 64, (i) => prepareRequest(fx, i));
}
