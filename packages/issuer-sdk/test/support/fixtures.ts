import {
  type Card,
  type Identifiers,
  type JwkPair,
  type Jwks,
  type PublicEcJwk,
  createMemoryChannelPair,
  createNonce,
  createSessionId,
  generateEncryptionKey,
  generateSigningKey,
  manualClock,
  toPublicJwk,
} from '@pushprov/protocol';
import { createIssuerClient, type IssuerClientOptions, type ProvisioningSessionEvent } from '../../src/index.js';
import { createLocalRequestBuilder } from '../../src/local.js';
import { TEST_PAN } from './pan-guard.js';
import { WalletDouble } from './wallet-double.js';

export const ISSUER_ID = 'bank-a';
export const AUDIENCE = 'token-service';
export const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);

export const CARD: Card = { pan: TEST_PAN, expiry: { month: 12, year: 2029 }, cardholderName: 'Ada Lovelace' };
export const ACCOUNT = { last4: '1111', network: 'visa', productName: 'Everyday Debit' } as const;

/** A wallet's identifiers for a new session (fresh session id and nonce). */
export const identifiers = (): Identifiers => ({
  type: 'identifiers',
  version: 1,
  sessionId: createSessionId(),
  walletProviderId: 'wallet-co',
  walletAccountId: 'user-42',
  deviceId: 'device-7',
  nonce: createNonce(),
});

export interface Keys {
  issuer: JwkPair;
  service: JwkPair;
  /** The wallet double's device key. */
  device: JwkPair;
  issuerPublic: Jwks;
  servicePublic: Jwks;
  servicePrivate: Jwks;
}

let cached: Keys | undefined;

/** Issuer signing and token service encryption keys, made once per test file. */
export async function keys(): Promise<Keys> {
  if (!cached) {
    const issuer = await generateSigningKey({ kid: 'issuer-1' });
    const service = await generateEncryptionKey({ kid: 'svc-1' });
    const device = await generateEncryptionKey(); // its kid is its RFC 7638 thumbprint
    cached = {
      issuer,
      service,
      device,
      issuerPublic: { keys: [toPublicJwk(issuer.publicJwk)] },
      servicePublic: { keys: [toPublicJwk(service.publicJwk)] },
      servicePrivate: { keys: [service.privateJwk] },
    };
  }
  return cached;
}

/** An in-memory setup: issuer client with a local builder, a wallet double on the other end, and an event log. */
export async function setup(overrides: Partial<IssuerClientOptions> = {}) {
  const k = await keys();
  const clock = manualClock(NOW);
  const pair = createMemoryChannelPair();
  const requestSource = createLocalRequestBuilder({
    sandbox: true,
    issuerId: ISSUER_ID,
    signingKey: k.issuer.privateJwk,
    tokenService: { audience: AUDIENCE, jwks: k.servicePublic },
    clock,
  });
  const issuer = createIssuerClient({ issuerId: ISSUER_ID, requestSource, clock, ...overrides });
  const wallet = new WalletDouble({
    channel: pair.wallet,
    decryptionKeys: k.servicePrivate,
    issuerKeys: k.issuerPublic,
    audience: AUDIENCE,
    clock,
    devicePublicKey: toPublicJwk(k.device.publicJwk) as PublicEcJwk,
  });
  const events: ProvisioningSessionEvent[] = [];
  return { keys: k, clock, pair, issuer, wallet, events };
}

/** The states a session went through, from its events. */
export function statesOf(events: readonly ProvisioningSessionEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'state' ? [e.state] : []));
}

/** The codes of the message_rejected events. */
export function rejectedCodes(events: readonly ProvisioningSessionEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'message_rejected' ? [e.error.code] : []));
}

/** Resolves when `predicate` holds for an event of the session. */
export function whenEvent(
  session: { subscribe(l: (e: ProvisioningSessionEvent) => void): () => void },
  predicate: (e: ProvisioningSessionEvent) => boolean,
): Promise<ProvisioningSessionEvent> {
  return new Promise((resolve) => {
    const off = session.subscribe((e) => {
      if (predicate(e)) {
        off();
        resolve(e);
      }
    });
  });
}
