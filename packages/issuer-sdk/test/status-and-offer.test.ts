import {
  type AccountState,
  type AccountsRefusal,
  type AccountsRequest,
  type AppMessage,
  type Invocation,
  type ProvisioningError,
  type PublicEcJwk,
  type StatusQuery,
  type StatusResponse,
  createMemoryChannelPair,
  createNonce,
  isProvisioningError,
  manualClock,
  toPublicJwk,
  verifyInvocationSignature,
  verifyStatusQuerySignature,
  waitForMessage,
} from '@pushprov/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { createBackendRequestSource, createIssuerClient } from '../src/index.js';
import { createStatusQuerySigner } from '../src/local.js';
import { answerAccountsRequest, createBackendAccountLister } from '../src/offer.js';
import { createIssuerBackendHandler, createProvisioningRequestBuilder, type OfferedAccount } from '../src/server.js';
import { createBackendStatusQuerySigner, queryStatus } from '../src/status.js';
import { AUDIENCE, CARD, ISSUER_ID, NOW, keys } from './support/fixtures.js';
import { startJwksServer } from './support/jwks-server.js';
import { serveOnLoopback } from './support/node-http-adapter.js';
import { expectNoPan } from './support/pan-guard.js';
import { WalletDouble } from './support/wallet-double.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const ALICE_ACCOUNTS: OfferedAccount[] = [
  { hint: { last4: '1111', network: 'visa', productName: 'Everyday Debit', accountId: 'acct_1' }, accountRef: 'acc_1' },
  { hint: { last4: '2222', network: 'mastercard', accountId: 'acct_2' }, accountRef: 'acc_2' },
];

async function failure(promise: Promise<unknown>): Promise<ProvisioningError> {
  const error = await promise.then(
    () => {
      throw new Error('resolved');
    },
    (e: unknown) => e,
  );
  expect(isProvisioningError(error)).toBe(true);
  return error as ProvisioningError;
}

/** The real backend (builder + handler) on loopback HTTP: alice has two cards, bob none. */
async function backend() {
  const k = await keys();
  const jwks = await startJwksServer(k.servicePublic);
  cleanups.push(() => jwks.close());
  const clock = manualClock(NOW);
  const builder = createProvisioningRequestBuilder<{ id: string }>({
    issuerId: ISSUER_ID,
    signingKey: k.issuer.privateJwk,
    tokenService: { audience: AUDIENCE, jwksUrl: jwks.url },
    walletProviders: ['wallet-co'],
    lookupCard: (accountRef, user) => {
      if (user.id !== 'alice') return null;
      if (accountRef === 'acc_1') return { ...CARD, accountId: 'acct_1' };
      return accountRef === 'acc_2' ? { pan: '5555555555572222', expiry: { month: 6, year: 2030 }, accountId: 'acct_2' } : null;
    },
    listAccounts: (user) => (user.id === 'alice' ? ALICE_ACCOUNTS : []),
    clock,
  });
  const handler = createIssuerBackendHandler({
    builder,
    authenticate: (request) => {
      const auth = request.headers.get('authorization');
      return auth === 'Bearer alice' ? { id: 'alice' } : auth === 'Bearer bob' ? { id: 'bob' } : null;
    },
  });
  const server = await serveOnLoopback(handler);
  cleanups.push(() => server.close());
  const url = `${server.url}/api/push-provisioning`;
  const as = (user: string) => ({ url, headers: { authorization: `Bearer ${user}` } });
  return { k, clock, url, as };
}

/** Plays the wallet with the protocol's functions: takes the next status query, verifies it, answers with `answer(query)`. */
function walletAnswers(channel: ReturnType<typeof createMemoryChannelPair>['wallet'], answers: Array<(q: StatusQuery) => StatusResponse>) {
  return (async () => {
    const query = await waitForMessage(channel, (m: AppMessage): m is StatusQuery => m.type === 'status-query', { timeoutMs: 5_000 });
    await verifyStatusQuerySignature(query, (await keys()).issuerPublic);
    for (const answer of answers) await channel.send(answer(query));
    return query;
  })();
}

