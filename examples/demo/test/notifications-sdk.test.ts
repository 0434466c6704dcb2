// Signed notifications end to end, over real HTTP on 127.0.0.1: the real token
// service (SQLite; then two instances on one PostgreSQL database) delivers every token change to the bank's receiver
// (`createNotificationHandler` of `@pushprov/issuer-sdk/server`) and to the
// wallet provider's (`@pushprov/wallet-sdk/notifications`), both verifying
// against the service's JWKS fetched by URL. The bank's receiver fails its
// first deliveries: the retries are processed, each event exactly once, in
// `sequence` order per token. A forged, altered or replayed notification is
// refused; the feed lists the same events; a dead-lettered delivery is
// redelivered.
import { mkdtempSync, rmSync } from 'node:fs';
import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseUrl } from '../../../test/support/postgres.js';
import { type NotificationEvent, createIssuerTokenServiceClient, createNotificationHandler as createBankHandler } from '@pushprov/issuer-sdk/server';
import {
  type JwkPair,
  createMemoryNotificationDedupStore,
  createNonce,
  createRequestClaims,
  createSessionId,
  generateSigningKey,
  isProvisioningError,
  luhnCheckDigit,
  sealProvisioningRequest,
  signNotification,
  toPublicJwk,
} from '@pushprov/protocol';
import { type TokenServiceConfigInput, generateKeySet, migrateStore } from '@pushprov/token-service';
import { type RunningTokenServer, startTokenServer } from '@pushprov/token-service/server';
import { createHttpTokenServiceClient } from '@pushprov/wallet-sdk/http';
import { createNotificationHandler as createWalletHandler, verifyNotification } from '@pushprov/wallet-sdk/notifications';

const SERVICE_ID = 'ts-notify';

/** A receiver: a Node http server around a Fetch handler, keeping every body it was sent. */
interface Receiver {
  url: string;
  bodies: string[];
  answers: number[];
  server: Server;
}

