// Notifications end to end on one instance with the SQLite store (spec
// section 14): lifecycle changes over HTTP, the dispatcher delivering signed
// notifications to an issuer's and a wallet provider's receivers (the
// protocol's handler), through 500s and a receiver that is down; the feed
// holds the same events; redeliver sends one again (a duplicate for the
// receiver); the published signing key verifies them.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type NotificationEvent,
  createIssuerAssertion,
  luhnCheckDigit,
  parseProvisioningResponse,
  parsePublicJwks,
  zNotificationFeed,
  zRedeliveryAccepted,
} from '@pushprov/protocol';
import { type TokenServiceConfigInput, createJsonLogger, openSqliteStore } from '../src/index.js';
import { type RunningTokenServer, startTokenServer } from '../src/server.js';
import { API_KEY, OTHER_API_KEY, SERVICE_ID, type Fixture, buildSubmission, createFixture, createIdentifiers, createTempDir, postSubmission } from './helpers.js';
import { type TestReceiver, sequencesByToken, startReceiver, waitUntil } from './notification-receiver.js';

// Last four 999x: approved by the sandbox rules (no step-up).
/** Parses an answer with its protocol schema. */
const parseAs = <T>(schema: { parse(input: unknown): T }, text: string): T => schema.parse(JSON.parse(text));

const panOf = (n: number): string => {
  const body = `4111113${String(n).padStart(4, '0')}9999`;
  return `${body}${luhnCheckDigit(body)}`;
};

let fx: Fixture;
let temp: ReturnType<typeof createTempDir>;
let server: RunningTokenServer;
let bank: TestReceiver;
let wallet: TestReceiver;
const logs: string[] = [];

beforeAll(async () => {
  fx = await createFixture();
  temp = createTempDir('notifications-');
  bank = await startReceiver('bank-a', SERVICE_ID);
  wallet = await startReceiver('wallet-co', SERVICE_ID);
  const config: TokenServiceConfigInput = {
    ...fx.config,
    issuers: fx.config.issuers.map((i) => ({ ...i, notifications: { endpoint: bank.url } })),
    walletProviders: fx.config.walletProviders.map((p) => (p.id === 'wallet-co' ? { ...p, notifications: { endpoint: wallet.url } } : p)),
    notifications: { pollIntervalMs: 20, leaseMs: 5_000, timeoutMs: 2_000, retry: { initialDelayMs: 20, maxDelayMs: 200, giveUpAfterSeconds: 300 } },
  };
  // Real time: the signed notifications' iat is checked by the receivers against their own clock.
  server = await startTokenServer({
    config,
    dbPath: join(temp.dir, 'tokens.db'),
    purgeIntervalMs: 0,
    metrics: { path: '/metrics' },
    logger: createJsonLogger({ write: (line) => logs.push(line) }),
  });
  const jwks = parsePublicJwks(await (await fetch(`${server.url}/.well-known/jwks.json`)).json());
  bank.trust(jwks);
  wallet.trust(jwks);
}, 60_000);

afterAll(async () => {
  await server?.close();
  await bank?.stop();
  await wallet?.stop();
  temp?.remove();
});

const post = (path: string, body: unknown, authorization = `Bearer ${API_KEY}`) =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization, 'idempotency-key': `k-${Math.random().toString(36).slice(2)}` },
    body: JSON.stringify(body),
  });
const issuerAuth = async () => `Bearer ${await createIssuerAssertion({ issuerId: 'bank-a', audience: SERVICE_ID, signingKey: fx.issuer.privateJwk })}`;
let cards = 0;
const provision = async (apiKey = API_KEY): Promise<string> => {
  fx.clock.set(Date.now());
  const identifiers = createIdentifiers(apiKey === OTHER_API_KEY ? { walletProviderId: 'wallet-two' } : {});
  const { submission } = await buildSubmission(fx, { identifiers, card: { pan: panOf(++cards), expiry: { month: 12, year: 2031 } } });
  const response = await postSubmission(server.url, submission, { apiKey });
  expect(response.status).toBe(201);
  return parseProvisioningResponse(await response.text()).tokenReferenceId;
};
/** Every page of a party's feed. */
const readFeed = async (authorization: () => Promise<string> | string): Promise<NotificationEvent[]> => {
  const events: NotificationEvent[] = [];
  let cursor = '0';
  for (;;) {
    const response = await fetch(`${server.url}/v1/events?after=${cursor}&limit=5`, { headers: { authorization: await authorization() } });
    expect(response.status).toBe(200);
    const page = parseAs(zNotificationFeed, await response.text());
    events.push(...page.events);
    if (page.events.length === 0) {
      expect(page.cursor).toBe(cursor);
      return events;
    }
    cursor = page.cursor;
  }
};
const pendingOf = async () => (await server.service.store.deliveries.stats(Date.now())).pending;

