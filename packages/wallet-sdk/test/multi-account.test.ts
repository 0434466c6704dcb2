/**
 * Several accounts in one session (spec 4.1-4.4) and the one outcome model:
 * the issuer double offers cards, the wallet submits each picked card's
 * request to the token service double over real HTTP, and every account gets
 * its own outcome, event and result entry.
 */
import {
  type AccountHint,
  type Card,
  type Identifiers,
  type Invocation,
  type TokenQuery,
  createRequestClaims,
  parseInvocation,
  parseResult,
  sealProvisioningRequest,
} from '@pushprov/protocol';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { severalAccounts } from '../src/accounts.js';
import { createHttpTokenServiceClient } from '../src/http.js';
import { type ConsentAnswer, type TokenServiceClient, type WalletEvent, createMemoryTokenStore, createWallet } from '../src/index.js';
import { CARD } from './helpers/issuer-double.js';
import { API_KEY, AUDIENCE, ISSUER_ID, type Keys, PROVIDER_ID, expectNoSecrets, jwksOf, makeKeys, setupFlow } from './helpers/setup.js';

const SECOND: Card = { pan: '4000056655665556', expiry: { month: 10, year: 2030 }, cardholderName: 'Ada Lovelace' };
const THIRD: Card = { pan: '4242424242424242', expiry: { month: 9, year: 2030 }, cardholderName: 'Ada Lovelace' };
const HINTS: AccountHint[] = [
  { accountId: 'acc-1', last4: '1111', network: 'visa', productName: 'Everyday Debit', cardArtUrl: 'https://bank-a.example/art/1.png' },
  { accountId: 'acc-2', last4: '5556', network: 'visa', productName: 'Travel Credit' },
  { accountId: 'acc-3', last4: '4242', network: 'visa' },
];
const CARDS: Record<string, Card> = { 'acc-1': CARD, 'acc-2': SECOND, 'acc-3': THIRD };

let keys: Keys;
beforeAll(async () => {
  keys = await makeKeys();
});

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function flowWith(options: { consent?: ConsentAnswer; tokenService?: (real: TokenServiceClient) => TokenServiceClient } = {}) {
  let wrapped: TokenServiceClient | undefined;
  const flow = await setupFlow(keys, {
    wallet: {
      accounts: severalAccounts(),
      consent: (prompt) => {
        flow.consentPrompts.push(prompt);
        return options.consent ?? true;
      },
    },
  });
  closers.push(() => flow.service.close());
  if (options.tokenService) {
    // Rebuild the wallet with the wrapped client (the real HTTP client inside).
    const real = createHttpTokenServiceClient({ baseUrl: flow.service.url, auth: { apiKey: API_KEY }, clock: flow.clock, timeoutMs: 5_000 });
    wrapped = options.tokenService(real);
    flow.wallet = createWallet({
      identity: () => ({ walletProviderId: PROVIDER_ID, walletAccountId: 'user-42', deviceId: 'device-7' }),
      consent: (prompt) => {
        flow.consentPrompts.push(prompt);
        return options.consent ?? true;
      },
      tokenService: wrapped,
      accounts: severalAccounts(),
      tokenStore: flow.tokenStore,
      trustedIssuers: { [ISSUER_ID]: jwksOf(keys.issuer) },
      clock: flow.clock,
      onEvent: (event) => flow.events.push(event),
      timeoutMs: 10_000,
    });
  }
  return flow;
}

type Flow = Awaited<ReturnType<typeof flowWith>>;

async function seal(flow: Flow, identifiers: Identifiers, accountId: string): Promise<string> {
  const claims = createRequestClaims({ issuerId: ISSUER_ID, audience: AUDIENCE, identifiers, card: CARDS[accountId]!, accountId, clock: flow.clock });
  return sealProvisioningRequest({ claims, signingKey: keys.issuer.privateJwk, encryptionKey: keys.service.publicJwk });
}