async function startReceiver(handle: () => (request: Request) => Promise<Response>): Promise<Receiver> {
  const receiver: Receiver = { url: '', bodies: [], answers: [], server: undefined as unknown as Server };
  const read = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };
  receiver.server = createServer(async (req, res) => {
    const body = await read(req);
    receiver.bodies.push(body);
    const headers = new Headers();
    for (const name of ['content-type', 'x-pushprov-event-id']) if (typeof req.headers[name] === 'string') headers.set(name, req.headers[name] as string);
    const response = await handle()(new Request(`http://127.0.0.1${req.url}`, { method: req.method ?? 'GET', headers, ...(req.method === 'POST' ? { body } : {}) }));
    receiver.answers.push(response.status);
    res.writeHead(response.status, { 'content-type': response.headers.get('content-type') ?? 'text/plain' }).end(await response.text());
  });
  await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/hooks/pushprov`;
  return receiver;
}

interface Harness {
  servers: RunningTokenServer[];
  /** The base URL of instance `i` (calls alternate between instances). */
  url(i?: number): string;
  bankA: JwkPair;
  bankB: JwkPair;
  walletKey: JwkPair;
  keySet: Awaited<ReturnType<typeof generateKeySet>>;
  bankReceiver: Receiver;
  walletReceiver: Receiver;
  bankProcessed: NotificationEvent[];
  walletProcessed: NotificationEvent[];
  /** Every card and token number provisioned: none may be in a notification. */
  secrets: string[];
  close(): Promise<void>;
}

async function start(kind: 'sqlite' | 'postgres', instances: number): Promise<Harness> {
  const scratch = mkdtempSync(join(tmpdir(), 'pushprov-notify-sdk-'));
  const [bankA, bankB, walletKey, keySet] = await Promise.all([
    generateSigningKey({ kid: 'bank-a-1' }),
    generateSigningKey({ kid: 'bank-b-1' }),
    generateSigningKey({ kid: 'wallet-co-1' }),
    generateKeySet({ kid: 'ts-enc-1' }),
  ]);
  const bankProcessed: NotificationEvent[] = [];
  const walletProcessed: NotificationEvent[] = [];
  let bankFailuresLeft = 2;
  let bankHandler: ((request: Request) => Promise<Response>) | undefined;
  let walletHandler: ((request: Request) => Promise<Response>) | undefined;
  // The handlers are made once the token service's URL (its JWKS) is known.
  const bankReceiver = await startReceiver(() => bankHandler!);
  const walletReceiver = await startReceiver(() => walletHandler!);
  const config: TokenServiceConfigInput = {
    serviceId: SERVICE_ID,
    keys: keySet,
    issuers: [
      { id: 'bank-a', jwks: { keys: [bankA.publicJwk] }, binRanges: [{ start: '411111', end: '411111' }], walletProviders: ['wallet-co'], notifications: { endpoint: bankReceiver.url } },
      // bank-b has no endpoint: its deliveries are dead-lettered ('no endpoint'), it reads the feed.
      { id: 'bank-b', jwks: { keys: [bankB.publicJwk] }, binRanges: [{ start: '522222', end: '522222' }], walletProviders: ['wallet-co'] },
    ],
    walletProviders: [{ id: 'wallet-co', jwks: { keys: [walletKey.publicJwk] }, notifications: { endpoint: walletReceiver.url } }],
    tokenRange: { bin: '489537', length: 16 },
    notifications: { pollIntervalMs: 20, retry: { initialDelayMs: 20, maxDelayMs: 100 } },
  };
  const storeUrl = kind === 'postgres' ? await testDatabaseUrl() : undefined;
  if (storeUrl) await migrateStore(storeUrl);
  const servers: RunningTokenServer[] = [];
  for (let i = 0; i < instances; i++) {
    servers.push(await startTokenServer({ config, ...(storeUrl ? { storeUrl } : { dbPath: join(scratch, 'tokens.db') }), purgeIntervalMs: 0, logLevel: 'error' }));
  }
  // Each receiver fetches the key set of one instance: every instance publishes the same keys.
  const jwks = `${servers[0]!.url}/.well-known/jwks.json`;
  bankHandler = createBankHandler({
    jwks,
    issuer: SERVICE_ID,
    audience: 'bank-a',
    onEvent: (event) => {
      if (bankFailuresLeft > 0) {
        bankFailuresLeft--;
        throw new Error('the bank database is down');
      }
      bankProcessed.push(event);
    },
  });
  walletHandler = createWalletHandler({ jwks, issuer: SERVICE_ID, audience: 'wallet-co', onEvent: (event) => void walletProcessed.push(event) });
  let calls = 0;
  return {
    servers,
    url: (i = calls++) => servers[i % servers.length]!.url,
    bankA,
    bankB,
    walletKey,
    keySet,
    bankReceiver,
    walletReceiver,
    bankProcessed,
    walletProcessed,
    secrets: [],
    async close() {
      for (const s of servers) await s.close();
      for (const r of [bankReceiver, walletReceiver]) await new Promise<void>((resolve) => r.server.close(() => resolve()));
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

const wallet = (h: Harness) =>
  createHttpTokenServiceClient({ baseUrl: h.url(), auth: { walletProviderId: 'wallet-co', audience: SERVICE_ID, signingKey: h.walletKey.privateJwk } });
const issuer = (h: Harness, id: 'bank-a' | 'bank-b') =>
  createIssuerTokenServiceClient({ issuerId: id, signingKey: id === 'bank-a' ? h.bankA.privateJwk : h.bankB.privateJwk, tokenService: { baseUrl: h.url(), audience: SERVICE_ID } });

let cardNo = 0;
async function provision(h: Harness, issuerId: 'bank-a' | 'bank-b'): Promise<string> {
  const body = `${issuerId === 'bank-a' ? '411111' : '522222'}${String(++cardNo).padStart(9, '0')}`;
  const identifiers = { type: 'identifiers' as const, version: 1 as const, sessionId: createSessionId(), walletProviderId: 'wallet-co', walletAccountId: 'user-1', deviceId: `d-${cardNo}`, nonce: createNonce() };
  const claims = createRequestClaims({ issuerId, audience: SERVICE_ID, identifiers, card: { pan: `${body}${luhnCheckDigit(body)}`, expiry: { month: 12, year: 2031 } } });
  const encryptedRequest = await sealProvisioningRequest({
    claims,
    signingKey: issuerId === 'bank-a' ? h.bankA.privateJwk : h.bankB.privateJwk,
    encryptionKey: toPublicJwk(h.keySet.encryptionKeys.keys[0]!),
  });
  const { sessionId, walletAccountId, deviceId, nonce } = identifiers;
  const response = await wallet(h).submit({ type: 'submission', version: 1, sessionId, walletAccountId, deviceId, nonce, encryptedRequest });
  h.secrets.push(claims.card!.pan, response.accessData!.tokenNumber);
  return response.tokenReferenceId;
}

/** Waits (polling, no fixed delay) until `done()` holds. */
async function eventually(done: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const summary = (events: NotificationEvent[]) => events.map((e) => `${e.tokenReferenceId}#${e.sequence}:${e.type}`);

