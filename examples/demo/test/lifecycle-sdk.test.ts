// The token's life through both SDKs, over real HTTP on 127.0.0.1 against the
// real token service (SQLite in a temporary folder): the wallet provider's
// suspend, resume, delete and history (`@pushprov/wallet-sdk/http`), the
// issuer's search, token and card lifecycle, card events and history
// (`createIssuerTokenServiceClient`), and that an issuer cannot touch another
// issuer's tokens nor a wallet provider another's.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIssuerTokenServiceClient } from '@pushprov/issuer-sdk/server';
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

const SERVICE_ID = 'ts-lifecycle';
const WALLET_TWO_KEY = 'wallet-two-api-key-0123456789abcdef0123';

interface Parties {
  server: RunningTokenServer;
  bankA: JwkPair;
  bankB: JwkPair;
  walletCo: JwkPair;
  keySet: Awaited<ReturnType<typeof generateKeySet>>;
}

let parties: Parties;
const scratch = mkdtempSync(join(tmpdir(), 'pushprov-lifecycle-sdk-'));

beforeAll(async () => {
  const [bankA, bankB, walletCo, keySet] = await Promise.all([
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
      { id: 'bank-b', jwks: { keys: [bankB.publicJwk] }, binRanges: [{ start: '522222', end: '522222' }], walletProviders: ['wallet-co', 'wallet-two'], network: 'mastercard' },
    ],
    walletProviders: [
      { id: 'wallet-co', jwks: { keys: [walletCo.publicJwk] } },
      { id: 'wallet-two', apiKeys: [WALLET_TWO_KEY] },
    ],
    tokenRange: { bin: '489537', length: 16 },
  };
  const server = await startTokenServer({ config, dbPath: join(scratch, 'tokens.db'), purgeIntervalMs: 0, logLevel: 'error' });
  parties = { server, bankA, bankB, walletCo, keySet };
});

afterAll(async () => {
  await parties?.server.close();
  rmSync(scratch, { recursive: true, force: true });
});

const walletCo = (): HttpTokenServiceClient =>
  createHttpTokenServiceClient({
    baseUrl: parties.server.url,
    auth: { walletProviderId: 'wallet-co', audience: SERVICE_ID, signingKey: parties.walletCo.privateJwk },
  });
const walletTwo = (): HttpTokenServiceClient => createHttpTokenServiceClient({ baseUrl: parties.server.url, auth: { apiKey: WALLET_TWO_KEY } });
const issuer = (issuerId: 'bank-a' | 'bank-b') =>
  createIssuerTokenServiceClient({
    issuerId,
    signingKey: issuerId === 'bank-a' ? parties.bankA.privateJwk : parties.bankB.privateJwk,
    tokenService: { baseUrl: parties.server.url, audience: SERVICE_ID },
  });

let cardNo = 0;
/** A card of an issuer's range, distinct per call. */
const newPan = (bin: '411111' | '522222') => {
  const body = `${bin}${String(++cardNo).padStart(9, '0')}`;
  return `${body}${luhnCheckDigit(body)}`;
};