const answered = (q: StatusQuery, states: Array<[AccountState, AccountState]>): StatusResponse => ({
  type: 'status-response',
  version: 1,
  queryId: q.queryId,
  issuerId: q.issuerId,
  accounts: q.accountIds.map((accountId, i) => ({ accountId, thisDevice: states[i]![0], otherDevices: states[i]![1] })),
  ...(q.correlationId === undefined ? {} : { correlationId: q.correlationId }),
});

describe('queryStatus (@pushprov/issuer-sdk/status)', () => {
  it('signs through the real backend, sends the query, and returns the answer for its queryId', async () => {
    const { clock, as } = await backend();
    const pair = createMemoryChannelPair();
    const wallet = walletAnswers(pair.wallet, [(q) => answered(q, [['added', 'not_added'], ['not_added', 'needs_activation']])]);
    const states = await queryStatus(pair.issuer, {
      issuerId: ISSUER_ID,
      accountIds: ['acct_1', 'acct_2'],
      signer: createBackendStatusQuerySigner(as('alice')),
      clock,
      correlationId: 'cor_status_1',
    });
    expect(states).toEqual([
      { accountId: 'acct_1', thisDevice: 'added', otherDevices: 'not_added' },
      { accountId: 'acct_2', thisDevice: 'not_added', otherDevices: 'needs_activation' },
    ]);
    const query = await wallet;
    expect(query).toMatchObject({ issuerId: ISSUER_ID, accountIds: ['acct_1', 'acct_2'], correlationId: 'cor_status_1', iat: NOW / 1000 });
    expect(query.exp - query.iat).toBeLessThanOrEqual(300);
  });

  it('ignores an answer for another queryId and takes the one for its own', async () => {
    const k = await keys();
    const pair = createMemoryChannelPair();
    const other = (q: StatusQuery): StatusResponse => ({ ...answered(q, [['suspended', 'suspended']]), queryId: createNonce() });
    const wallet = walletAnswers(pair.wallet, [other, (q) => answered(q, [['activating', 'added']])]);
    const states = await queryStatus(pair.issuer, { issuerId: ISSUER_ID, accountIds: ['acct_1'], signer: createStatusQuerySigner(k.issuer.privateJwk, { sandbox: true }) });
    await wallet;
    expect(states).toEqual([{ accountId: 'acct_1', thisDevice: 'activating', otherDevices: 'added' }]);
  });

  it('a status-response with errorCode rejects with that typed code', async () => {
    const k = await keys();
    const pair = createMemoryChannelPair();
    const refusal = (q: StatusQuery): StatusResponse => ({ type: 'status-response', version: 1, queryId: q.queryId, issuerId: q.issuerId, errorCode: 'unknown_issuer' });
    const wallet = walletAnswers(pair.wallet, [refusal]);
    const error = await failure(queryStatus(pair.issuer, { issuerId: ISSUER_ID, accountIds: ['acct_1'], signer: createStatusQuerySigner(k.issuer.privateJwk, { sandbox: true }) }));
    await wallet;
    expect(error.code).toBe('unknown_issuer');
  });

  it('an answer naming other accounts, or in another order, is invalid_message', async () => {
    const k = await keys();
    const signer = createStatusQuerySigner(k.issuer.privateJwk, { sandbox: true });
    for (const change of [(r: StatusResponse) => ({ ...r, accounts: [...r.accounts!].reverse() }), (r: StatusResponse) => ({ ...r, accounts: r.accounts!.slice(1) })]) {
      const pair = createMemoryChannelPair();
      const wallet = walletAnswers(pair.wallet, [(q) => change(answered(q, [['added', 'added'], ['not_added', 'not_added']]))]);
      const error = await failure(queryStatus(pair.issuer, { issuerId: ISSUER_ID, accountIds: ['acct_1', 'acct_2'], signer }));
      await wallet;
      expect(error.code).toBe('invalid_message');
    }
  });

  it('no answer: timeout; aborted: rejects typed; bad ids: invalid_message before anything is sent', async () => {
    const k = await keys();
    const signer = createStatusQuerySigner(k.issuer.privateJwk, { sandbox: true });
    const pair = createMemoryChannelPair();
    const sent: AppMessage[] = [];
    pair.wallet.subscribe((m) => sent.push(m));
    expect((await failure(queryStatus(pair.issuer, { issuerId: ISSUER_ID, accountIds: ['acct_1'], signer, timeoutMs: 200 }))).code).toBe('timeout');
    expect(sent.map((m) => m.type)).toEqual(['status-query']);
    const controller = new AbortController();
    const pending = queryStatus(pair.issuer, { issuerId: ISSUER_ID, accountIds: ['acct_1'], signer, signal: controller.signal });
    controller.abort();
    expect((await failure(pending)).code).toBe('aborted');
    const duplicate = await failure(queryStatus(pair.issuer, { issuerId: ISSUER_ID, accountIds: ['acct_1', 'acct_1'], signer }));
    expect(duplicate.code).toBe('invalid_message');
    const tooMany = await failure(queryStatus(pair.issuer, { issuerId: ISSUER_ID, accountIds: Array.from({ length: 17 }, (_, i) => `a${i}`), signer }));
    expect(tooMany.code).toBe('invalid_message');
    expect(() => createStatusQuerySigner(k.issuer.privateJwk, {} as { sandbox: true })).toThrow(expect.objectContaining({ code: 'configuration_invalid' }));
  });

  it('the backend signs only for the user’s own accounts of this issuer: another account, another issuer, bob: forbidden; nothing sent', async () => {
    const { clock, as } = await backend();
    const pair = createMemoryChannelPair();
    const sent: AppMessage[] = [];
    pair.wallet.subscribe((m) => sent.push(m));
    const ask = (user: string, issuerId: string, accountIds: string[]) =>
      failure(queryStatus(pair.issuer, { issuerId, accountIds, signer: createBackendStatusQuerySigner(as(user)), clock }));
    expect((await ask('alice', ISSUER_ID, ['acct_1', 'acct_9'])).code).toBe('forbidden');
    expect((await ask('alice', 'bank-b', ['acct_1'])).code).toBe('forbidden');
    expect((await ask('bob', ISSUER_ID, ['acct_1'])).code).toBe('forbidden');
    expect((await ask('nobody', ISSUER_ID, ['acct_1'])).code).toBe('unauthenticated');
    expect(sent).toEqual([]);
  });

  it('the backend checks the lifetime like an invocation’s (at most 300 s, current)', async () => {
    const { url } = await backend();
    const post = async (iat: number, exp: number) => {
      const query = { type: 'status-query', version: 1, queryId: createNonce(), issuerId: ISSUER_ID, accountIds: ['acct_1'], iat, exp };
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer alice' },
        body: JSON.stringify({ type: 'sign-status-query', version: 1, query }),
      });
      return { status: response.status, body: (await response.json()) as { code?: string; signature?: string } };
    };
    const now = NOW / 1000;
    expect((await post(now, now + 301)).body.code).toBe('lifetime_exceeded');
    expect((await post(now - 400, now - 100)).body.code).toBe('expired');
    expect((await post(now + 600, now + 700)).body.code).toBe('not_yet_valid');
    const ok = await post(now, now + 300);
    expect(ok.status).toBe(200);
    expect(typeof ok.body.signature).toBe('string');
  });
});