/** The issuer side: offers `hints`, builds requests for the picked ones except `refuse`, and waits for the result. */
async function issuerSide(flow: Flow, hints: AccountHint[], refuse: Record<string, string> = {}, overrides: Partial<Invocation> = {}) {
  const invocation = await flow.issuer.invocation({ account: undefined, accounts: hints, ...overrides });
  const identifiersPromise = flow.issuer.waitForIdentifiers(flow.issuerEnd, invocation.sessionId);
  await flow.issuerEnd.send(invocation);
  const identifiers = await identifiersPromise;
  const resultPromise = flow.issuer.waitForResult(flow.issuerEnd, invocation.sessionId);
  const picked = identifiers.accountIds ?? [];
  const requests = await Promise.all(
    picked.filter((id) => refuse[id] === undefined).map(async (accountId) => ({ accountId, encryptedRequest: await seal(flow, identifiers, accountId) })),
  );
  const refusals = picked.filter((id) => refuse[id] !== undefined).map((accountId) => ({ accountId, errorCode: refuse[accountId]! }));
  await flow.issuerEnd.send({
    type: 'provisioning-request',
    version: 1,
    sessionId: invocation.sessionId,
    ...(requests.length > 0 && { requests }),
    ...(refusals.length > 0 && { refusals }),
  });
  return { invocation, identifiers, result: await resultPromise };
}

const submissions = (flow: Flow) => flow.service.calls.filter((c) => c.path === '/v1/provisioning-requests');
const accountEvents = (events: WalletEvent[]) => events.filter((e) => e.type === 'account');

