// Several cards in one session (issue 16): the invocation offers `accounts`,
// the wallet picks `accountIds`, the request source builds every picked one
// in one call (`requests` / `refusals`), the result's `accounts` become the
// outcome's and one `account` event each.
import { type AccountHint, type AppMessage, type PublicEcJwk, createMemoryChannelPair, manualClock, toPublicJwk } from '@pushprov/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ProvisioningSessionEvent,
  type SessionAccount,
  createBackendRequestSource,
  createIssuerClient,
} from '../src/index.js';
import { createInvocationSigner } from '../src/local.js';
import { type CardRecord, createIssuerBackendHandler, createProvisioningRequestBuilder } from '../src/server.js';
import { AUDIENCE, CARD, ISSUER_ID, NOW, identifiers, keys, rejectedCodes, setup, statesOf, whenEvent } from './support/fixtures.js';
import { startJwksServer } from './support/jwks-server.js';
import { serveOnLoopback } from './support/node-http-adapter.js';
import { expectNoPan } from './support/pan-guard.js';
import { WalletDouble } from './support/wallet-double.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

// A second test card (Luhn-valid), and an expired one.
const CARD_2 = { pan: '5555555555554444', expiry: { month: 6, year: 2030 } };
const EXPIRED = { pan: '4000056655665556', expiry: { month: 1, year: 2020 } };

const hint = (accountId: string, last4: string): AccountHint => ({ last4, network: 'visa', accountId });

/** Everything a wallet sent or received on a channel end. */
function record(channel: { subscribe(l: (m: AppMessage) => void): () => void }): AppMessage[] {
  const seen: AppMessage[] = [];
  channel.subscribe((m) => seen.push(m));
  return seen;
}

