// The wallet SDK's token query (`queryTokens` of `@pushprov/wallet-sdk/http`)
// over real HTTP on 127.0.0.1 against the real token service (SQLite in a
// temporary folder): the live tokens of a wallet account for some of an
// issuer's accounts, with their devices and states, and never another wallet
// provider's, another issuer's or a deleted one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type JwkPair,
  type ProvisioningError,
  createNonce,
  createRequestClaims,
  createSessionId,
  generateSigningKey,
  isProvisioningError,
  luhnCheckDigit,
  sealProvisioningRequest,
  toPublicJwk,
} from '@pushprov/protocol';
import { type TokenServiceConfigInput, generateKeySet } from '@pushprov/token-service';
import { type RunningTokenServer, startTokenServer } from '@pushprov/token-service/server';
import { type HttpTokenServiceClient, createHttpTokenServiceClient } from '@pushprov/wallet-sdk/http';

const SERVICE_ID = 'ts-token-query';
const WALLET_TWO_KEY = 'wallet-two-api-key-0123456789abcdef0123';

let server: RunningTokenServer;
let bankA: JwkPair;
let bankB: JwkPair;
let walletCoKey: JwkPair;
let keySet: Awaited<ReturnType<typeof generateKeySet>>;
const scratch = mkdtempSync(join(tmpdir(), 'pushprov-token-query-sdk-'));
/** Every card and token number provisioned: no answer may hold one. */
const numbers: string[] = [];

beforeAll(async () => {
  [bankA, bankB, walletCoKey, keySet] = await Promise.all([
    generateSigningKey({ kid: 'bank-a-1' }),
    generateSigningKey({ kid: 'bank-b-1' }),
    generateSigningKey({ alg: 'EdDSA', kid: 'wallet-co-1' }),
    generateKeySet({ kid: 'ts-enc-1' }),
  ]);
  const config: TokenServiceConfigInput = {
    serviceId: SERVICE_ID,
    keys: keySet,
    issuers: [
      { id: 'bank-a', jwks: { keys: [bankA.publicJwk] }, binRanges: [{ start: '411111', end: '411111' }], walletProviders: ['wallet-co', 'wallet-two'], network: 'visa' },
      { id: 'bank-b', jwks: { keys: [bankB.publicJwk] }, binRanges: [{ start: '522222', end: '522222' }], walletProviders: ['wallet-co'], network: 'mastercard' },
    ],
    walletProviders: [
      { id: 'wallet-co', jwks: { keys: [walletCoKey.publicJwk] } },
      { id: 'wallet-two', apiKeys: [WALLET_TWO_KEY] },
    ],
    tokenRange: { bin: '489537', length: 16 },
  };
  server = await startTokenServer({
    config,
    dbPath: join(scratch, 'tokens.db'),
    purgeIntervalMs: 0,
    logLevel: 'error',
    // A card whose last four start with 9 is stepped up with an SMS code (delivered nowhere: the test only needs it sent).
    decide: ({ panLast4 }) => (panLast4.startsWith('9') ? { decision: 'step_up', methods: [{ id: 'sms', type: 'otp_sms', destination: '•••• 0199' }] } : 'approve'),
    sendVerificationCode: () => undefined,
  });
});

afterAll(async () => {
  await server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

const walletCo = (): HttpTokenServiceClient =>
  createHttpTokenServiceClient({ baseUrl: server.url, auth: { walletProviderId: 'wallet-co', audience: SERVICE_ID, signingKey: walletCoKey.privateJwk } });
const walletTwo = (): HttpTokenServiceClient => createHttpTokenServiceClient({ baseUrl: server.url, auth: { apiKey: WALLET_TWO_KEY } });

let cardNo = 0;
/** A card of an issuer's range, distinct per call; `stepUp` makes its last four start with 9. */
const newPan = (bin: '411111' | '522222', stepUp = false) => {
  const body = `${bin}${stepUp ? '9' : '0'}${String(++cardNo).padStart(5, '0')}${stepUp ? '900' : '000'}`;
  return `${body}${luhnCheckDigit(body)}`;
};

/** Provisions a card of `issuerId` to `wallet`'s `walletAccountId` on `deviceId` through the wallet SDK's HTTP client. */
async function provision(options: { issuerId: 'bank-a' | 'bank-b'; wallet: 'wallet-co' | 'wallet-two'; walletAccountId: string; deviceId: string; accountId: string; stepUp?: boolean }) {
  const pan = newPan(options.issuerId === 'bank-a' ? '411111' : '522222', options.stepUp);
  const identifiers = {
    type: 'identifiers' as const,
    version: 1 as const,
    sessionId: createSessionId(),
    walletProviderId: options.wallet,
    walletAccountId: options.walletAccountId,
    deviceId: options.deviceId,
    nonce: createNonce(),
  };
  const claims = createRequestClaims({ issuerId: options.issuerId, audience: SERVICE_ID, identifiers, card: { pan, expiry: { month: 12, year: 2031 } }, accountId: options.accountId });
  const encryptedRequest = await sealProvisioningRequest({
    claims,
    signingKey: options.issuerId === 'bank-a' ? bankA.privateJwk : bankB.privateJwk,
    encryptionKey: toPublicJwk(keySet.encryptionKeys.keys[0]!),
  });
  const client = options.wallet === 'wallet-co' ? walletCo() : walletTwo();
  const response = await client.submit({ type: 'submission', version: 1, sessionId: identifiers.sessionId, walletAccountId: identifiers.walletAccountId, deviceId: identifiers.deviceId, nonce: identifiers.nonce, encryptedRequest });
  numbers.push(pan);
  if (response.accessData) numbers.push(response.accessData.tokenNumber);
  return response.tokenReferenceId;
}

async function refusal(promise: Promise<unknown>): Promise<ProvisioningError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isProvisioningError(error)) throw new Error(`expected a refusal, got ${String(error)}`);
  return error;
}

