// The token lifecycle over real HTTP on 127.0.0.1 (docs/protocol.md sections
// 7.10, 7.11 and 12), on SQLite and on PostgreSQL: the wallet provider's and
// the issuer's changes, the card operations and events, the history, the
// reported `expired`, and that another issuer or wallet provider can neither
// read nor change a token. Then two instances on one PostgreSQL database
// racing on one token.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ErrorCode, ERROR_CATALOG, createIssuerAssertion, generateSigningKey, luhnCheckDigit, parseProvisioningResponse, parseTokenStatusResponse, zCardLifecycleResult, zIssuerTokenSearchResult, zIssuerTokenStatusResponse, zLifecycleResponse, zTokenHistory } from '@pushprov/protocol';
import { parseWith } from '@pushprov/protocol/internal';
import { type TokenServiceConfigInput, createJsonLogger, migratePostgres } from '../src/index.js';
import { type RunningTokenServer, startTokenServer } from '../src/server.js';
import { openVaultCard } from '../src/lifecycle/card-expiry.js';
import { createVaultCipherFromConfig } from '../src/vault/vault-cipher.js';
import { parseConfig } from '../src/config/parse-config.js';
import { testDatabaseUrl } from '../../../test/support/postgres.js';
import { API_KEY, OTHER_API_KEY, SERVICE_ID, type Fixture, buildSubmission, createFixture, createIdentifiers, createTempDir, postSubmission } from './helpers.js';

async function expectProblem(response: Response, code: ErrorCode): Promise<Record<string, unknown>> {
  const body = (await response.json()) as Record<string, unknown>;
  expect({ status: response.status, code: body.code }).toEqual({ status: ERROR_CATALOG[code].status, code });
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return body;
}

/** A card of the fixture's range, distinct per `n`. */
const panOf = (n: number): string => {
  const body = `41111122${String(n).padStart(4, '0')}001`;
  return `${body}${luhnCheckDigit(body)}`;
};

interface Harness {
  fx: Fixture;
  servers: RunningTokenServer[];
  bankB: Awaited<ReturnType<typeof generateSigningKey>>;
  logs: string[];
  close(): Promise<void>;
}

async function start(kind: 'sqlite' | 'postgres', instances = 1): Promise<Harness> {
  const fx = await createFixture();
  const bankB = await generateSigningKey({ alg: 'ES256', kid: 'bank-b-1' });
  const config: TokenServiceConfigInput = {
    ...fx.config,
    issuers: [...fx.config.issuers, { id: 'bank-b', jwks: { keys: [bankB.publicJwk] }, binRanges: [{ start: '522222', end: '522222' }], walletProviders: ['wallet-co'] }],
  };
  const logs: string[] = [];
  const temp = kind === 'sqlite' ? createTempDir() : undefined;
  const storeUrl = kind === 'postgres' ? await testDatabaseUrl() : undefined;
  if (storeUrl) await migratePostgres(storeUrl);
  const servers: RunningTokenServer[] = [];
  for (let i = 0; i < instances; i++) {
    servers.push(
      await startTokenServer({
        config,
        ...(temp ? { dbPath: join(temp.dir, 'tokens.db') } : { storeUrl: storeUrl! }),
        clock: fx.clock,
        purgeIntervalMs: 0,
        logger: createJsonLogger({ write: (line) => logs.push(line), clock: fx.clock, level: 'debug' }),
      }),
    );
  }
  return {
    fx,
    servers,
    bankB,
    logs,
    async close() {
      for (const s of servers) await s.close();
      temp?.remove();
    },
  };
}