describe('list-accounts (backend) and createBackendAccountLister', () => {
  it('a builder of your own without listAccounts/signStatusQuery: both bodies answer not_found', async () => {
    const { k } = await backend();
    const real = createProvisioningRequestBuilder<{ id: string }>({
      issuerId: ISSUER_ID,
      signingKey: k.issuer.privateJwk,
      tokenService: { audience: AUDIENCE, jwksUrl: 'https://127.0.0.1:1/jwks' },
      walletProviders: ['wallet-co'],
      lookupCard: () => null,
    });
    const handler = createIssuerBackendHandler({
      builder: { buildRequest: real.buildRequest, signInvocation: real.signInvocation, tokenServiceKeys: real.tokenServiceKeys },
      authenticate: () => ({ id: 'alice' }),
    });
    const server = await serveOnLoopback(handler);
    cleanups.push(() => server.close());
    const options = { url: `${server.url}/api/push-provisioning` };
    expect((await failure(createBackendAccountLister(options)('wallet-co'))).code).toBe('not_found');
    const pair = createMemoryChannelPair();
    expect((await failure(queryStatus(pair.issuer, { issuerId: ISSUER_ID, accountIds: ['acct_1'], signer: createBackendStatusQuerySigner(options) }))).code).toBe('not_found');
    // The real builder without listAccounts: not_found too.
    expect((await failure(real.listAccounts!({ walletProviderId: 'wallet-co', user: { id: 'alice' } }))).code).toBe('not_found');
  });

  it('answers the user’s offered accounts for an allowed wallet provider only', async () => {
    const { as } = await backend();
    expect(await createBackendAccountLister(as('alice'))('wallet-co')).toEqual(ALICE_ACCOUNTS);
    expect(await createBackendAccountLister(as('bob'))('wallet-co')).toEqual([]);
    expect((await failure(createBackendAccountLister(as('alice'))('other-wallet'))).code).toBe('wallet_provider_not_allowed');
    expect((await failure(createBackendAccountLister(as('nobody'))('wallet-co'))).code).toBe('unauthenticated');
  });
});

