// Rate limits (docs/protocol.md sections 6 and 7; src/ratelimit) over real
// HTTP on 127.0.0.1: the wallet provider's limit right after
// authentication, the issuer's after step 12, the per-card limit at the end
// of step 14; each answers 429 rate_limited with the Retry-After of its
// window and writes nothing else. Then across two instances on one
// PostgreSQL database: the limits hold in total.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type Card, parseProblemDetails } from '@pushprov/protocol';
import { cardLimitKey, createVaultCipherFromConfig, migratePostgres, parseConfig, type TokenServiceConfigInput } from '../src/index.js';
import { type RunningTokenServer, startTokenServer } from '../src/server.js';
import { testDatabaseUrl } from '../../../test/support/postgres.js';
import {
  API_KEY,
  CARD,
  type Fixture,
  NOW,
  OTHER_API_KEY,
  PAN,
  PAN_2,
  buildSubmission,
  countRows,
  createFixture,
  createIdentifiers,
  createTempDir,
  postSubmission,
} from './helpers.js';

const servers: RunningTokenServer[] = [];
const temps: ReturnType<typeof createTempDir>[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const t of temps.splice(0)) t.remove();
});
afterAll(() => undefined);

/** The fixture's configuration with rate limits on its wallet provider `wallet-co` and its issuer. */
function withLimits(fx: Fixture, limits: { walletProvider?: { perMinute?: number }; issuer?: { perMinute?: number; perCardPerDay?: number } }): TokenServiceConfigInput {
  const config = structuredClone(fx.config);
  if (limits.walletProvider) config.walletProviders[0]!.rateLimit = limits.walletProvider;
  if (limits.issuer) config.issuers[0]!.rateLimit = limits.issuer;
  return config;
}

async function startSqlite(fx: Fixture, config: TokenServiceConfigInput): Promise<{ server: RunningTokenServer; dbPath: string }> {
  const temp = createTempDir('rate-limits-');
  temps.push(temp);
  const dbPath = join(temp.dir, 'tokens.db');
  const server = await startTokenServer({ config, dbPath, clock: fx.clock, purgeIntervalMs: 0, logger: { info() {}, error() {} } });
  servers.push(server);
  return { server, dbPath };
}

/** A fresh valid submission (a new device each time) for this card. */
const fresh = async (fx: Fixture, card: Card = CARD) => (await buildSubmission(fx, { card, identifiers: createIdentifiers() })).submission;

async function expectRateLimited(response: Response, retryAfterSeconds: number): Promise<void> {
  expect(response.status).toBe(429);
  expect(response.headers.get('retry-after')).toBe(String(retryAfterSeconds));
  const problem = parseProblemDetails(await response.text());
  expect(problem).toMatchObject({ code: 'rate_limited', status: 429, retryable: true });
}

describe('configuration of rate limits', () => {
  it('accepts perMinute for wallet providers, perMinute and perCardPerDay for issuers; none by default; parsing again keeps them', async () => {
    const fx = await createFixture();
    const plain = parseConfig(fx.config);
    expect(plain.walletProviders[0]!.rateLimit).toBeUndefined();
    expect(plain.issuers[0]!.rateLimit).toBeUndefined();
    const limited = parseConfig(withLimits(fx, { walletProvider: { perMinute: 600 }, issuer: { perMinute: 1200, perCardPerDay: 5 } }));
    expect(limited.walletProviders[0]!.rateLimit).toEqual({ perMinute: 600 });
    expect(limited.issuers[0]!.rateLimit).toEqual({ perMinute: 1200, perCardPerDay: 5 });
    expect(parseConfig(limited)).toEqual(limited);
    expect(limited.lifetimes.keyGraceSeconds).toBe(900);
  });

  it('refuses limits that are not positive integers in range, and unknown members, naming the path', async () => {
    const fx = await createFixture();
    for (const [limits, path] of [
      [{ walletProvider: { perMinute: 0 } }, 'walletProviders[0].rateLimit.perMinute'],
      [{ walletProvider: { perMinute: 1.5 } }, 'walletProviders[0].rateLimit.perMinute'],
      [{ issuer: { perCardPerDay: 10_001 } }, 'issuers[0].rateLimit.perCardPerDay'],
      [{ issuer: { perHour: 5 } as never }, 'issuers[0].rateLimit'],
    ] as const) {
      expect(() => parseConfig(withLimits(fx, limits))).toThrow(path);
    }
  });
});