describe('notifications on one instance (SQLite)', () => {
  it('delivers every event to the issuer and the wallet provider, once each and in order per token, through 500s and an outage', async () => {
    bank.failNext(4);
    const tokens = [await provision(), await provision(), await provision()];
    for (const ref of tokens) expect((await post(`/v1/tokens/${ref}/lifecycle`, { action: 'suspend', reason: 'card_lost', actor: 'cardholder' })).status).toBe(200);
    await waitUntil(() => bank.failed >= 4, 10_000, 'the first failures');
    await bank.down();
    for (const ref of tokens) expect((await post(`/v1/tokens/${ref}/lifecycle`, { action: 'resume', reason: 'customer_request' })).status).toBe(200);
    expect((await post(`/v1/issuer/tokens/${tokens[0]}/lifecycle`, { action: 'delete', reason: 'card_stolen' }, await issuerAuth())).status).toBe(200);
    // While the bank is down its deliveries wait (connection refused), the wallet's go on.
    await waitUntil(async () => wallet.processed.length === 10, 10_000, 'the wallet provider');
    const bankErrors = async () => {
      const ids = (await server.service.store.events.feed({ party: 'issuer:bank-a', after: 0, limit: 100 })).map((e) => e.eventId);
      return Promise.all(ids.map(async (id) => (await server.service.store.deliveries.find(id, 'issuer:bank-a'))?.lastError));
    };
    await waitUntil(async () => (await bankErrors()).includes('connection refused'), 10_000, 'a refused connection');
    await bank.up();
    await waitUntil(async () => (await pendingOf()) === 0, 20_000, 'every delivery');

    const bankFeed = await readFeed(issuerAuth);
    const walletFeed = await readFeed(() => `Bearer ${API_KEY}`);
    expect(bankFeed).toHaveLength(10);
    expect(walletFeed).toEqual(bankFeed);
    for (const receiver of [bank, wallet]) {
      expect(new Set(receiver.processed.map((e) => e.eventId))).toEqual(new Set(bankFeed.map((e) => e.eventId)));
      expect(receiver.processed).toHaveLength(10);
      expect(receiver.refused).toBe(0);
      for (const [ref, sequences] of sequencesByToken(receiver.processed)) expect([ref, sequences]).toEqual([ref, ref === tokens[0] ? [1, 2, 3, 4] : [1, 2, 3]]);
    }
    expect(bank.processed.find((e) => e.type === 'token.deleted')).toMatchObject({ tokenReferenceId: tokens[0], actor: 'issuer', reason: 'card_stolen', status: 'deleted', previousStatus: 'active' });
    // The metrics: attempts by outcome; the outbox read at the scrape (nothing pending, no lag).
    const metrics = await (await fetch(server.metricsUrl!)).text();
    const value = (name: string) => Number(new RegExp(`^pushprov_token_service_${name} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(value('notification_attempts_total{outcome="delivered"}')).toBe(20);
    expect(value('notification_attempts_total{outcome="retry"}')).toBeGreaterThanOrEqual(5);
    expect(value('notification_deliveries{state="pending"}')).toBe(0);
    expect(value('notification_deliveries{state="dead"}')).toBe(0);
    expect(value('notification_outbox_lag_seconds')).toBe(0);
    expect(logs.some((line) => line.includes('"msg":"notification attempt failed"') && line.includes('connection refused'))).toBe(true);
    // Nothing of a card number in the notifications (nor its last four digits).
    const sent = JSON.stringify([...bank.processed, ...wallet.processed]);
    for (let n = 1; n <= cards; n++) expect(sent).not.toContain(panOf(n).slice(-8));
  });

  it("dead-letters a party's deliveries without an endpoint; feed and redeliver are the party's own", async () => {
    const ref = await provision(OTHER_API_KEY);
    await waitUntil(async () => (await pendingOf()) === 0, 10_000, 'the new deliveries');
    const [created] = await server.service.store.events.ofToken(ref);
    expect(await server.service.store.deliveries.find(created!.eventId, 'wallet:wallet-two')).toMatchObject({ state: 'dead', lastError: 'no endpoint', attempts: 1 });
    // Expected for a party that reads the feed: logged at info, never as an error.
    const deadLine = logs.map((line) => JSON.parse(line) as { msg?: string; eventId?: string; level?: string }).find((l) => l.msg === 'notification dead-lettered' && l.eventId === created!.eventId);
    expect(deadLine?.level).toBe('info');
    expect(bank.processed.some((e) => e.eventId === created!.eventId)).toBe(true);
    // wallet-two reads its feed; wallet-co does not see it.
    expect((await readFeed(() => `Bearer ${OTHER_API_KEY}`)).map((e) => e.eventId)).toEqual([created!.eventId]);
    expect((await readFeed(() => `Bearer ${API_KEY}`)).map((e) => e.eventId)).not.toContain(created!.eventId);
    // Redeliver: its own event only; a malformed id is refused; another party's is not found.
    const other = await post(`/v1/events/${created!.eventId}/redeliver`, {});
    expect([other.status, ((await other.json()) as { code: string }).code]).toEqual([404, 'not_found']);
    const malformed = await post('/v1/events/not-an-id!/redeliver', {}, `Bearer ${OTHER_API_KEY}`);
    expect([malformed.status, ((await malformed.json()) as { code: string }).code]).toEqual([400, 'invalid_message']);
    const accepted = await post(`/v1/events/${created!.eventId}/redeliver`, {}, `Bearer ${OTHER_API_KEY}`);
    expect(accepted.status).toBe(202);
    expect(parseAs(zRedeliveryAccepted, await accepted.text())).toEqual({ eventId: created!.eventId, state: 'pending' });
    // Still no endpoint: dead again, attempted once more.
    await waitUntil(async () => (await server.service.store.deliveries.find(created!.eventId, 'wallet:wallet-two'))?.state === 'dead', 10_000, 'dead again');

    // The bank redelivers an event it already has: sent again, answered as a duplicate, processed once.
    const duplicatesBefore = bank.duplicates;
    const again = await post(`/v1/events/${created!.eventId}/redeliver`, {}, await issuerAuth());
    expect(again.status).toBe(202);
    await waitUntil(() => bank.duplicates === duplicatesBefore + 1, 10_000, 'the duplicate');
    expect(bank.processed.filter((e) => e.eventId === created!.eventId)).toHaveLength(1);
  });

  it('refuses a feed cursor or limit that is not valid, and a caller without credentials', async () => {
    for (const query of ['after=-1', 'after=abc', 'limit=0', 'limit=1001', 'after=1.5']) {
      const response = await fetch(`${server.url}/v1/events?${query}`, { headers: { authorization: `Bearer ${API_KEY}` } });
      expect([query, response.status, ((await response.json()) as { code: string }).code]).toEqual([query, 400, 'invalid_message']);
    }
    const anonymous = await fetch(`${server.url}/v1/events`);
    expect([anonymous.status, ((await anonymous.json()) as { code: string }).code]).toEqual([401, 'unauthenticated']);
  });

  it('stops with the server: an attempt in flight is aborted and recorded due again, before the store closes', async () => {
    const slow = await startReceiver('bank-a', SERVICE_ID);
    const own = createTempDir('notifications-stop-');
    const path = join(own.dir, 'tokens.db');
    try {
      slow.hang();
      const config: TokenServiceConfigInput = {
        ...fx.config,
        issuers: fx.config.issuers.map((i) => ({ ...i, notifications: { endpoint: slow.url } })),
        notifications: { pollIntervalMs: 20, leaseMs: 60_000, timeoutMs: 30_000 },
      };
      const stopping = await startTokenServer({ config, dbPath: path, purgeIntervalMs: 0, logger: createJsonLogger({ write: () => undefined }) });
      fx.clock.set(Date.now());
      const { submission } = await buildSubmission(fx, { identifiers: createIdentifiers(), card: { pan: panOf(++cards), expiry: { month: 12, year: 2031 } } });
      expect((await postSubmission(stopping.url, submission)).status).toBe(201);
      await waitUntil(() => slow.held === 1, 10_000, 'the attempt in flight');
      // The POST would wait 30 s for its timeout; the close aborts it (recorded `aborted`, not `timeout`).
      await stopping.close();
      const store = openSqliteStore(path);
      try {
        const [event] = await store.events.feed({ party: 'issuer:bank-a', after: 0, limit: 10 });
        expect(await store.deliveries.find(event!.eventId, 'issuer:bank-a')).toMatchObject({ state: 'pending', attempts: 1, lastError: 'aborted', leaseOwner: null, leaseUntil: null });
      } finally {
        await store.close();
      }
    } finally {
      await slow.stop();
      own.remove();
    }
  });
});