describe('several accounts through the issuer backend, over loopback HTTP', () => {
  async function backend() {
    const k = await keys();
    const jwks = await startJwksServer(k.servicePublic);
    cleanups.push(() => jwks.close());
    const clock = manualClock(NOW);
    const cards: Record<string, CardRecord> = {
      acc_1: { ...CARD, accountId: 'acct_1' },
      acc_2: { ...EXPIRED, accountId: 'acct_2' },
      acc_3: { ...CARD_2, accountId: 'acct_3' },
      // Its record names another account id than the one the app shows: the token service would store the record's.
      acc_4: { ...CARD_2, accountId: 'acct_elsewhere' },
      // Eight more, for the largest session.
      ...Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`acc_1${i}`, { ...CARD_2, cardholderName: 'Grace Hopper', accountId: `acct_1${i}` }])),
    };
    const builder = createProvisioningRequestBuilder<{ id: string }>({
      issuerId: ISSUER_ID,
      signingKey: k.issuer.privateJwk,
      tokenService: { audience: AUDIENCE, jwksUrl: jwks.url },
      walletProviders: ['wallet-co'],
      lookupCard: (accountRef, user) => (user.id === 'alice' ? (cards[accountRef] ?? null) : null),
      clock,
    });
    const handler = createIssuerBackendHandler({
      builder,
      authenticate: (request) => (request.headers.get('authorization') === 'Bearer alice-token' ? { id: 'alice' } : null),
    });
    const server = await serveOnLoopback(handler);
    cleanups.push(() => server.close());
    const url = `${server.url}/api/push-provisioning`;
    const source = createBackendRequestSource({ url, headers: { authorization: 'Bearer alice-token' } });
    const issuer = createIssuerClient({ issuerId: ISSUER_ID, requestSource: source, invocationSigner: source.signInvocation, clock });
    const pair = createMemoryChannelPair();
    const wallet = new WalletDouble({
      channel: pair.wallet,
      decryptionKeys: k.servicePrivate,
      issuerKeys: k.issuerPublic,
      audience: AUDIENCE,
      clock,
      devicePublicKey: toPublicJwk(k.device.publicJwk) as PublicEcJwk,
    });
    const post = (body: unknown) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer alice-token' }, body: JSON.stringify(body) });
    return { issuer, pair, wallet, post };
  }

  it('two cards, one refused by the backend (expired): one request, one refusal, and the outcome shows both', async () => {
    const { issuer, pair, wallet } = await backend();
    const events: ProvisioningSessionEvent[] = [];
    const accounts: SessionAccount[] = [
      { hint: hint('acct_1', '1111'), accountRef: 'acc_1' },
      { hint: hint('acct_2', '5556'), accountRef: 'acc_2' },
    ];
    const session = issuer.startProvisioning({ accounts, wallet: pair.issuer, onEvent: (e) => events.push(e) });

    const invocation = await wallet.receiveInvocation();
    // Signed by the backend for both accounts, each hint checked against its card.
    expect(wallet.invocationVerified).toBe(true);
    expect(invocation.account).toBeUndefined();
    expect(invocation.accounts).toEqual(accounts.map((a) => a.hint));
    await wallet.sendIdentifiers({ accountIds: ['acct_1', 'acct_2'] });
    const message = await wallet.receiveRequest();
    expect(message.encryptedRequest).toBeUndefined();
    expect(message.refusals).toEqual([{ accountId: 'acct_2', errorCode: 'card_expired' }]);
    const opened = await wallet.openRequests();
    expect([...opened.keys()]).toEqual(['acct_1']);
    // The request's accountId claim is the id the wallet was shown (and the card record's).
    expect(opened.get('acct_1')!.claims).toMatchObject({ accountId: 'acct_1', sid: session.id, nonce: wallet.identifiers!.nonce });
    await wallet.sendMultiResult();

    const outcome = await session.outcome;
    expect(outcome).toMatchObject({
      state: 'completed',
      status: 'provisioned', // partial success is a success
      accounts: [
        { accountId: 'acct_1', status: 'provisioned', tokenReferenceId: 'tok_acct_1' },
        { accountId: 'acct_2', status: 'failed', errorCode: 'card_expired' },
      ],
    });
    expect(events.filter((e) => e.type === 'account').map((e) => e.type === 'account' && [e.accountId, e.status])).toEqual([
      ['acct_1', 'provisioned'],
      ['acct_2', 'failed'],
    ]);
    expect(statesOf(events)).toEqual(['invoked', 'identified', 'request_built', 'delivered', 'completed']);
    expectNoPan(events, outcome, message, session.snapshot());
  });

  it('builds only the picked accounts; an unpicked one ends cancelled with consent_denied', async () => {
    const { issuer, pair, wallet } = await backend();
    const session = issuer.startProvisioning({
      accounts: [
        { hint: hint('acct_1', '1111'), accountRef: 'acc_1' },
        { hint: hint('acct_3', '4444'), accountRef: 'acc_3' },
      ],
      wallet: pair.issuer,
    });
    await wallet.receiveInvocation();
    await wallet.sendIdentifiers({ accountIds: ['acct_3'] });
    const message = await wallet.receiveRequest();
    expect(message.requests?.map((r) => r.accountId)).toEqual(['acct_3']);
    expect(message.refusals).toBeUndefined();
    await wallet.openRequests();
    await wallet.sendMultiResult();
    await expect(session.outcome).resolves.toMatchObject({
      status: 'provisioned',
      accounts: [
        { accountId: 'acct_1', status: 'cancelled', errorCode: 'consent_denied' },
        { accountId: 'acct_3', status: 'provisioned', tokenReferenceId: 'tok_acct_3' },
      ],
    });
  });

  it('eight cards, the most a session takes: eight requests in one answer, within the message and response limits', async () => {
    const { issuer, pair, wallet } = await backend();
    const accounts = Array.from({ length: 8 }, (_, i) => ({ hint: hint(`acct_1${i}`, '4444'), accountRef: `acc_1${i}` }));
    const session = issuer.startProvisioning({ accounts, wallet: pair.issuer });
    await wallet.receiveInvocation();
    await wallet.sendIdentifiers({ accountIds: accounts.map((a) => a.hint.accountId!) });
    const message = await wallet.receiveRequest();
    expect(JSON.stringify(message).length).toBeLessThanOrEqual(65_536);
    const opened = await wallet.openRequests();
    expect(opened.size).toBe(8);
    expect(new Set([...opened.values()].map((o) => o.claims.jti)).size).toBe(8);
    await wallet.sendMultiResult();
    const outcome = await session.outcome;
    expect(outcome.accounts.map((a) => a.status)).toEqual(Array(8).fill('provisioned'));
  });

  it('build-request for several accounts: not_found and an account id the card record does not carry are refusals', async () => {
    const { post } = await backend();
    const ids = { ...identifiers(), accountIds: ['acct_1', 'acct_4', 'acct_9'] };
    const response = await post({
      type: 'build-request',
      version: 1,
      accounts: [
        { accountRef: 'acc_1', accountId: 'acct_1' },
        { accountRef: 'acc_4', accountId: 'acct_4' },
        { accountRef: 'acc_9', accountId: 'acct_9' },
      ],
      identifiers: ids,
    });
    expect(response.status).toBe(200);
    const message = await response.json();
    expect(message.requests.map((r: { accountId: string }) => r.accountId)).toEqual(['acct_1']);
    expect(message.refusals).toEqual([
      { accountId: 'acct_4', errorCode: 'forbidden' },
      { accountId: 'acct_9', errorCode: 'not_found' },
    ]);
  });

  it('build-request failures of the whole call stay errors: wallet provider, accounts the wallet did not pick, duplicates', async () => {
    const { post } = await backend();
    const accounts = [{ accountRef: 'acc_1', accountId: 'acct_1' }];
    const other = await post({ type: 'build-request', version: 1, accounts, identifiers: { ...identifiers(), walletProviderId: 'other-wallet', accountIds: ['acct_1'] } });
    expect(other.status).toBe(403);
    expect(await other.json()).toMatchObject({ code: 'wallet_provider_not_allowed' });
    const unpicked = await post({ type: 'build-request', version: 1, accounts, identifiers: { ...identifiers(), accountIds: ['acct_3'] } });
    expect(unpicked.status).toBe(400);
    expect(await unpicked.json()).toMatchObject({ code: 'invalid_message' });
    const twice = await post({ type: 'build-request', version: 1, accounts: [...accounts, ...accounts], identifiers: { ...identifiers(), accountIds: ['acct_1'] } });
    expect(twice.status).toBe(400);
    const both = await post({ type: 'build-request', version: 1, accountRef: 'acc_1', accounts, identifiers: { ...identifiers(), accountIds: ['acct_1'] } });
    expect(both.status).toBe(400);
  });

  it('sign-invocation for several accounts checks every hint against its card', async () => {
    const { post } = await backend();
    const base = { type: 'invocation', version: 1, sessionId: identifiers().sessionId, issuerId: ISSUER_ID, iat: NOW / 1000, exp: NOW / 1000 + 300 };
    const sign = (accounts: unknown[], accountRefs: string[]) => post({ type: 'sign-invocation', version: 1, accountRefs, invocation: { ...base, accounts } });
    const ok = await sign([hint('acct_1', '1111'), hint('acct_3', '4444')], ['acc_1', 'acc_3']);
    expect(ok.status).toBe(200);
    expect((await ok.json()).signature).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    // The second hint shows another card's last 4 digits.
    const wrongLast4 = await sign([hint('acct_1', '1111'), hint('acct_3', '1111')], ['acc_1', 'acc_3']);
    expect(await wrongLast4.json()).toMatchObject({ code: 'forbidden' });
    // The hint's accountId is not the card record's.
    const wrongId = await sign([hint('acct_1', '1111'), hint('acct_4', '4444')], ['acc_1', 'acc_4']);
    expect(await wrongId.json()).toMatchObject({ code: 'forbidden' });
    // One reference per account.
    const short = await sign([hint('acct_1', '1111'), hint('acct_3', '4444')], ['acc_1']);
    expect(await short.json()).toMatchObject({ code: 'invalid_message' });
  });
});