describe('several accounts in one session', () => {
  it('adds two cards; the token service declines one: the outcome, events and result show both', async () => {
    const flow = await flowWith();
    const session = flow.wallet.startSession(flow.walletEnd);
    const seen: WalletEvent[] = [];
    const unsubscribe = session.subscribe((event) => seen.push(event));
    // The first submission (acc-1) is declined by the token service; acc-2 goes through.
    flow.service.faults.push({ kind: 'before', status: 403, code: 'declined' });
    const [{ invocation, identifiers, result }, outcome] = await Promise.all([issuerSide(flow, HINTS.slice(0, 2)), session.outcome]);

    expect(identifiers.accountIds).toEqual(['acc-1', 'acc-2']);
    // Each submission had its own idempotency key, in the order of the requests.
    const posts = flow.service.calls.filter((c) => c.path === '/v1/provisioning-requests');
    expect(posts.map((c) => c.status)).toEqual([403, 201]);
    expect(new Set(posts.map((c) => c.idempotencyKey)).size).toBe(2);

    const issued = flow.service.issued[0]!;
    expect(outcome.status).toBe('provisioned');
    expect(outcome.accounts.map((a) => [a.accountId, a.status, a.error?.code, a.token?.tokenReferenceId])).toEqual([
      ['acc-1', 'declined', 'declined', undefined],
      ['acc-2', 'provisioned', undefined, issued.tokenReferenceId],
    ]);
    if (outcome.status !== 'provisioned') throw new Error('unreachable');
    expect(outcome.token).toMatchObject({ tokenReferenceId: issued.tokenReferenceId, panLast4: '5556' });
    expect(outcome.accounts[0]!.error!.correlationId).toBe(outcome.correlationId);

    expect(parseResult(result)).toEqual({
      type: 'result',
      version: 1,
      sessionId: invocation.sessionId,
      status: 'provisioned',
      accounts: [
        { accountId: 'acc-1', status: 'declined', errorCode: 'declined' },
        { accountId: 'acc-2', status: 'provisioned', tokenReferenceId: issued.tokenReferenceId },
      ],
      correlationId: outcome.correlationId,
    });
    // One account event each, as each submission ended, through the wallet's onEvent and the subscription.
    const expected = [
      { type: 'account', sessionId: invocation.sessionId, accountId: 'acc-1', status: 'declined', errorCode: 'declined' },
      { type: 'account', sessionId: invocation.sessionId, accountId: 'acc-2', status: 'provisioned', tokenReferenceId: issued.tokenReferenceId },
    ];
    expect(accountEvents(flow.events)).toEqual(expected);
    expect(accountEvents(seen)).toEqual(expected);
    expect(seen.at(-1)).toEqual({ type: 'outcome', outcome });
    unsubscribe();

    // The stored token names its account; the declined card stored nothing.
    const stored = await flow.tokenStore.list();
    expect(stored.map((t) => [t.accountId, t.accessData.panLast4])).toEqual([['acc-2', '5556']]);
    // The prompt listed both cards; card art only for the one that had it (the invocation is signed).
    expect(flow.consentPrompts).toEqual([
      expect.objectContaining({
        account: { accountId: 'acc-1', last4: '1111', network: 'visa', productName: 'Everyday Debit', cardArtUrl: 'https://bank-a.example/art/1.png' },
        accounts: [
          { accountId: 'acc-1', last4: '1111', network: 'visa', productName: 'Everyday Debit', cardArtUrl: 'https://bank-a.example/art/1.png' },
          { accountId: 'acc-2', last4: '5556', network: 'visa', productName: 'Travel Credit' },
        ],
      }),
    ]);
    expectNoSecrets(flow.service, outcome, flow.events, result);
  });

  it('submits only the picked subset; the unpicked card is cancelled with consent_denied', async () => {
    const flow = await flowWith({ consent: { accountIds: ['acc-3', 'acc-1'] } });
    const [{ identifiers, result }, outcome] = await Promise.all([issuerSide(flow, HINTS), flow.wallet.handleInvocation(flow.walletEnd)]);
    // Picked ids, in the invocation's order.
    expect(identifiers.accountIds).toEqual(['acc-1', 'acc-3']);
    expect(flow.service.issued).toHaveLength(2);
    expect(outcome.accounts.map((a) => [a.accountId, a.status, a.error?.code])).toEqual([
      ['acc-1', 'provisioned', undefined],
      ['acc-2', 'cancelled', 'consent_denied'],
      ['acc-3', 'provisioned', undefined],
    ]);
    expect(result.accounts?.map((a) => [a.accountId, a.status, a.errorCode])).toEqual([
      ['acc-1', 'provisioned', undefined],
      ['acc-2', 'cancelled', 'consent_denied'],
      ['acc-3', 'provisioned', undefined],
    ]);
    expect((await flow.tokenStore.list()).map((t) => t.accountId)).toEqual(['acc-1', 'acc-3']);
  });

  it("turns an issuer's refusal into that account's outcome (failed, with its code)", async () => {
    const flow = await flowWith();
    const [{ result }, outcome] = await Promise.all([issuerSide(flow, HINTS.slice(0, 2), { 'acc-2': 'card_expired' }), flow.wallet.handleInvocation(flow.walletEnd)]);
    expect(flow.service.issued).toHaveLength(1);
    expect(outcome.status).toBe('provisioned');
    expect(outcome.accounts.map((a) => [a.accountId, a.status, a.error?.code])).toEqual([
      ['acc-1', 'provisioned', undefined],
      ['acc-2', 'failed', 'card_expired'],
    ]);
    expect(result.accounts?.[1]).toEqual({ accountId: 'acc-2', status: 'failed', errorCode: 'card_expired' });
  });

  it('every card refused or declined: the summary is the first status present (declined before failed)', async () => {
    const flow = await flowWith();
    flow.service.faults.push({ kind: 'before', status: 403, code: 'declined' });
    const [{ result }, outcome] = await Promise.all([issuerSide(flow, HINTS.slice(0, 2), { 'acc-2': 'not_found' }), flow.wallet.handleInvocation(flow.walletEnd)]);
    expect(outcome.status).toBe('declined');
    if (outcome.status !== 'declined') throw new Error('unreachable');
    expect(outcome.error.code).toBe('declined');
    expect(result).toMatchObject({ status: 'declined', accounts: [{ status: 'declined' }, { status: 'failed', errorCode: 'not_found' }] });
    expect(result.errorCode).toBeUndefined();
  });

  it('the user refuses: every card cancelled, a result with every account, nothing submitted', async () => {
    const flow = await flowWith({ consent: false });
    const invocation = await flow.issuer.invocation({ account: undefined, accounts: HINTS.slice(0, 2) });
    const resultPromise = flow.issuer.waitForResult(flow.issuerEnd, invocation.sessionId);
    await flow.issuerEnd.send(invocation);
    const [result, outcome] = await Promise.all([resultPromise, flow.wallet.handleInvocation(flow.walletEnd)]);
    expect(outcome.status).toBe('cancelled');
    expect(outcome.accounts.map((a) => a.error?.code)).toEqual(['consent_denied', 'consent_denied']);
    expect(result).toMatchObject({ status: 'cancelled', accounts: [{ accountId: 'acc-1', status: 'cancelled' }, { accountId: 'acc-2', status: 'cancelled' }] });
    expect(submissions(flow)).toHaveLength(0);
  });

  it.each([
    ['no account', { accountIds: [] }],
    ['an id not offered', { accountIds: ['acc-9'] }],
    ['an id twice', { accountIds: ['acc-1', 'acc-1'] }],
  ])('a consent answer picking %s fails the session with invalid_message, nothing sent', async (_, answer) => {
    const flow = await flowWith({ consent: answer });
    const invocation = await flow.issuer.invocation({ account: undefined, accounts: HINTS.slice(0, 2) });
    const resultPromise = flow.issuer.waitForResult(flow.issuerEnd, invocation.sessionId);
    await flow.issuerEnd.send(invocation);
    const [result, outcome] = await Promise.all([resultPromise, flow.wallet.handleInvocation(flow.walletEnd)]);
    expect(outcome.status).toBe('failed');
    expect(outcome.accounts.map((a) => a.error?.code)).toEqual(['invalid_message', 'invalid_message']);
    expect(result.status).toBe('failed');
    expect(submissions(flow)).toHaveLength(0);
  });

  it('a request message naming an unpicked card, or the single form, fails the session before anything is submitted', async () => {
    for (const form of ['unpicked', 'single'] as const) {
      const flow = await flowWith({ consent: { accountIds: ['acc-1'] } });
      const session = flow.wallet.handleInvocation(flow.walletEnd);
      const invocation = await flow.issuer.invocation({ account: undefined, accounts: HINTS.slice(0, 2) });
      const identifiersPromise = flow.issuer.waitForIdentifiers(flow.issuerEnd, invocation.sessionId);
      await flow.issuerEnd.send(invocation);
      const identifiers = await identifiersPromise;
      const resultPromise = flow.issuer.waitForResult(flow.issuerEnd, invocation.sessionId);
      const encryptedRequest = await seal(flow, identifiers, 'acc-1');
      await flow.issuerEnd.send(
        form === 'single'
          ? { type: 'provisioning-request', version: 1, sessionId: invocation.sessionId, encryptedRequest }
          : { type: 'provisioning-request', version: 1, sessionId: invocation.sessionId, requests: [{ accountId: 'acc-1', encryptedRequest }], refusals: [{ accountId: 'acc-2', errorCode: 'not_found' }] },
      );
      const [result, outcome] = await Promise.all([resultPromise, session]);
      expect(outcome.accounts.map((a) => [a.status, a.error?.code])).toEqual([
        ['failed', 'invalid_message'],
        ['cancelled', 'consent_denied'],
      ]);
      expect(result.status).toBe('failed');
      expect(submissions(flow)).toHaveLength(0);
    }
  });

  it('checks each access data against its own card: a swapped card fails that account only', async () => {
    const flow = await flowWith();
    const session = flow.wallet.handleInvocation(flow.walletEnd);
    const invocation = await flow.issuer.invocation({ account: undefined, accounts: HINTS.slice(0, 2) });
    const identifiersPromise = flow.issuer.waitForIdentifiers(flow.issuerEnd, invocation.sessionId);
    await flow.issuerEnd.send(invocation);
    const identifiers = await identifiersPromise;
    const resultPromise = flow.issuer.waitForResult(flow.issuerEnd, invocation.sessionId);
    // acc-1's request carries acc-2's card: the access data's last4 is not the hint's.
    const requests = [
      { accountId: 'acc-1', encryptedRequest: await seal(flow, identifiers, 'acc-2') },
      { accountId: 'acc-2', encryptedRequest: await seal(flow, identifiers, 'acc-2') },
    ];
    await flow.issuerEnd.send({ type: 'provisioning-request', version: 1, sessionId: invocation.sessionId, requests });
    const [, outcome] = await Promise.all([resultPromise, session]);
    expect(outcome.accounts.map((a) => [a.status, a.error?.code])).toEqual([
      ['failed', 'access_data_mismatch'],
      ['provisioned', undefined],
    ]);
    expect((await flow.tokenStore.list()).map((t) => t.accountId)).toEqual(['acc-2']);
  });

  it('the prompt carries each card state from the token query, split by device (best effort)', async () => {
    const queries: TokenQuery[] = [];
    const flow = await flowWith({
      consent: false,
      tokenService: (real) => ({
        submit: (s, o) => real.submit(s, o),
        getTokenStatus: (id, o) => real.getTokenStatus(id, o),
        queryTokens: async (query) => {
          queries.push(query);
          return {
            tokens: [
              { tokenReferenceId: 'tok_a', accountId: 'acc-1', deviceId: 'device-7', status: 'active', activationStarted: false },
              { tokenReferenceId: 'tok_b', accountId: 'acc-1', deviceId: 'watch-1', status: 'pending_activation', activationStarted: true },
              { tokenReferenceId: 'tok_c', accountId: 'acc-2', deviceId: 'watch-1', status: 'suspended', activationStarted: false },
            ],
          };
        },
      }),
    });
    const invocation = await flow.issuer.invocation({ account: undefined, accounts: HINTS });
    const resultPromise = flow.issuer.waitForResult(flow.issuerEnd, invocation.sessionId);
    await flow.issuerEnd.send(invocation);
    await Promise.all([resultPromise, flow.wallet.handleInvocation(flow.walletEnd)]);
    expect(queries).toEqual([{ type: 'token-query', version: 1, walletAccountId: 'user-42', issuerId: 'bank-a', accountIds: ['acc-1', 'acc-2', 'acc-3'] }]);
    const prompt = flow.consentPrompts[0] as { accounts: { state?: unknown }[] };
    expect(prompt.accounts.map((a) => a.state)).toEqual([
      { thisDevice: 'added', otherDevices: 'activating' },
      { thisDevice: 'not_added', otherDevices: 'suspended' },
      { thisDevice: 'not_added', otherDevices: 'not_added' },
    ]);
  });

  it('a failing token query leaves the states out and the session goes on', async () => {
    const flow = await flowWith({
      tokenService: (real) => ({
        submit: (s, o) => real.submit(s, o),
        getTokenStatus: (id, o) => real.getTokenStatus(id, o),
        queryTokens: async () => {
          throw new Error('boom');
        },
      }),
    });
    const [, outcome] = await Promise.all([issuerSide(flow, HINTS.slice(0, 1)), flow.wallet.handleInvocation(flow.walletEnd)]);
    expect(outcome.status).toBe('provisioned');
    expect((flow.consentPrompts[0] as { accounts: object[] }).accounts[0]).not.toHaveProperty('state');
  });

  it('refuses 9 accounts and duplicate ids by the schema, as any bad invocation (rejected, nothing sent)', async () => {
    const nine = Array.from({ length: 9 }, (_, i) => ({ accountId: `acc-${i}`, last4: '1111', network: 'visa' as const }));
    for (const accounts of [nine, [HINTS[0]!, { ...HINTS[1]!, accountId: 'acc-1' }]]) {
      const flow = await flowWith();
      const outcomePromise = flow.wallet.handleInvocation(flow.walletEnd, { timeoutMs: 300 });
      const invocation = await flow.issuer.invocation({ account: undefined, accounts }, false);
      expect(() => parseInvocation(invocation)).toThrow(expect.objectContaining({ code: 'invalid_message' }));
      // The memory channel carries it as JSON text; the wallet's end parses it and refuses it.
      await flow.issuerEnd.send(invocation);
      const outcome = await outcomePromise;
      expect(outcome.status).toBe('rejected');
      // Refused input, reported; no session began (the wallet waited on until its deadline).
      expect(flow.events).toContainEqual({ type: 'error', error: expect.objectContaining({ code: 'invalid_message' }) });
      expect(outcome.accounts).toEqual([]);
      expect(flow.consentPrompts).toEqual([]);
      expect(submissions(flow)).toHaveLength(0);
    }
  });
});