/** Provisions a card of `issuerId` to `wallet` through the wallet SDK's HTTP client: the token reference id. */
async function provision(issuerId: 'bank-a' | 'bank-b', wallet: 'wallet-co' | 'wallet-two', pan: string, accountId: string): Promise<string> {
  const identifiers = {
    type: 'identifiers' as const,
    version: 1 as const,
    sessionId: createSessionId(),
    walletProviderId: wallet,
    walletAccountId: 'user-42',
    deviceId: `device-${createNonce().slice(0, 8)}`,
    nonce: createNonce(),
  };
  const claims = createRequestClaims({ issuerId, audience: SERVICE_ID, identifiers, card: { pan, expiry: { month: 12, year: 2031 } }, accountId });
  const encryptedRequest = await sealProvisioningRequest({
    claims,
    signingKey: issuerId === 'bank-a' ? parties.bankA.privateJwk : parties.bankB.privateJwk,
    encryptionKey: toPublicJwk(parties.keySet.encryptionKeys.keys[0]!),
  });
  const client = wallet === 'wallet-co' ? walletCo() : walletTwo();
  const response = await client.submit({
    type: 'submission',
    version: 1,
    sessionId: identifiers.sessionId,
    walletAccountId: identifiers.walletAccountId,
    deviceId: identifiers.deviceId,
    nonce: identifiers.nonce,
    encryptedRequest,
  });
  expect(response.status).toBe('active');
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

describe('the wallet SDK: suspend, resume, delete and history of its own tokens', () => {
  it('changes its token, keeps one answer per idempotency key, refuses what the state does not allow, and lists the history', async () => {
    const ref = await provision('bank-a', 'wallet-co', newPan('411111'), 'acct-w1');
    const wallet = walletCo();
    const suspended = await wallet.suspendToken(ref, { reason: 'card_lost', actor: 'cardholder', idempotencyKey: 'lost-device-1' });
    expect(suspended).toMatchObject({ tokenReferenceId: ref, status: 'suspended', previousStatus: 'active' });
    // A retry after a crash, with the same key, is answered the same and changes nothing more.
    expect(await wallet.suspendToken(ref, { reason: 'card_lost', actor: 'cardholder', idempotencyKey: 'lost-device-1' })).toEqual(suspended);
    expect((await refusal(wallet.suspendToken(ref, { reason: 'card_lost' }))).code).toBe('token_state_conflict');
    expect(await wallet.resumeToken(ref, { reason: 'customer_request' })).toMatchObject({ status: 'active', previousStatus: 'suspended' });
    expect((await wallet.getTokenStatus(ref)).status).toBe('active');
    expect(await wallet.deleteToken(ref, { reason: 'customer_request', actor: 'cardholder' })).toMatchObject({ status: 'deleted', previousStatus: 'active' });
    expect((await refusal(wallet.resumeToken(ref, { reason: 'other' }))).code).toBe('token_state_conflict');
    const history = await wallet.getTokenHistory(ref);
    expect(history.status).toBe('deleted');
    expect(history.history.map((h) => `${h.from}>${h.to}:${h.actor}:${h.reason}`)).toEqual([
      'null>active:wallet_provider:customer_request', // issuance
      'active>suspended:cardholder:card_lost',
      'suspended>active:wallet_provider:customer_request',
      'active>deleted:cardholder:customer_request',
    ]);
  });

  it('cannot see or change another wallet provider’s token', async () => {
    const ref = await provision('bank-a', 'wallet-two', newPan('411111'), 'acct-w2');
    const other = walletCo();
    expect((await refusal(other.suspendToken(ref, { reason: 'suspected_fraud' }))).code).toBe('not_found');
    expect((await refusal(other.deleteToken(ref, { reason: 'other' }))).code).toBe('not_found');
    expect((await refusal(other.getTokenHistory(ref))).code).toBe('not_found');
    expect((await walletTwo().getTokenStatus(ref)).status).toBe('active');
  });
});

describe('the issuer SDK: the tokens of its cards', () => {
  it('finds the tokens of a card by account id and by card number, without a card or token number in the answer', async () => {
    const pan = newPan('411111');
    const refs = [await provision('bank-a', 'wallet-co', pan, 'acct-i1'), await provision('bank-a', 'wallet-two', pan, 'acct-i1')];
    const bank = issuer('bank-a');
    const byAccount = await bank.searchTokens({ accountId: 'acct-i1' });
    expect(byAccount.tokens.map((t) => t.tokenReferenceId).sort()).toEqual([...refs].sort());
    expect(byAccount.tokens.map((t) => t.walletProviderId).sort()).toEqual(['wallet-co', 'wallet-two']);
    const byPan = await bank.searchTokens({ pan });
    expect(byPan.tokens.map((t) => t.tokenReferenceId).sort()).toEqual([...refs].sort());
    expect(JSON.stringify(byPan)).not.toContain(pan);
    for (const token of byPan.tokens) expect(token.panLast4).toBe(pan.slice(-4));
  });

  it('suspends and resumes one token, then every token of a card, reissues and closes the card, with the history', async () => {
    const pan = newPan('411111');
    const [one, two] = [await provision('bank-a', 'wallet-co', pan, 'acct-i2'), await provision('bank-a', 'wallet-two', pan, 'acct-i2')];
    const bank = issuer('bank-a');
    expect(await bank.changeTokenLifecycle(one, { action: 'suspend', reason: 'suspected_fraud' })).toMatchObject({ status: 'suspended', previousStatus: 'active' });
    const card = await bank.changeCardLifecycle({ accountId: 'acct-i2' }, { action: 'suspend', reason: 'card_lost' });
    expect(Object.fromEntries(card.tokens.map((t) => [t.tokenReferenceId, `${t.previousStatus}>${t.status}`]))).toEqual({ [one]: 'suspended>suspended', [two]: 'active>suspended' });
    const resumed = await bank.changeCardLifecycle({ pan }, { action: 'resume', reason: 'identity_verified' });
    expect(resumed.tokens.every((t) => t.status === 'active')).toBe(true);
    await bank.reportCardEvent({ accountId: 'acct-i2', event: 'reissued', expiry: { month: 6, year: 2033 } });
    expect((await bank.getTokenStatus(one)).status).toBe('active');
    const closed = await bank.reportCardEvent({ pan, event: 'closed' });
    expect(closed.tokens.map((t) => t.status)).toEqual(['deleted', 'deleted']);
    expect((await refusal(bank.changeTokenLifecycle(two, { action: 'resume', reason: 'other' }))).code).toBe('token_state_conflict');
    const history = await bank.getTokenHistory(one);
    expect(history.history.map((h) => `${h.from}>${h.to}:${h.actor}:${h.reason}`).slice(1)).toEqual([
      'active>suspended:issuer:suspected_fraud',
      'suspended>active:issuer:identity_verified', // the card resume (the card suspend left it suspended: no entry)
      'active>active:issuer:card_reissued',
      'active>deleted:issuer:card_closed',
    ]);
    expect((await walletCo().getTokenStatus(one)).status).toBe('deleted');
  });

  it('cannot see or change another issuer’s tokens: not_found, and its card searches find nothing', async () => {
    const pan = newPan('522222');
    const ref = await provision('bank-b', 'wallet-co', pan, 'acct-b1');
    const bankA = issuer('bank-a');
    expect((await refusal(bankA.changeTokenLifecycle(ref, { action: 'delete', reason: 'card_closed' }))).code).toBe('not_found');
    expect((await refusal(bankA.getTokenHistory(ref))).code).toBe('not_found');
    expect((await refusal(bankA.getTokenStatus(ref))).code).toBe('not_found');
    expect(await bankA.searchTokens({ accountId: 'acct-b1' })).toEqual({ tokens: [] });
    expect((await bankA.changeCardLifecycle({ accountId: 'acct-b1' }, { action: 'suspend', reason: 'card_lost' })).tokens).toEqual([]);
    expect((await walletCo().getTokenStatus(ref)).status).toBe('active');
    expect((await issuer('bank-b').searchTokens({ accountId: 'acct-b1' })).tokens.map((t) => t.tokenReferenceId)).toEqual([ref]);
  });
});