describe('several accounts, checked in the app', () => {
  it('9 accounts or a repeated accountId: invalid_message before anything is sent', async () => {
    const { issuer, pair } = await setup();
    const sent = record(pair.wallet);
    const nine = Array.from({ length: 9 }, (_, i) => ({ hint: hint(`acct_${i}`, '1111'), card: CARD }));
    expect(() => issuer.startProvisioning({ accounts: nine, wallet: pair.issuer })).toThrow(expect.objectContaining({ code: 'invalid_message' }));
    const twice = [
      { hint: hint('acct_1', '1111'), card: CARD },
      { hint: hint('acct_1', '4444'), card: CARD_2 },
    ];
    expect(() => issuer.createSession({ accounts: twice, wallet: pair.issuer })).toThrow(expect.objectContaining({ code: 'invalid_message' }));
    const noId = [{ hint: { last4: '1111', network: 'visa' } as const, card: CARD }];
    expect(() => issuer.createSession({ accounts: noId, wallet: pair.issuer })).toThrow(expect.objectContaining({ code: 'invalid_message' }));
    expect(() => issuer.createSession({ accounts: [], wallet: pair.issuer })).toThrow(expect.objectContaining({ code: 'invalid_message' }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(sent).toEqual([]);
  });

  it('identifiers picking an account not offered are refused (message_rejected, invalid_message); the session keeps waiting', async () => {
    const { issuer, pair, wallet } = await setup();
    const events: ProvisioningSessionEvent[] = [];
    const session = issuer.startProvisioning({
      accounts: [
        { hint: hint('acct_1', '1111'), card: CARD },
        { hint: hint('acct_3', '4444'), card: CARD_2 },
      ],
      wallet: pair.issuer,
      onEvent: (e) => events.push(e),
    });
    await wallet.receiveInvocation();
    const rejected = whenEvent(session, (e) => e.type === 'message_rejected');
    await pair.wallet.send(wallet.makeIdentifiers({ accountIds: ['acct_1', 'acct_7'] }));
    await rejected;
    // No accountIds at all is refused too.
    const again = whenEvent(session, (e) => e.type === 'message_rejected');
    await pair.wallet.send(wallet.makeIdentifiers());
    await again;
    expect(rejectedCodes(events)).toEqual(['invalid_message', 'invalid_message']);
    expect(session.state).toBe('invoked');

    // Then proper identifiers: the local builder makes one request per account, each its own jti, all bound to them.
    await wallet.sendIdentifiers({ accountIds: ['acct_1', 'acct_3'] });
    await wallet.receiveRequest();
    const opened = await wallet.openRequests();
    const claims = [...opened.values()].map((o) => o.claims);
    expect(claims.map((c) => c.accountId)).toEqual(['acct_1', 'acct_3']);
    expect(claims.map((c) => c.card?.pan.slice(-4))).toEqual(['1111', '4444']);
    expect(new Set(claims.map((c) => c.jti)).size).toBe(2);
    expect(new Set(claims.map((c) => c.nonce))).toEqual(new Set([wallet.identifiers!.nonce]));
    await wallet.sendMultiResult();
    await expect(session.outcome).resolves.toMatchObject({ status: 'provisioned', accounts: [{ status: 'provisioned' }, { status: 'provisioned' }] });
  });

  it('a result naming an account not offered is refused; the session goes on waiting for the real one', async () => {
    const { issuer, pair, wallet } = await setup();
    const events: ProvisioningSessionEvent[] = [];
    const session = issuer.startProvisioning({ accounts: [{ hint: hint('acct_1', '1111'), card: CARD }], wallet: pair.issuer, onEvent: (e) => events.push(e) });
    await wallet.receiveInvocation();
    await wallet.sendIdentifiers({ accountIds: ['acct_1'] });
    await wallet.receiveRequest();
    const rejected = whenEvent(session, (e) => e.type === 'message_rejected');
    await wallet.sendResult('provisioned', { tokenReferenceId: undefined, accounts: [{ accountId: 'acct_x', status: 'provisioned', tokenReferenceId: 'tok_x' }] } as never);
    await rejected;
    expect(rejectedCodes(events)).toEqual(['invalid_message']);
    await wallet.sendMultiResult();
    await expect(session.outcome).resolves.toMatchObject({ accounts: [{ accountId: 'acct_1', status: 'provisioned', tokenReferenceId: 'tok_acct_1' }] });
  });

  it('signs a several-account invocation with a local signer too', async () => {
    const k = await keys();
    const { issuer, pair, wallet } = await setup({ invocationSigner: createInvocationSigner(k.issuer.privateJwk, { sandbox: true }) });
    const session = issuer.startProvisioning({ accounts: [{ hint: hint('acct_1', '1111'), card: CARD }], wallet: pair.issuer });
    await wallet.receiveInvocation();
    expect(wallet.invocationVerified).toBe(true);
    session.cancel();
    await expect(session.outcome).resolves.toMatchObject({ status: 'cancelled', accounts: [{ accountId: 'acct_1', status: 'cancelled' }] });
  });

  it('a request source that does not answer for exactly the picked accounts fails the session (invalid_message)', async () => {
    const k = await keys();
    const pair = createMemoryChannelPair();
    const issuer = createIssuerClient({
      issuerId: ISSUER_ID,
      clock: manualClock(NOW),
      // Answers for one account only, whatever was picked.
      requestSource: { buildRequest: async ({ identifiers: ids }) => ({ type: 'provisioning-request', version: 1, sessionId: ids.sessionId, refusals: [{ accountId: 'acct_1', errorCode: 'not_found' }] }) },
    });
    const wallet = new WalletDouble({ channel: pair.wallet, decryptionKeys: k.servicePrivate, issuerKeys: k.issuerPublic, audience: AUDIENCE });
    const session = issuer.startProvisioning({
      accounts: [
        { hint: hint('acct_1', '1111'), card: CARD },
        { hint: hint('acct_3', '4444'), card: CARD_2 },
      ],
      wallet: pair.issuer,
    });
    await wallet.receiveInvocation();
    await wallet.sendIdentifiers({ accountIds: ['acct_1', 'acct_3'] });
    const outcome = await session.outcome;
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'invalid_message' } });
  });

  it('the backend source needs an accountRef for every account (configuration_invalid), and sends nothing without one', async () => {
    const calls: string[] = [];
    const source = createBackendRequestSource({
      url: 'https://bank.example/api/push-provisioning',
      fetch: async (_url, init) => {
        calls.push(init.body);
        return new Response('{}', { status: 500 });
      },
    });
    const ids = { ...identifiers(), accountIds: ['acct_1', 'acct_3'] };
    await expect(
      source.buildRequest({ identifiers: ids, accounts: [{ accountId: 'acct_1', accountRef: 'acc_1' }, { accountId: 'acct_3' }] }, { signal: new AbortController().signal }),
    ).rejects.toMatchObject({ code: 'configuration_invalid' });
    expect(calls).toEqual([]);
  });
});