describe('without severalAccounts()', () => {
  it('the wallet takes one card per session: an invocation offering accounts is rejected (invalid_message), nothing sent', async () => {
    const flow = await setupFlow(keys);
    closers.push(() => flow.service.close());
    const seen: string[] = [];
    flow.issuerEnd.subscribe((m) => seen.push(m.type));
    const invocation = await flow.issuer.invocation({ account: undefined, accounts: HINTS.slice(0, 2) });
    await flow.issuerEnd.send(invocation);
    const outcome = await flow.wallet.handleInvocation(flow.walletEnd);
    expect(outcome).toMatchObject({ status: 'rejected', error: { code: 'invalid_message' }, accounts: [] });
    expect(seen).toEqual([]);
    expect(flow.consentPrompts).toEqual([]);
  });

  it('refuses an accounts option that is not severalAccounts()', () => {
    const options = {
      identity: () => ({ walletProviderId: PROVIDER_ID, walletAccountId: 'user-42', deviceId: 'device-7' }),
      consent: () => true,
      tokenService: { submit: async () => ({}) as never, getTokenStatus: async () => ({}) as never },
      tokenStore: createMemoryTokenStore(),
    };
    expect(() => createWallet({ ...options, accounts: severalAccounts() })).not.toThrow();
    expect(() => createWallet({ ...options, accounts: {} as never })).toThrow(expect.objectContaining({ code: 'configuration_invalid' }));
  });
});

