import { inspect } from 'node:util';
import {
  type AppChannel,
  type Jwks,
  createMemoryChannelPair,
  generateEncryptionKey,
  generateSigningKey,
  manualClock,
  toPublicJwk,
} from '@pushprov/protocol';
import { expect } from 'vitest';
import { type HttpTokenServiceClientOptions, createHttpTokenServiceClient } from '../../src/http.js';
import { type WalletEvent, type WalletOptions, createMemoryTokenStore, createWallet } from '../../src/index.js';
import { CANARY_PAN, createIssuerDouble } from './issuer-double.js';
import { type TokenServiceDouble, type TokenServiceDoubleOptions, startTokenServiceDouble } from './token-service-double.js';

export const AUDIENCE = 'token-service';
export const ISSUER_ID = 'bank-a';
export const PROVIDER_ID = 'wallet-co';
export const API_KEY = 'sk_test_wallet_co_0123456789';
export const START = Date.UTC(2026, 10, 28, 12, 0, 0);

/** Keys are slow-ish to make; share one set per test file. */
export async function makeKeys() {
  const [issuer, otherIssuer, service, provider] = await Promise.all([
    generateSigningKey({ kid: 'bank-a-1' }),
    generateSigningKey({ kid: 'bank-a-1' }),
    generateEncryptionKey({ kid: 'ts-1' }),
    generateSigningKey({ kid: 'wallet-co-1' }),
  ]);
  return { issuer, otherIssuer, service, provider };
}
export type Keys = Awaited<ReturnType<typeof makeKeys>>;

export const jwksOf = (...pairs: { publicJwk: Parameters<typeof toPublicJwk>[0] }[]): Jwks => ({ keys: pairs.map((p) => toPublicJwk(p.publicJwk)) });

/** Everything for one flow: doubles, channel, wallet, and a recorder of all that is emitted. */
export async function setupFlow(
  keys: Keys,
  overrides: {
    wallet?: Partial<WalletOptions>;
    client?: Partial<HttpTokenServiceClientOptions>;
    tokenStatus?: 'active' | 'pending_activation';
    serviceUrl?: string;
    alterAccessData?: TokenServiceDoubleOptions['alterAccessData'];
  } = {},
) {
  const clock = manualClock(START);
  const service = await startTokenServiceDouble({
    audience: AUDIENCE,
    serviceKey: keys.service,
    issuers: { [ISSUER_ID]: jwksOf(keys.issuer) },
    apiKeys: { [API_KEY]: PROVIDER_ID },
    providers: { [PROVIDER_ID]: jwksOf(keys.provider) },
    clock,
    ...(overrides.tokenStatus && { tokenStatus: overrides.tokenStatus }),
    ...(overrides.alterAccessData && { alterAccessData: overrides.alterAccessData }),
  });
  const issuer = createIssuerDouble({ issuerId: ISSUER_ID, signingKey: keys.issuer, serviceKey: keys.service.publicJwk, audience: AUDIENCE, clock });
  const { issuer: issuerEnd, wallet: walletEnd } = createMemoryChannelPair();
  const events: WalletEvent[] = [];
  const delays: number[] = [];
  const tokenStore = createMemoryTokenStore();
  const tokenService = createHttpTokenServiceClient({
    baseUrl: overrides.serviceUrl ?? service.url,
    auth: { apiKey: API_KEY },
    clock,
    timeoutMs: 5_000,
    sleep: async (ms) => {
      delays.push(ms);
    },
    ...overrides.client,
  });
  const consentPrompts: unknown[] = [];
  const wallet = createWallet({
    identity: () => ({ walletProviderId: PROVIDER_ID, walletAccountId: 'user-42', deviceId: 'device-7' }),
    consent: (prompt) => {
      consentPrompts.push(prompt);
      return true;
    },
    tokenService,
    tokenStore,
    trustedIssuers: { [ISSUER_ID]: jwksOf(keys.issuer) },
    clock,
    onEvent: (event) => events.push(event),
    timeoutMs: 10_000,
    ...overrides.wallet,
  });
  return { clock, service, issuer, issuerEnd, walletEnd, events, delays, tokenStore, wallet, consentPrompts };
}

/**
 * Serialises everything a host could see or log (JSON and `util.inspect`, with
 * causes) and asserts that no PAN and no issued token number is in it.
 */
export function expectNoSecrets(service: TokenServiceDouble | undefined, ...things: unknown[]): void {
  const text = things.map((t) => `${safeJson(t)}\n${inspect(t, { depth: 12, showHidden: false })}`).join('\n');
  const secrets = [CANARY_PAN, ...(service?.issued.map((t) => t.tokenNumber) ?? [])];
  for (const secret of secrets) {
    expect(text).not.toContain(secret);
    expect(text).not.toContain(secret.replace(/(\d{4})(?=\d)/g, '$1 '));
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}

/** Runs the issuer side in the background and returns its promise, never rejecting. */
export function settle<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

export type { AppChannel };
