// The dispatcher over the memory deliveries, with a real webhook receiver on
// 127.0.0.1 that uses the protocol's notification handler (verify, dedup,
// onEvent): it first fails (500), then is down (connection refused), then
// comes back; every event arrives, is processed once, in order per token.
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { afterEach, describe, expect, it } from 'vitest';
import { type NotificationEvent, createNotificationHandler, generateSigningKey, signNotification, signingKeyFromJwk, systemClock } from '@pushprov/protocol';
import { createNotificationDispatcher, type DispatchContext } from '../src/notifications/dispatcher.js';
import { nextAttemptAt, retryDelayMs } from '../src/notifications/backoff.js';
import { createMemoryDeliveries } from '../src/store/memory/memory-deliveries.js';
import type { DeliveryRecord, LifecycleEventBody } from '../src/store/delivery-types.js';
import type { NotificationSettings } from '../src/config/parse-config.js';
import { seededRandom } from './helpers.js';

const SERVICE_ID = 'ts-dispatch';

/** A memory outbox filled the way a lifecycle change fills it: one event, one delivery per receiver. */
function createOutbox() {
  const events = new Map<string, LifecycleEventBody>();
  const rows = new Map<string, DeliveryRecord>();
  let n = 0;
  const add = (tokenReferenceId: string, sequence: number, receivers: string[], nowMs: number) => {
    const eventId = `evt${String(++n).padStart(4, '0')}-${'x'.repeat(20)}`;
    events.set(eventId, {
      eventId,
      type: sequence === 1 ? 'token.created' : sequence % 2 === 0 ? 'token.suspended' : 'token.resumed',
      tokenReferenceId,
      issuerId: 'bank-a',
      walletProviderId: 'wallet-co',
      status: sequence === 1 || sequence % 2 === 1 ? 'active' : 'suspended',
      ...(sequence === 1 ? {} : { previousStatus: sequence % 2 === 0 ? 'active' : 'suspended' }),
      reason: 'customer_request',
      actor: 'issuer',
      occurredAt: Math.floor(nowMs / 1000),
      sequence,
    });
    for (const receiver of receivers) {
      rows.set(JSON.stringify([eventId, receiver]), {
        eventId,
        receiver,
        tokenReferenceId,
        sequence,
        state: 'pending',
        attempts: 0,
        nextAttemptAt: nowMs,
        leaseOwner: null,
        leaseUntil: null,
        lastError: null,
        firstAttemptAt: null,
        deliveredAt: null,
      });
    }
    return eventId;
  };
  const deliveries = createMemoryDeliveries(
    {
      deliveries: () => rows.values(),
      delivery: (eventId, receiver) => rows.get(JSON.stringify([eventId, receiver])),
      eventBody: (eventId) => events.get(eventId),
    },
    () => undefined,
  );
  return { add, deliveries, rows, events };
}