describe('single-account outcome model', () => {
  it('one entry in accounts (with the hint accountId), one account event, the result form unchanged', async () => {
    const flow = await flowWith();
    const invocation = await flow.issuer.invocation({ account: { accountId: 'acc-1', last4: '1111', network: 'visa' } });
    const [{ result }, outcome] = await Promise.all([flow.issuer.run(flow.issuerEnd, invocation), flow.wallet.handleInvocation(flow.walletEnd)]);
    expect(outcome.accounts).toEqual([{ accountId: 'acc-1', status: 'provisioned', token: expect.objectContaining({ panLast4: '1111' }) }]);
    expect(result.accounts).toBeUndefined();
    expect(result.tokenReferenceId).toBe(flow.service.issued[0]!.tokenReferenceId);
    expect(accountEvents(flow.events)).toEqual([
      { type: 'account', sessionId: invocation.sessionId, accountId: 'acc-1', status: 'provisioned', tokenReferenceId: flow.service.issued[0]!.tokenReferenceId },
    ]);
    expect((await flow.tokenStore.list())[0]!.accountId).toBe('acc-1');
  });

  it('a subscription stops when unsubscribed, and leaves the channel open by default', async () => {
    const flow = await flowWith({ consent: false });
    const session = flow.wallet.startSession(flow.walletEnd);
    const seen: WalletEvent[] = [];
    const stop = session.subscribe((event) => seen.push(event));
    stop();
    const invocation = await flow.issuer.invocation();
    const resultPromise = flow.issuer.waitForResult(flow.issuerEnd, invocation.sessionId);
    await flow.issuerEnd.send(invocation);
    await Promise.all([resultPromise, session.outcome]);
    expect(seen).toEqual([]);
    // closeChannelOnEnd defaults to false: the channel still carries messages.
    const next = flow.issuer.waitForResult(flow.walletEnd, invocation.sessionId).catch(() => 'closed');
    await flow.issuerEnd.send({ type: 'result', version: 1, sessionId: invocation.sessionId, status: 'cancelled', errorCode: 'cancelled' });
    expect(await next).toMatchObject({ type: 'result' });
  });
});