describe('the wallet provider limit (right after authentication)', () => {
  it('allows perMinute requests of a wallet provider, then 429 with Retry-After until the minute ends, before any body check; others are not counted', async () => {
    const fx = await createFixture();
    const { server, dbPath } = await startSqlite(fx, withLimits(fx, { walletProvider: { perMinute: 3 } }));
    fx.clock.set(NOW + 15_000); // 45 s left of the minute
    for (let i = 0; i < 3; i++) expect((await postSubmission(server.url, await fresh(fx))).status).toBe(201);
    const before = countRows(dbPath);
    const refused = await fresh(fx);
    await expectRateLimited(await postSubmission(server.url, refused, { idempotencyKey: 'kept-key' }), 45);
    // Before step 2: not even a body that is not JSON is read.
    await expectRateLimited(await postSubmission(server.url, 'not json', { contentType: 'text/plain' }), 45);
    // Nothing else was written: no idempotency entry, no burnt jti.
    expect(countRows(dbPath)).toEqual(before);
    // Another wallet provider is not counted; status reads are not counted either.
    expect((await postSubmission(server.url, (await buildSubmission(fx, { identifiers: createIdentifiers({ walletProviderId: 'wallet-two' }) })).submission, { apiKey: OTHER_API_KEY })).status).toBe(201);
    // The next minute: the refused request itself, with its key, is accepted.
    fx.clock.set(NOW + 60_000);
    expect((await postSubmission(server.url, refused, { idempotencyKey: 'kept-key', apiKey: API_KEY })).status).toBe(201);
  });

  it('answers a missing credential 401, never 429: only authenticated callers are counted', async () => {
    const fx = await createFixture();
    const { server } = await startSqlite(fx, withLimits(fx, { walletProvider: { perMinute: 1 } }));
    fx.clock.set(NOW);
    expect((await postSubmission(server.url, await fresh(fx))).status).toBe(201);
    expect((await postSubmission(server.url, await fresh(fx), { authorization: 'Bearer nope-nope-nope-nope-nope-nope-nope-nope' })).status).toBe(401);
    await expectRateLimited(await postSubmission(server.url, await fresh(fx)), 60);
  });
});

describe('the issuer limit (after step 12)', () => {
  it('counts only authentic, fresh requests for the issuer; a refused request keeps its jti and key for a later retry', async () => {
    const fx = await createFixture();
    const { server, dbPath } = await startSqlite(fx, withLimits(fx, { issuer: { perMinute: 2 } }));
    fx.clock.set(NOW);
    const first = await fresh(fx);
    expect((await postSubmission(server.url, first, { idempotencyKey: 'first' })).status).toBe(201);
    // A replay of it (another key) is refused at step 12, before the issuer's count.
    expect(parseProblemDetails(await (await postSubmission(server.url, first)).text()).code).toBe('replayed');
    // A request that fails its signature is not counted either.
    const forged = await fresh(fx);
    const parts = forged.encryptedRequest.split('.');
    parts[3] = `${parts[3]!.slice(0, -2)}AA`;
    expect((await postSubmission(server.url, { ...forged, encryptedRequest: parts.join('.') })).status).toBe(422);
    expect((await postSubmission(server.url, await fresh(fx))).status).toBe(201);
    const before = countRows(dbPath);
    const third = await fresh(fx);
    await expectRateLimited(await postSubmission(server.url, third, { idempotencyKey: 'third' }), 60);
    // Released: the same key again is not in flight (409), and the jti is not burnt (not replayed).
    await expectRateLimited(await postSubmission(server.url, third, { idempotencyKey: 'third' }), 60);
    await expectRateLimited(await postSubmission(server.url, third, { idempotencyKey: 'third-again' }), 60);
    expect(countRows(dbPath)).toEqual(before);
    fx.clock.set(NOW + 60_000);
    expect((await postSubmission(server.url, third, { idempotencyKey: 'third' })).status).toBe(201);
  });
});