describe.each([
  ['sqlite', 1],
  ['postgres', 2],
] as const)('notifications through both SDKs (%s, %i instance(s))', (kind, instances) => {
  let h: Harness;
  beforeAll(async () => {
    h = await start(kind, instances);
  });
  afterAll(async () => {
    await h?.close();
  });
  let one: string;
  let two: string;

  it('delivers every change to the bank and the wallet, each event processed once, in sequence order per token, despite failures', async () => {
    one = await provision(h, 'bank-a');
    two = await provision(h, 'bank-a');
    const client = wallet(h);
    await client.suspendToken(one, { reason: 'card_lost', actor: 'cardholder' });
    await issuer(h, 'bank-a').changeTokenLifecycle(two, { action: 'suspend', reason: 'suspected_fraud' });
    await client.resumeToken(one, { reason: 'customer_request' });
    await client.deleteToken(two, { reason: 'customer_request' });
    const expected = [`${one}#1:token.created`, `${one}#2:token.suspended`, `${one}#3:token.resumed`, `${two}#1:token.created`, `${two}#2:token.suspended`, `${two}#3:token.deleted`];
    await eventually(() => h.bankProcessed.length >= 6 && h.walletProcessed.length >= 6, 'six events at each receiver');
    for (const processed of [h.bankProcessed, h.walletProcessed]) {
      expect([...summary(processed)].sort()).toEqual([...expected].sort());
      for (const ref of [one, two]) expect(processed.filter((e) => e.tokenReferenceId === ref).map((e) => e.sequence)).toEqual([1, 2, 3]);
      expect(new Set(processed.map((e) => e.eventId)).size).toBe(6);
    }
    // The bank's first two answers were 500 (its onEvent threw), and those events came again.
    expect(h.bankReceiver.answers.slice(0, 2)).toEqual([500, 500]);
    expect(h.bankReceiver.answers.filter((s) => s === 200).length).toBeGreaterThanOrEqual(6);
    const suspended = h.bankProcessed.find((e) => e.tokenReferenceId === two && e.type === 'token.suspended')!;
    expect(suspended).toMatchObject({ issuerId: 'bank-a', walletProviderId: 'wallet-co', status: 'suspended', previousStatus: 'active', actor: 'issuer', reason: 'suspected_fraud' });
    // Nothing of a card or token number in what was sent.
    expect(h.secrets).toHaveLength(4);
    for (const body of [...h.bankReceiver.bodies, ...h.walletReceiver.bodies]) {
      const payload = Buffer.from(body.split('.')[1] ?? '', 'base64url').toString();
      for (const secret of h.secrets) expect(payload).not.toContain(secret);
    }
  });

  it('refuses a replayed, a forged and an altered notification', async () => {
    const captured = h.walletReceiver.bodies.at(-1)!;
    // Replayed to the receiver that processed it: 401, nothing processed again.
    const before = h.walletProcessed.length;
    const replay = await fetch(h.walletReceiver.url, { method: 'POST', headers: { 'content-type': 'application/jose' }, body: captured });
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { code: string }).code).toBe('replayed');
    expect(h.walletProcessed.length).toBe(before);
    const options = { jwks: `${h.url(0)}/.well-known/jwks.json`, issuer: SERVICE_ID, audience: 'wallet-co', seen: createMemoryNotificationDedupStore() };
    // verifyNotification refuses the same JWS the second time it is presented.
    await verifyNotification(captured, options);
    const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (isProvisioningError(e) ? e.code : String(e)));
    expect(await code(verifyNotification(captured, options))).toBe('replayed');
    // Forged: signed by another key under the service's kid.
    const [header, payload, signature] = captured.split('.') as [string, string, string];
    const kid = (JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string }).kid;
    const impostor = await generateSigningKey({ kid });
    const event = (JSON.parse(Buffer.from(payload, 'base64url').toString()) as { event: NotificationEvent }).event;
    const forged = await signNotification({ ...event, eventId: 'Zm9yZ2VkLWV2ZW50LWlkLTAx' }, { key: impostor.privateJwk, issuer: SERVICE_ID, audience: 'wallet-co' });
    expect(await code(verifyNotification(forged, options))).toBe('signature_invalid');
    const forgedAnswer = await fetch(h.walletReceiver.url, { method: 'POST', headers: { 'content-type': 'application/jose' }, body: forged });
    expect(forgedAnswer.status).toBe(401);
    // Altered: the payload changed after signing.
    const changed = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), event: { ...event, status: 'active' } })).toString('base64url');
    expect(await code(verifyNotification(`${header}.${changed}.${signature}`, options))).toBe('signature_invalid');
    expect(h.walletProcessed.length).toBe(before);
  });

  it('lists the same events in the feed, page by page', async () => {
    const bank = issuer(h, 'bank-a');
    const seen: NotificationEvent[] = [];
    let page = await bank.listEvents({ limit: 4 });
    seen.push(...page.events);
    while (page.events.length > 0) {
      page = await bank.listEvents({ after: page.cursor, limit: 4 });
      seen.push(...page.events);
    }
    expect(seen.map((e) => e.eventId).sort()).toEqual(h.bankProcessed.map((e) => e.eventId).sort());
  });

  it('redelivers a dead-lettered event once the party asks', async () => {
    await provision(h, 'bank-b');
    const bank = issuer(h, 'bank-b');
    let events: NotificationEvent[] = [];
    await eventually(async () => (events = (await bank.listEvents()).events).length === 1, 'bank-b’s event in its feed');
    const eventId = events[0]!.eventId;
    const answer = await eventuallyValue(() => bank.redeliverEvent(eventId));
    expect(answer).toEqual({ eventId, state: 'pending' });
    expect((await issuer(h, 'bank-a').redeliverEvent(eventId).then(() => 'ok', (e: unknown) => (isProvisioningError(e) ? e.code : 'x')))).toBe('not_found');
  });
});

/** Retries `task` until it resolves (a delivery becomes dead asynchronously): its value. */
async function eventuallyValue<T>(task: () => Promise<T>): Promise<T> {
  let last: unknown;
  for (let i = 0; i < 500; i++) {
    try {
      return await task();
    } catch (error) {
      last = error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  throw last;
}