/** A receiver: the protocol's handler, behind a switch (fail with 500, or be down). */
async function startReceiver(audience: string, jwks: { keys: unknown[] }) {
  const processed: NotificationEvent[] = [];
  let duplicates = 0;
  let requests = 0;
  let failNext = 0;
  let failed = 0;
  const handler = createNotificationHandler({
    jwks: jwks as never,
    issuer: SERVICE_ID,
    audience,
    onEvent: (event) => {
      processed.push(event);
    },
  });
  const listener = getRequestListener(async (request: Request) => {
    requests++;
    if (failNext > 0) {
      failNext--;
      failed++;
      return new Response('down for maintenance', { status: 500 });
    }
    const response = await handler(request);
    if (response.status === 200 && ((await response.clone().json()) as { duplicate?: boolean }).duplicate === true) duplicates++;
    return response;
  });
  let server: Server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/events`,
    processed,
    get duplicates() {
      return duplicates;
    },
    get requests() {
      return requests;
    },
    get failed() {
      return failed;
    },
    failNext(n: number) {
      failNext = n;
    },
    async down() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async up() {
      server = createServer(listener);
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
    async stop() {
      if (server.listening) await this.down();
    },
  };
}

const settings = (overrides: Partial<NotificationSettings['retry']> = {}): NotificationSettings => ({
  pollIntervalMs: 10,
  leaseMs: 2_000,
  timeoutMs: 1_000,
  batchSize: 50,
  retry: { initialDelayMs: 20, maxDelayMs: 150, giveUpAfterSeconds: 60, ...overrides },
});

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/** Polls `runOnce` until `done()` (or fails after 20 s). */
async function until(dispatcher: { runOnce(): Promise<number> }, done: () => boolean) {
  const deadline = Date.now() + 20_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('not delivered in time');
    await dispatcher.runOnce();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('backoff', () => {
  it('draws each delay from 0 to the doubling cap, capped at maxDelayMs (full jitter)', () => {
    const retry = { initialDelayMs: 100, maxDelayMs: 1_000, giveUpAfterSeconds: 60 };
    const random = seededRandom('backoff');
    const caps = [100, 200, 400, 800, 1_000, 1_000];
    caps.forEach((cap, i) => {
      const draws = Array.from({ length: 200 }, () => retryDelayMs(i + 1, retry, random));
      expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...draws)).toBeLessThanOrEqual(cap);
      // Spread over the range, not a fixed delay.
      expect(new Set(draws).size).toBeGreaterThan(20);
    });
  });

  it('never schedules past the give-up time, and gives up once it is reached', () => {
    const retry = { initialDelayMs: 10_000, maxDelayMs: 10_000, giveUpAfterSeconds: 5 };
    const random = seededRandom('giveup');
    for (let i = 0; i < 50; i++) expect(nextAttemptAt({ attempts: 3, firstAttemptAt: 0, nowMs: 1_000 }, retry, random)!).toBeLessThanOrEqual(5_000);
    expect(nextAttemptAt({ attempts: 3, firstAttemptAt: 0, nowMs: 5_000 }, retry, random)).toBeNull();
  });
});

describe('the notification dispatcher', () => {
  it('delivers every event to every receiver once and in order per token, through 500s, a receiver that is down, and its return', async () => {
    const key = await generateSigningKey({ alg: 'ES256', kid: 'ts-sig-1' });
    const handle = signingKeyFromJwk(key.privateJwk);
    const jwks = { keys: [{ ...key.publicJwk, use: 'sig' }] };
    const bank = await startReceiver('bank-a', jwks);
    const wallet = await startReceiver('wallet-co', jwks);
    stops.push(() => bank.stop(), () => wallet.stop());
    const outbox = createOutbox();
    const now = Date.now();
    const tokens = ['tok-a', 'tok-b', 'tok-c'];
    for (let seq = 1; seq <= 4; seq++) for (const t of tokens) outbox.add(t, seq, ['issuer:bank-a', 'wallet:wallet-co', 'wallet:no-endpoint'], now);
    const endpoints: Record<string, string> = { 'issuer:bank-a': bank.url, 'wallet:wallet-co': wallet.url };
    const context: DispatchContext = {
      settings: settings(),
      endpointOf: (receiver) => endpoints[receiver],
      sign: (event, audience) => signNotification(event as NotificationEvent, { key: handle, issuer: SERVICE_ID, audience, clock: systemClock }),
    };
    const outcomes: string[] = [];
    const dispatcher = createNotificationDispatcher({ deliveries: outbox.deliveries, context: () => context, onAttempt: (o) => outcomes.push(o) });

    // The bank fails its first deliveries, then is down for a while.
    bank.failNext(5);
    await until(dispatcher, () => bank.failed === 5);
    await bank.down();
    const bankRows = () => [...outbox.rows.values()].filter((d) => d.receiver === 'issuer:bank-a');
    await until(dispatcher, () => bankRows().some((d) => d.lastError === 'connection refused'));
    await bank.up();
    await until(dispatcher, () => [...outbox.rows.values()].every((d) => d.state !== 'pending'));

    for (const receiver of [bank, wallet]) {
      expect(receiver.processed).toHaveLength(12);
      expect(new Set(receiver.processed.map((e) => e.eventId)).size).toBe(12);
      for (const t of tokens) expect(receiver.processed.filter((e) => e.tokenReferenceId === t).map((e) => e.sequence)).toEqual([1, 2, 3, 4]);
    }
    for (const d of outbox.rows.values()) {
      if (d.receiver === 'wallet:no-endpoint') expect([d.state, d.lastError, d.attempts]).toEqual(['dead', 'no endpoint', 1]);
      else expect(d.state).toBe('delivered');
    }
    expect(outcomes.filter((o) => o === 'retry').length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o === 'delivered')).toHaveLength(24);
  });

  it('dead-letters a delivery once the give-up time has passed; redeliver puts it back, and it then arrives', async () => {
    const key = await generateSigningKey({ alg: 'ES256', kid: 'ts-sig-2' });
    const handle = signingKeyFromJwk(key.privateJwk);
    const bank = await startReceiver('bank-a', { keys: [key.publicJwk] });
    stops.push(() => bank.stop());
    await bank.down();
    const outbox = createOutbox();
    const eventId = outbox.add('tok-d', 1, ['issuer:bank-a'], Date.now());
    const context: DispatchContext = {
      settings: settings({ giveUpAfterSeconds: 1 }),
      endpointOf: () => bank.url,
      sign: (event, audience) => signNotification(event as NotificationEvent, { key: handle, issuer: SERVICE_ID, audience }),
    };
    const dispatcher = createNotificationDispatcher({ deliveries: outbox.deliveries, context: () => context });
    await until(dispatcher, () => outbox.rows.get(JSON.stringify([eventId, 'issuer:bank-a']))!.state === 'dead');
    const dead = (await outbox.deliveries.find(eventId, 'issuer:bank-a'))!;
    expect(dead.lastError).toBe('connection refused');
    expect(dead.attempts).toBeGreaterThan(1);
    expect(dead.nextAttemptAt - dead.firstAttemptAt!).toBeLessThanOrEqual(1_000);

    await bank.up();
    expect(await outbox.deliveries.redeliver({ eventId, receiver: 'issuer:bank-a', nowMs: Date.now() })).toEqual({ found: true, previousState: 'dead' });
    expect(await outbox.deliveries.redeliver({ eventId: 'evt-unknown-xxxxxxxxxxxxxxxx', receiver: 'issuer:bank-a', nowMs: Date.now() })).toEqual({ found: false });
    await until(dispatcher, () => bank.processed.length === 1);
    expect((await outbox.deliveries.find(eventId, 'issuer:bank-a'))!.state).toBe('delivered');
  });

  it('leases: a claimed delivery is no other owner’s until its lease runs out; the next sequence waits for the first', async () => {
    const outbox = createOutbox();
    const t0 = 1_000_000;
    const first = outbox.add('tok-e', 1, ['issuer:bank-a'], t0);
    outbox.add('tok-e', 2, ['issuer:bank-a'], t0);
    const a = await outbox.deliveries.claim({ owner: 'a', nowMs: t0, leaseMs: 1_000, limit: 10 });
    expect(a.map((d) => [d.eventId, d.sequence, d.attempts])).toEqual([[first, 1, 1]]);
    // Another owner, during the lease: nothing (sequence 2 waits for 1).
    expect(await outbox.deliveries.claim({ owner: 'b', nowMs: t0 + 999, leaseMs: 1_000, limit: 10 })).toEqual([]);
    // The lease ran out (owner a died): b takes sequence 1 over; a's late outcome no longer counts.
    const b = await outbox.deliveries.claim({ owner: 'b', nowMs: t0 + 1_000, leaseMs: 1_000, limit: 10 });
    expect(b.map((d) => [d.sequence, d.attempts, d.firstAttemptAt])).toEqual([[1, 2, t0]]);
    expect(await outbox.deliveries.complete({ eventId: first, receiver: 'issuer:bank-a', owner: 'a', nowMs: t0 + 1_001 })).toBe(false);
    expect(await outbox.deliveries.complete({ eventId: first, receiver: 'issuer:bank-a', owner: 'b', nowMs: t0 + 1_001 })).toBe(true);
    const next = await outbox.deliveries.claim({ owner: 'a', nowMs: t0 + 1_002, leaseMs: 1_000, limit: 10 });
    expect(next.map((d) => d.sequence)).toEqual([2]);
  });
});