/** The HTTP helpers of one harness. */
function client(h: Harness, server = h.servers[0]!) {
  const issuerAuth = async (issuerId = 'bank-a', key = h.fx.issuer.privateJwk) =>
    `Bearer ${await createIssuerAssertion({ issuerId, audience: SERVICE_ID, signingKey: key, clock: h.fx.clock })}`;
  const post = (path: string, body: unknown, options: { authorization?: string; key?: string | null } = {}) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', authorization: options.authorization ?? `Bearer ${API_KEY}` };
    if (options.key !== null) headers['idempotency-key'] = options.key ?? `k-${Math.random().toString(36).slice(2)}`;
    return fetch(`${server.url}${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  };
  const get = (path: string, authorization = `Bearer ${API_KEY}`) => fetch(`${server.url}${path}`, { headers: { authorization } });
  let cardNo = 0;
  const provision = async (pan = panOf(++cardNo), apiKey = API_KEY, accountId?: string) => {
    const identifiers = createIdentifiers(apiKey === OTHER_API_KEY ? { walletProviderId: 'wallet-two' } : {});
    const { submission } = await buildSubmission(h.fx, { identifiers, card: { pan, expiry: { month: 12, year: 2030 } }, ...(accountId === undefined ? {} : { accountId }) });
    const response = await postSubmission(server.url, submission, { apiKey });
    expect(response.status).toBe(201);
    return { ref: parseProvisioningResponse(await response.text()).tokenReferenceId, pan };
  };
  return { issuerAuth, post, get, provision };
}

describe.each(['sqlite', 'postgres'] as const)('the token lifecycle over HTTP (%s)', (kind) => {
  let h: Harness;
  let c: ReturnType<typeof client>;
  beforeAll(async () => {
    h = await start(kind);
    c = client(h);
  });
  afterAll(async () => {
    await h.close();
  });
  const store = () => h.servers[0]!.service.store;

  it('lets the wallet provider suspend, resume and delete its token, with history, one event and two deliveries per change', async () => {
    const { ref } = await c.provision();
    const key = 'suspend-1';
    const suspended = await c.post(`/v1/tokens/${ref}/lifecycle`, { action: 'suspend', reason: 'card_lost', actor: 'cardholder' }, { key });
    expect(suspended.status).toBe(200);
    const body = parseWith(zLifecycleResponse, await suspended.text());
    expect(body).toEqual({ tokenReferenceId: ref, status: 'suspended', previousStatus: 'active', changedAt: Math.floor(h.fx.clock.now() / 1000) });
    // The same key and body: the stored answer, nothing written again.
    const replayed = await c.post(`/v1/tokens/${ref}/lifecycle`, { action: 'suspend', reason: 'card_lost', actor: 'cardholder' }, { key });
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(parseWith(zLifecycleResponse, await replayed.text())).toEqual(body);
    expect(parseTokenStatusResponse(await (await c.get(`/v1/tokens/${ref}`)).text()).status).toBe('suspended');
    await expectProblem(await c.post(`/v1/tokens/${ref}/lifecycle`, { action: 'suspend', reason: 'card_lost' }), 'token_state_conflict');
    expect((await c.post(`/v1/tokens/${ref}/lifecycle`, { action: 'resume', reason: 'customer_request' })).status).toBe(200);
    const deleted = await c.post(`/v1/tokens/${ref}/lifecycle`, { action: 'delete', reason: 'customer_request' });
    expect(parseWith(zLifecycleResponse, await deleted.text())).toMatchObject({ status: 'deleted', previousStatus: 'active' });
    await expectProblem(await c.post(`/v1/tokens/${ref}/lifecycle`, { action: 'resume', reason: 'other' }), 'token_state_conflict');

    const history = parseWith(zTokenHistory, await (await c.get(`/v1/tokens/${ref}/history`)).text());
    expect(history.status).toBe('deleted');
    expect(history.history.map((e) => [e.from, e.to, e.actor, e.reason])).toEqual([
      [null, 'active', 'wallet_provider', 'customer_request'],
      ['active', 'suspended', 'cardholder', 'card_lost'],
      ['suspended', 'active', 'wallet_provider', 'customer_request'],
      ['active', 'deleted', 'wallet_provider', 'customer_request'],
    ]);
    const events = await store().events.ofToken(ref);
    expect(events.map((e) => e.type)).toEqual(['token.created', 'token.suspended', 'token.resumed', 'token.deleted']);
    for (const e of events) expect((await store().events.deliveriesOf(e.eventId)).map((d) => d.receiver)).toEqual(['issuer:bank-a', 'wallet:wallet-co']);
    // The deleted token's number and card left the vault.
    expect((await store().tokens.find(ref))?.sealedTokenNumber).toBeNull();
    expect(await store().vault.find(ref)).toBeUndefined();
  });

  it('refuses bad bodies and the token service\'s own reason, writing nothing', async () => {
    const { ref } = await c.provision();
    const before = await store().events.count();
    await expectProblem(await c.post(`/v1/tokens/${ref}/lifecycle`, { action: 'suspend', reason: 'activation_expired' }), 'invalid_message');
    await expectProblem(await c.post(`/v1/tokens/${ref}/lifecycle`, { action: 'freeze', reason: 'other' }), 'invalid_message');
    await expectProblem(await c.post(`/v1/tokens/${ref}/lifecycle`, { action: 'suspend', reason: 'other', actor: 'issuer' }), 'invalid_message');
    await expectProblem(await c.post(`/v1/tokens/${ref}/lifecycle`, { action: 'suspend', reason: 'other' }, { key: null }), 'missing_idempotency_key');
    await expectProblem(await c.post(`/v1/issuer/tokens/${ref}/lifecycle`, { action: 'suspend', reason: 'other', actor: 'issuer' }, { authorization: await c.issuerAuth() }), 'invalid_message');
    await expectProblem(await c.post(`/v1/issuer/tokens/search`, { pan: '4111111111111112' }, { authorization: await c.issuerAuth() }), 'card_invalid');
    expect(await store().events.count()).toBe(before);
    expect((await store().tokens.find(ref))?.status).toBe('active');
  });

  it('lets no other wallet provider or issuer read or change a token (the same 404 as an unknown one)', async () => {
    const { ref, pan } = await c.provision();
    const before = await store().events.count();
    const other = `Bearer ${OTHER_API_KEY}`;
    await expectProblem(await c.post(`/v1/tokens/${ref}/lifecycle`, { action: 'delete', reason: 'other' }, { authorization: other }), 'not_found');
    await expectProblem(await c.post(`/v1/tokens/tok_unknown/lifecycle`, { action: 'delete', reason: 'other' }), 'not_found');
    await expectProblem(await c.get(`/v1/tokens/${ref}/history`, other), 'not_found');
    const bankB = await c.issuerAuth('bank-b', h.bankB.privateJwk);
    await expectProblem(await c.post(`/v1/issuer/tokens/${ref}/lifecycle`, { action: 'suspend', reason: 'suspected_fraud' }, { authorization: bankB }), 'not_found');
    await expectProblem(await c.get(`/v1/issuer/tokens/${ref}/history`, await c.issuerAuth('bank-b', h.bankB.privateJwk)), 'not_found');
    const search = await c.post('/v1/issuer/tokens/search', { pan }, { authorization: await c.issuerAuth('bank-b', h.bankB.privateJwk) });
    expect(parseWith(zIssuerTokenSearchResult, await search.text())).toEqual({ tokens: [] });
    const card = await c.post('/v1/issuer/cards/events', { pan, event: 'closed' }, { authorization: await c.issuerAuth('bank-b', h.bankB.privateJwk) });
    expect(parseWith(zCardLifecycleResult, await card.text())).toEqual({ tokens: [] });
    // An issuer assertion is not a wallet credential, nor the other way round.
    await expectProblem(await c.post(`/v1/issuer/tokens/${ref}/lifecycle`, { action: 'suspend', reason: 'other' }), 'unauthenticated');
    await expectProblem(await c.post(`/v1/tokens/${ref}/lifecycle`, { action: 'suspend', reason: 'other' }, { authorization: await c.issuerAuth() }), 'unauthenticated');
    expect(await store().events.count()).toBe(before);
    expect((await store().tokens.find(ref))?.status).toBe('active');
  });

  it('lets the issuer find a card\'s tokens by card number (never a number in the answer), change one, then the whole card', async () => {
    const pan = panOf(900);
    const first = await c.provision(pan);
    const second = await c.provision(pan, OTHER_API_KEY);
    const search = await c.post('/v1/issuer/tokens/search', { pan }, { authorization: await c.issuerAuth() });
    expect(search.status).toBe(200);
    const text = await search.text();
    expect(text).not.toContain(pan);
    expect(text).not.toMatch(/[0-9]{12,}/);
    const found = parseWith(zIssuerTokenSearchResult, text);
    expect(found.tokens.map((t) => t.tokenReferenceId).sort()).toEqual([first.ref, second.ref].sort());
    expect(found.tokens.map((t) => t.walletProviderId).sort()).toEqual(['wallet-co', 'wallet-two']);

    const one = await c.post(`/v1/issuer/tokens/${first.ref}/lifecycle`, { action: 'suspend', reason: 'suspected_fraud' }, { authorization: await c.issuerAuth() });
    expect(parseWith(zLifecycleResponse, await one.text())).toMatchObject({ status: 'suspended', previousStatus: 'active' });
    const issuerHistory = parseWith(zTokenHistory, await (await c.get(`/v1/issuer/tokens/${first.ref}/history`, await c.issuerAuth())).text());
    expect(issuerHistory.history.at(-1)).toMatchObject({ from: 'active', to: 'suspended', actor: 'issuer', reason: 'suspected_fraud' });

    // The whole card: the suspended one stays as it is, the active one is suspended.
    const all = await c.post('/v1/issuer/cards/lifecycle', { pan, action: 'suspend', reason: 'card_lost' }, { authorization: await c.issuerAuth() });
    const changes = parseWith(zCardLifecycleResult, await all.text()).tokens;
    expect(changes.find((t) => t.tokenReferenceId === first.ref)).toEqual({ tokenReferenceId: first.ref, status: 'suspended', previousStatus: 'suspended' });
    expect(changes.find((t) => t.tokenReferenceId === second.ref)).toEqual({ tokenReferenceId: second.ref, status: 'suspended', previousStatus: 'active' });
    const resumed = await c.post('/v1/issuer/cards/lifecycle', { pan, action: 'resume', reason: 'identity_verified' }, { authorization: await c.issuerAuth() });
    expect(parseWith(zCardLifecycleResult, await resumed.text()).tokens.map((t) => t.status)).toEqual(['active', 'active']);
    // The wallet sees the issuer's changes in its token's history.
    const walletHistory = parseWith(zTokenHistory, await (await c.get(`/v1/tokens/${second.ref}/history`, `Bearer ${OTHER_API_KEY}`)).text());
    expect(walletHistory.history.map((e) => [e.to, e.actor])).toEqual([
      ['active', 'wallet_provider'],
      ['suspended', 'issuer'],
      ['active', 'issuer'],
    ]);
  });

  it('finds a card\'s tokens by the issuer\'s account id (deleted ones too), with the last four of card and token only', async () => {
    const pan = panOf(903);
    const a = await c.provision(pan, API_KEY, 'acct-903');
    const b = await c.provision(pan, OTHER_API_KEY, 'acct-903');
    await c.post(`/v1/tokens/${a.ref}/lifecycle`, { action: 'delete', reason: 'customer_request' });
    const found = parseWith(zIssuerTokenSearchResult, await (await c.post('/v1/issuer/tokens/search', { accountId: 'acct-903' }, { authorization: await c.issuerAuth() })).text());
    expect(found.tokens.map((t) => [t.tokenReferenceId, t.status, t.accountId, t.panLast4]).sort()).toEqual(
      [
        [a.ref, 'deleted', 'acct-903', pan.slice(-4)],
        [b.ref, 'active', 'acct-903', pan.slice(-4)],
      ].sort(),
    );
    // The whole account, closed: only the token that was not deleted yet changes.
    const closed = await c.post('/v1/issuer/cards/events', { accountId: 'acct-903', event: 'closed' }, { authorization: await c.issuerAuth() });
    expect(parseWith(zCardLifecycleResult, await closed.text()).tokens).toEqual([{ tokenReferenceId: b.ref, status: 'deleted', previousStatus: 'active' }]);
    const other = await c.post('/v1/issuer/tokens/search', { accountId: 'acct-903' }, { authorization: await c.issuerAuth('bank-b', h.bankB.privateJwk) });
    expect(parseWith(zIssuerTokenSearchResult, await other.text())).toEqual({ tokens: [] });
  });

  it('takes a reissued card\'s new expiry into its vault entries (token.updated), and deletes every token of a closed card', async () => {
    const pan = panOf(901);
    const a = await c.provision(pan);
    const b = await c.provision(pan, OTHER_API_KEY);
    const cipher = createVaultCipherFromConfig(parseConfig(h.fx.config).keys.vault);
    const reissued = await c.post('/v1/issuer/cards/events', { pan, event: 'reissued', expiry: { month: 6, year: 2033 } }, { authorization: await c.issuerAuth() });
    expect(reissued.status).toBe(200);
    expect(parseWith(zCardLifecycleResult, await reissued.text()).tokens).toHaveLength(2);
    for (const ref of [a.ref, b.ref]) {
      const vault = (await store().vault.find(ref))!;
      expect(openVaultCard({ cipher }, vault)).toEqual({ pan, expiry: { month: 6, year: 2033 } });
      expect((await store().events.ofToken(ref)).at(-1)?.body).toMatchObject({ type: 'token.updated', status: 'active', reason: 'card_reissued', actor: 'issuer' });
    }
    const closed = await c.post('/v1/issuer/cards/events', { pan, event: 'closed' }, { authorization: await c.issuerAuth() });
    expect(parseWith(zCardLifecycleResult, await closed.text()).tokens.map((t) => [t.status, t.previousStatus])).toEqual([
      ['deleted', 'active'],
      ['deleted', 'active'],
    ]);
    for (const ref of [a.ref, b.ref]) {
      expect(await store().vault.find(ref)).toBeUndefined();
      expect((await store().lifecycle.history(ref)).at(-1)).toMatchObject({ to: 'deleted', reason: 'card_closed', actor: 'issuer' });
    }
    // Deleted tokens have no vault entry: the card number finds nothing now.
    const search = await c.post('/v1/issuer/tokens/search', { pan }, { authorization: await c.issuerAuth() });
    expect(parseWith(zIssuerTokenSearchResult, await search.text())).toEqual({ tokens: [] });
  });

  it('keeps a re-provisioned card\'s later expiry in its vault entry (token.updated) instead of dropping it', async () => {
    const pan = panOf(902);
    const identifiers = createIdentifiers();
    const first = await buildSubmission(h.fx, { identifiers, card: { pan, expiry: { month: 12, year: 2030 } } });
    const created = await postSubmission(h.servers[0]!.url, first.submission);
    const ref = parseProvisioningResponse(await created.text()).tokenReferenceId;
    const again = await buildSubmission(h.fx, { identifiers: createIdentifiers({ walletAccountId: identifiers.walletAccountId, deviceId: identifiers.deviceId }), card: { pan, expiry: { month: 3, year: 2034 } } });
    const answer = await postSubmission(h.servers[0]!.url, again.submission);
    expect(answer.status).toBe(200);
    expect(parseProvisioningResponse(await answer.text()).tokenReferenceId).toBe(ref);
    const cipher = createVaultCipherFromConfig(parseConfig(h.fx.config).keys.vault);
    expect(openVaultCard({ cipher }, (await store().vault.find(ref))!).expiry).toEqual({ month: 3, year: 2034 });
    expect((await store().events.ofToken(ref)).map((e) => e.type)).toEqual(['token.created', 'token.updated']);
  });

  it('reports a token past its expiry month as expired (status, history, search)', async () => {
    const { ref, pan } = await c.provision();
    const expiry = parseTokenStatusResponse(await (await c.get(`/v1/tokens/${ref}`)).text()).tokenExpiry;
    const now = h.fx.clock.now();
    try {
      h.fx.clock.set(Date.UTC(expiry.year, expiry.month - 1, 28));
      expect(parseTokenStatusResponse(await (await c.get(`/v1/tokens/${ref}`)).text()).status).toBe('active');
      h.fx.clock.set(Date.UTC(expiry.year, expiry.month, 1));
      expect(parseTokenStatusResponse(await (await c.get(`/v1/tokens/${ref}`)).text()).status).toBe('expired');
      expect(parseWith(zIssuerTokenStatusResponse, await (await c.get(`/v1/issuer/tokens/${ref}`, await c.issuerAuth())).text()).status).toBe('expired');
      expect(parseWith(zTokenHistory, await (await c.get(`/v1/tokens/${ref}/history`)).text()).status).toBe('expired');
      const search = await c.post('/v1/issuer/tokens/search', { pan }, { authorization: await c.issuerAuth() });
      expect(parseWith(zIssuerTokenSearchResult, await search.text()).tokens.map((t) => t.status)).toEqual(['expired']);
    } finally {
      h.fx.clock.set(now);
    }
  });

  it('never logs a card or token number', () => {
    expect(h.logs.join('\n')).not.toMatch(/[0-9]{12,}/);
  });
});

describe('two instances on one PostgreSQL database', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await start('postgres', 2);
  });
  afterAll(async () => {
    await h.close();
  });

  it('let exactly one of racing suspends of a token win, then exactly one of racing deletes, each with exactly one event', async () => {
    const [one, two] = [client(h, h.servers[0]), client(h, h.servers[1])];
    const race = async (ref: string, action: 'suspend' | 'delete') =>
      Promise.all(
        Array.from({ length: 6 }, async (_, i) => {
          const side = i % 2 === 0 ? one : two;
          return i % 3 === 0
            ? side.post(`/v1/issuer/tokens/${ref}/lifecycle`, { action, reason: 'suspected_fraud' }, { authorization: await side.issuerAuth() })
            : side.post(`/v1/tokens/${ref}/lifecycle`, { action, reason: 'card_lost' });
        }),
      );
    for (let round = 0; round < 3; round++) {
      const { ref } = await one.provision(panOf(950 + round));
      for (const [action, events] of [
        ['suspend', 2],
        ['delete', 3],
      ] as const) {
        const responses = await race(ref, action);
        expect(responses.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409, 409]);
        for (const r of responses.filter((x) => x.status === 409)) expect(((await r.json()) as { code: string }).code).toBe('token_state_conflict');
        expect((await h.servers[1]!.service.store.events.ofToken(ref)).map((e) => e.sequence)).toEqual(Array.from({ length: events }, (_, i) => i + 1));
      }
    }
  });

  it('keep a mixed race of suspends and deletes consistent: every answered change is exactly one event, in order', async () => {
    const [one, two] = [client(h, h.servers[0]), client(h, h.servers[1])];
    const { ref } = await one.provision(panOf(960));
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? one : two).post(`/v1/tokens/${ref}/lifecycle`, { action: i % 4 < 2 ? 'suspend' : 'delete', reason: 'card_lost' })),
    );
    const won = await Promise.all(responses.filter((r) => r.status === 200).map(async (r) => parseWith(zLifecycleResponse, await r.text())));
    expect(responses.every((r) => r.status === 200 || r.status === 409)).toBe(true);
    const events = await h.servers[0]!.service.store.events.ofToken(ref);
    expect(events).toHaveLength(1 + won.length);
    // The changes answered 200 are exactly the events after token.created, and they chain.
    const changes = events.slice(1).map((e) => [e.body.previousStatus, e.body.status]);
    expect(won.map((w) => [w.previousStatus, w.status]).sort()).toEqual([...changes].sort());
    for (let i = 1; i < changes.length; i++) expect(changes[i]![0]).toBe(changes[i - 1]![1]);
    expect(won.filter((w) => w.status === 'deleted').length).toBeLessThanOrEqual(1);
    expect(won.length).toBeGreaterThanOrEqual(1);
  });
});