describe('the wallet SDK: queryTokens', () => {
  it('answers the wallet account\'s live tokens for the asked accounts, on each device, with their states and no numbers', async () => {
    const user = 'user-query-1';
    const phone = await provision({ issuerId: 'bank-a', wallet: 'wallet-co', walletAccountId: user, deviceId: 'phone', accountId: 'acc-1' });
    const tablet = await provision({ issuerId: 'bank-a', wallet: 'wallet-co', walletAccountId: user, deviceId: 'tablet', accountId: 'acc-1' });
    const pending = await provision({ issuerId: 'bank-a', wallet: 'wallet-co', walletAccountId: user, deviceId: 'phone', accountId: 'acc-2', stepUp: true });
    const removed = await provision({ issuerId: 'bank-a', wallet: 'wallet-co', walletAccountId: user, deviceId: 'phone', accountId: 'acc-3' });
    const wallet = walletCo();
    await wallet.deleteToken(removed, { reason: 'customer_request', actor: 'cardholder' });
    await wallet.suspendToken(tablet, { reason: 'card_lost' });

    const query = { type: 'token-query' as const, version: 1 as const, walletAccountId: user, issuerId: 'bank-a', accountIds: ['acc-1', 'acc-2', 'acc-3', 'acc-never'] };
    const answer = await wallet.queryTokens(query, { correlationId: 'token-query-sdk-1' });
    const text = JSON.stringify(answer);
    for (const n of numbers) expect(text).not.toContain(n);
    expect(answer.tokens).toEqual([
      { tokenReferenceId: phone, accountId: 'acc-1', deviceId: 'phone', status: 'active', activationStarted: false },
      { tokenReferenceId: tablet, accountId: 'acc-1', deviceId: 'tablet', status: 'suspended', activationStarted: false },
      { tokenReferenceId: pending, accountId: 'acc-2', deviceId: 'phone', status: 'pending_activation', activationStarted: false },
    ]);
    // A code is sent for the pending token: its activation has started.
    await wallet.startVerification(pending, { methodId: 'sms' });
    expect((await wallet.queryTokens({ ...query, accountIds: ['acc-2'] })).tokens.map((t) => [t.status, t.activationStarted])).toEqual([['pending_activation', true]]);
  });

  it('never answers another wallet provider\'s or another issuer\'s tokens', async () => {
    const user = 'user-query-2';
    const mine = await provision({ issuerId: 'bank-a', wallet: 'wallet-co', walletAccountId: user, deviceId: 'phone', accountId: 'acc-1' });
    const theirs = await provision({ issuerId: 'bank-a', wallet: 'wallet-two', walletAccountId: user, deviceId: 'phone', accountId: 'acc-1' });
    const bankBs = await provision({ issuerId: 'bank-b', wallet: 'wallet-co', walletAccountId: user, deviceId: 'phone', accountId: 'acc-1' });
    const query = { type: 'token-query' as const, version: 1 as const, walletAccountId: user, issuerId: 'bank-a', accountIds: ['acc-1'] };
    expect((await walletCo().queryTokens(query)).tokens.map((t) => t.tokenReferenceId)).toEqual([mine]);
    expect((await walletTwo().queryTokens(query)).tokens.map((t) => t.tokenReferenceId)).toEqual([theirs]);
    expect((await walletCo().queryTokens({ ...query, issuerId: 'bank-b' })).tokens.map((t) => t.tokenReferenceId)).toEqual([bankBs]);
    expect((await walletTwo().queryTokens({ ...query, issuerId: 'bank-b' })).tokens).toEqual([]);
    expect((await walletCo().queryTokens({ ...query, walletAccountId: 'user-query-nobody' })).tokens).toEqual([]);
  });

  it('is refused without a valid credential, and for a body the service would refuse, before sending it', async () => {
    const query = { type: 'token-query' as const, version: 1 as const, walletAccountId: 'user-query-3', issuerId: 'bank-a', accountIds: ['acc-1'] };
    const stranger = createHttpTokenServiceClient({ baseUrl: server.url, auth: { apiKey: 'not-a-key-of-anyone-0123456789abcdef' }, maxRetries: 0 });
    const refused = await refusal(stranger.queryTokens(query, { correlationId: 'token-query-sdk-3' }));
    expect([refused.code, refused.status, refused.correlationId]).toEqual(['unauthenticated', 401, 'token-query-sdk-3']);
    expect((await refusal(walletCo().queryTokens({ ...query, accountIds: Array.from({ length: 17 }, (_, i) => `acc-${i}`) }))).code).toBe('invalid_message');
  });
});