describe('the per-card limit (end of step 14)', () => {
  it('allows perCardPerDay attempts per card per UTC day, by a hashed fingerprint; card refusals are not counted; other cards are', async () => {
    const fx = await createFixture();
    const config = withLimits(fx, { issuer: { perCardPerDay: 2 } });
    const { server, dbPath } = await startSqlite(fx, config);
    fx.clock.set(NOW); // 12:00 UTC: 12 hours to the next day
    expect((await postSubmission(server.url, await fresh(fx))).status).toBe(201);
    // An expired card is refused at step 14 before the count (and its refusal sticks, as ever).
    expect(parseProblemDetails(await (await postSubmission(server.url, await fresh(fx, { ...CARD, expiry: { month: 1, year: 2020 } }))).text()).code).toBe('card_expired');
    expect((await postSubmission(server.url, await fresh(fx))).status).toBe(201);
    const before = countRows(dbPath);
    const third = await fresh(fx);
    await expectRateLimited(await postSubmission(server.url, third, { idempotencyKey: 'card-3' }), 12 * 3600);
    // Not a decision: nothing is burnt, the key is released.
    await expectRateLimited(await postSubmission(server.url, third, { idempotencyKey: 'card-3' }), 12 * 3600);
    expect(countRows(dbPath)).toEqual(before);
    // Another card of the same issuer has its own count.
    expect((await postSubmission(server.url, await fresh(fx, { ...CARD, pan: PAN_2 }))).status).toBe(201);
    // The counter's key is a hash of the fingerprint: neither the PAN nor the fingerprint is stored there.
    const fingerprint = createVaultCipherFromConfig(parseConfig(config).keys.vault).fingerprintPan(PAN);
    const db = new Database(dbPath, { readonly: true });
    const keys = (db.prepare('SELECT key FROM rate_limits').all() as { key: string }[]).map((r) => r.key);
    db.close();
    expect(keys).toContain(cardLimitKey(fingerprint));
    expect(JSON.stringify(keys)).not.toContain(PAN);
    expect(JSON.stringify(keys)).not.toContain(fingerprint);
    // The next UTC day.
    fx.clock.set(NOW + 12 * 3_600_000);
    expect((await postSubmission(server.url, await fresh(fx))).status).toBe(201);
  });
});

describe('rate limits across two instances on one PostgreSQL database', () => {
  it('hold in total: of concurrent requests spread over both instances, exactly the limit is accepted', async () => {
    const fx = await createFixture();
    const url = await testDatabaseUrl();
    await migratePostgres(url);
    const config = withLimits(fx, { walletProvider: { perMinute: 5 }, issuer: { perCardPerDay: 3 } });
    const start = () => startTokenServer({ config, storeUrl: url, clock: fx.clock, purgeIntervalMs: 0, logger: { info() {}, error() {} } });
    const a = await start();
    servers.push(a);
    const b = await start();
    servers.push(b);
    fx.clock.set(NOW);
    const submissions = await Promise.all(Array.from({ length: 12 }, () => fresh(fx, { ...CARD, pan: PAN_2 })));
    const responses = await Promise.all(submissions.map((s, i) => postSubmission((i % 2 === 0 ? a : b).url, s)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(3); // the card's 3 a day come first, within the provider's 5
    expect(statuses.filter((s) => s === 429)).toHaveLength(9);
    // The provider's count: 12 hits this minute already, on both instances.
    await expectRateLimited(await postSubmission(a.url, await fresh(fx)), 60);
    await expectRateLimited(await postSubmission(b.url, await fresh(fx)), 60);

    // The next minute, another day of the card's count goes on: per card, in total across both.
    fx.clock.set(NOW + 60_000);
    const outcomes = [];
    for (const [i, server] of [a, b, a].entries()) outcomes.push((await postSubmission(server.url, await fresh(fx, { ...CARD, pan: PAN }))).status + i * 0);
    expect(outcomes).toEqual([201, 201, 201]);
    const fourth = await postSubmission(b.url, await fresh(fx, { ...CARD, pan: PAN }));
    expect(fourth.status).toBe(429);
    expect(Number(fourth.headers.get('retry-after'))).toBe(12 * 3600 - 60);
  });
});
