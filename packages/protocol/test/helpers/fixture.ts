import { expect } from 'vitest';
import {
  type Card,
  type Identifiers,
  type JwkPair,
  type KeyJwk,
  type OpenProvisioningRequestOptions,
  ProvisioningError,
  type RequestClaims,
  createRequestClaims,
  generateEncryptionKey,
  generateSigningKey,
  manualClock,
  sealProvisioningRequest,
  sequenceRandom,
  toBase64Url,
} from '../../src/index.js';

/** The test PAN (Visa test number). */
export const PAN = '4111111111111111';
/** A second valid PAN outside the 411111 range. */
export const OTHER_PAN = '5555555555554444';
/** A fixed instant: 2099-06-15T12:00:00Z, far from the wall clock. */
export const NOW_MS = Date.UTC(2099, 5, 15, 12, 0, 0);
/** The same instant in seconds. */
export const NOW = NOW_MS / 1000;

/** A deterministic base64url id of 16 bytes filled with `byte`. */
export function fixedId(byte: number): string {
  return toBase64Url(new Uint8Array(16).fill(byte));
}

/** Identifiers of a wallet for one session. */
export function sampleIdentifiers(overrides: Partial<Identifiers> = {}): Identifiers {
  return {
    type: 'identifiers',
    version: 1,
    sessionId: fixedId(1),
    walletProviderId: 'wallet-co',
    walletAccountId: 'user-42',
    deviceId: 'device-7',
    nonce: fixedId(2),
    ...overrides,
  };
}

/** A valid card. */
export function sampleCard(overrides: Partial<Card> = {}): Card {
  return { pan: PAN, expiry: { month: 12, year: 2101 }, cardholderName: 'Ada Lovelace', ...overrides };
}

/** Keys and options of a token service that trusts one issuer. */
export interface Fixture {
  issuer: JwkPair;
  issuerEd: JwkPair;
  service: JwkPair;
  identifiers: Identifiers;
  claims: RequestClaims;
  clock: ReturnType<typeof manualClock>;
  options: OpenProvisioningRequestOptions;
  seal(claims?: RequestClaims, signingKey?: KeyJwk): Promise<string>;
  /** Claims with `overrides` applied (no validation). */
  claimsWith(overrides: Record<string, unknown>): RequestClaims;
}

/** Creates keys, identifiers, claims and opening options at {@link NOW_MS}. */
export async function createFixture(): Promise<Fixture> {
  const [issuer, issuerEd, service] = await Promise.all([
    generateSigningKey({ alg: 'ES256', kid: 'bank-a-1' }),
    generateSigningKey({ alg: 'EdDSA', kid: 'bank-a-ed' }),
    generateEncryptionKey({ kid: 'ts-1' }),
  ]);
  const clock = manualClock(NOW_MS);
  const identifiers = sampleIdentifiers();
  const claims = createRequestClaims({
    issuerId: 'bank-a',
    audience: 'token-service',
    identifiers,
    card: sampleCard(),
    clock,
    random: sequenceRandom(new Uint8Array([3])),
  });
  const issuerKeys = [issuer.publicJwk, issuerEd.publicJwk];
  const options: OpenProvisioningRequestOptions = {
    decryptionKeys: { keys: [service.privateJwk] },
    issuerKeys: (iss, kid) => (iss === 'bank-a' ? issuerKeys.find((k) => k.kid === kid) : undefined),
    audience: 'token-service',
    clock,
  };
  return {
    issuer,
    issuerEd,
    service,
    identifiers,
    claims,
    clock,
    options,
    seal: (c = claims, signingKey = issuer.privateJwk) =>
      sealProvisioningRequest({ claims: c, signingKey, encryptionKey: service.publicJwk }),
    claimsWith: (overrides) => ({ ...claims, ...overrides }) as RequestClaims,
  };
}

/** Runs `fn`, expects a ProvisioningError with `code`, and returns it. */
export async function expectCode(fn: () => unknown, code: string): Promise<ProvisioningError> {
  let caught: unknown;
  try {
    await fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected an error with code ${code}`).toBeDefined();
  expect(caught).toBeInstanceOf(ProvisioningError);
  expect(caught).toMatchObject({ code });
  return caught as ProvisioningError;
}

/** Everything an error exposes as text: message, toString, JSON, details, inspect. */
export async function exposedText(error: unknown): Promise<string> {
  const { inspect } = await import('node:util');
  const e = error as Error;
  return [e.message, String(e), JSON.stringify(e), e.stack ?? '', inspect(e, { depth: 5 })].join('\n');
}