describe('answerAccountsRequest (@pushprov/issuer-sdk/offer)', () => {
  const request = (): AccountsRequest => ({ type: 'accounts-request', version: 1, nonce: createNonce(), walletProviderId: 'wallet-co', correlationId: 'cor_wallet_asks' });

  it('nothing to offer (bob): answers an accounts-refusal with not_found and the request’s nonce', async () => {
    const { as } = await backend();
    const source = createBackendRequestSource(as('bob'));
    const issuer = createIssuerClient({ issuerId: ISSUER_ID, requestSource: source, invocationSigner: source.signInvocation });
    const listAccounts = createBackendAccountLister(as('bob'));
    const pair = createMemoryChannelPair();
    const asked = request();
    const answering = answerAccountsRequest(pair.issuer, { issuerId: ISSUER_ID, client: issuer, accounts: (r) => listAccounts(r.walletProviderId) });
    const refusalSeen = waitForMessage(pair.wallet, (m: AppMessage): m is AccountsRefusal => m.type === 'accounts-refusal', { timeoutMs: 5_000 });
    await pair.wallet.send(asked);
    const refusal = await refusalSeen;
    expect(refusal).toEqual({ type: 'accounts-refusal', version: 1, nonce: asked.nonce, issuerId: ISSUER_ID, errorCode: 'not_found', correlationId: 'cor_wallet_asks' });
    const result = await answering;
    expect(result.session).toBeUndefined();
    expect(result.refusal).toEqual(refusal);
  });

  it('answers with a SIGNED invocation whose walletNonce is the request’s nonce, and the session runs to the end', async () => {
    const { k, clock, as } = await backend();
    const source = createBackendRequestSource(as('alice'));
    const issuer = createIssuerClient({ issuerId: ISSUER_ID, requestSource: source, invocationSigner: source.signInvocation, clock });
    const listAccounts = createBackendAccountLister(as('alice'));
    const pair = createMemoryChannelPair();
    const wallet = new WalletDouble({
      channel: pair.wallet,
      decryptionKeys: k.servicePrivate,
      issuerKeys: k.issuerPublic,
      audience: AUDIENCE,
      clock,
      devicePublicKey: toPublicJwk(k.device.publicJwk) as PublicEcJwk,
    });
    const asked = request();
    const answering = answerAccountsRequest(pair.issuer, {
      issuerId: ISSUER_ID,
      client: issuer,
      // Alice's first card: the one this backend can build (one account: the single-account form).
      accounts: async (r) => (await listAccounts(r.walletProviderId)).slice(0, 1),
    });
    await pair.wallet.send(asked);
    const walletDone = wallet.runHappyPath();
    const result = await answering;
    expect(result.refusal).toBeUndefined();
    await walletDone;
    const invocation = wallet.invocation as Invocation;
    expect(invocation.signature).toBeDefined();
    await expect(verifyInvocationSignature(invocation, k.issuerPublic)).resolves.toBeUndefined();
    expect(invocation.walletNonce).toBe(asked.nonce);
    expect(invocation.correlationId).toBe('cor_wallet_asks');
    expect(invocation.account).toEqual(ALICE_ACCOUNTS[0]!.hint);
    const outcome = await result.session!.outcome;
    expect(outcome.status).toBe('provisioned');
    expect(wallet.opened!.claims.accountId).toBe('acct_1');
    expectNoPan(outcome, invocation);
  });

  it('several cards: the signed invocation carries accounts and walletNonce; the session is the normal one (cancelled here)', async () => {
    const { k, clock, as } = await backend();
    const source = createBackendRequestSource(as('alice'));
    const issuer = createIssuerClient({ issuerId: ISSUER_ID, requestSource: source, invocationSigner: source.signInvocation, clock });
    const listAccounts = createBackendAccountLister(as('alice'));
    const pair = createMemoryChannelPair();
    const asked = request();
    const controller = new AbortController();
    const answering = answerAccountsRequest(pair.issuer, { issuerId: ISSUER_ID, client: issuer, accounts: (r) => listAccounts(r.walletProviderId), signal: controller.signal });
    const invocationSeen = waitForMessage(pair.wallet, (m: AppMessage): m is Invocation => m.type === 'invocation', { timeoutMs: 5_000 });
    await pair.wallet.send(asked);
    const invocation = await invocationSeen;
    await verifyInvocationSignature(invocation, k.issuerPublic);
    expect(invocation.walletNonce).toBe(asked.nonce);
    expect(invocation.account).toBeUndefined();
    expect(invocation.accounts).toEqual(ALICE_ACCOUNTS.map((a) => a.hint));
    const { session } = await answering;
    controller.abort();
    expect((await session!.outcome).status).toBe('cancelled');
  });

  it('nobody signed in: the lister fails unauthenticated, answered to the wallet as a refusal with that code', async () => {
    const { as } = await backend();
    const source = createBackendRequestSource(as('nobody'));
    const issuer = createIssuerClient({ issuerId: ISSUER_ID, requestSource: source, invocationSigner: source.signInvocation });
    const listAccounts = createBackendAccountLister(as('nobody'));
    const pair = createMemoryChannelPair();
    const asked = request();
    const answering = answerAccountsRequest(pair.issuer, { issuerId: ISSUER_ID, client: issuer, accounts: (r) => listAccounts(r.walletProviderId) });
    const refusalSeen = waitForMessage(pair.wallet, (m: AppMessage): m is AccountsRefusal => m.type === 'accounts-refusal', { timeoutMs: 5_000 });
    await pair.wallet.send(asked);
    expect((await failure(answering)).code).toBe('unauthenticated');
    expect(await refusalSeen).toMatchObject({ nonce: asked.nonce, errorCode: 'unauthenticated' });
  });

  it('a client without an invocationSigner cannot answer (the answer must be signed): nothing unsigned is sent, refusal, session failed configuration_invalid', async () => {
    const { as } = await backend();
    const issuer = createIssuerClient({ issuerId: ISSUER_ID, requestSource: createBackendRequestSource(as('alice')) });
    const pair = createMemoryChannelPair();
    const asked = request();
    const answering = answerAccountsRequest(pair.issuer, { issuerId: ISSUER_ID, client: issuer, accounts: ALICE_ACCOUNTS.slice(0, 1) });
    const refusalSeen = waitForMessage(pair.wallet, (m: AppMessage): m is AccountsRefusal => m.type === 'accounts-refusal', { timeoutMs: 5_000 });
    const invocations: AppMessage[] = [];
    pair.wallet.subscribe((m) => {
      if (m.type === 'invocation') invocations.push(m);
    });
    await pair.wallet.send(asked);
    const { session } = await answering;
    expect(await session!.outcome).toMatchObject({ status: 'failed', error: { code: 'configuration_invalid' } });
    expect(await refusalSeen).toMatchObject({ nonce: asked.nonce, errorCode: 'configuration_invalid' });
    expect(invocations).toEqual([]);
  });
});
