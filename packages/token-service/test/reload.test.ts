// Configuration without restart (RunningTokenServer.reload) over real HTTP
// on 127.0.0.1: under a bounded load, a reload adds an issuer and rotates
// the encryption key in one step; no request fails, the new issuer is
// accepted from then on, requests encrypted to the old key are accepted
// during the grace period and refused (unknown_key) after it. A request in
// flight finishes on the configuration it started with. A bad configuration
// is refused and logged, and the service goes on.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Card, type JwkPair, type KeyJwk, generateSigningKey, luhnValid, parseProblemDetails, parseProvisioningResponse, parsePublicJwks, toPublicJwk } from '@pushprov/protocol';
import { type LogEvent, type TokenServiceConfigInput, createPinoLogger, generateKeySet } from '../src/index.js';
import { type RunningTokenServer, startTokenServer } from '../src/server.js';
import { CARD, type Fixture, NOW, buildSubmission, createFixture, createIdentifiers, createTempDir, postSubmission } from './helpers.js';

const servers: RunningTokenServer[] = [];
const temps: ReturnType<typeof createTempDir>[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const t of temps.splice(0)) t.remove();
});

/** A Luhn-valid 16-digit PAN starting with `prefix`. */
function luhnPan(prefix: string): string {
  const body = prefix.padEnd(15, '0');
  for (let d = 0; d <= 9; d++) if (luhnValid(`${body}${d}`)) return `${body}${d}`;
  throw new Error('unreachable');
}

const BANK_B = 'bank-b';
const PAN_B = luhnPan('422222');
const CARD_B: Card = { pan: PAN_B, expiry: { month: 12, year: 2030 }, cardholderName: 'Grace Hopper' };

interface World {
  fx: Fixture;
  bankB: JwkPair;
  newKey: KeyJwk;
  /** The fixture's configuration, with a grace period of 120 s. */
  before: TokenServiceConfigInput;
  /** bank-b added, the encryption key svc-1 replaced by svc-2 (the vault keys kept). */
  after: TokenServiceConfigInput;
}

async function world(): Promise<World> {
  const fx = await createFixture();
  const bankB = await generateSigningKey({ alg: 'ES256', kid: 'bank-b-1' });
  const newKey = (await generateKeySet({ kid: 'svc-2' })).encryptionKeys.keys[0]! as KeyJwk;
  const before: TokenServiceConfigInput = { ...structuredClone(fx.config), lifetimes: { keyGraceSeconds: 120 } };
  const after = structuredClone(before);
  after.keys = { encryptionKeys: { keys: [newKey as never] }, vault: fx.keySet.vault };
  after.issuers.push({ id: BANK_B, jwks: { keys: [bankB.publicJwk] }, binRanges: [{ start: '422222', end: '422222' }], walletProviders: ['wallet-co'] });
  return { fx, bankB, newKey, before, after };
}

/** A fresh submission of bank-a (the fixture's issuer) or bank-b, encrypted to `encryptionKey`. */
async function submissionFor(w: World, who: 'bank-a' | 'bank-b', encryptionKey: KeyJwk) {
  const fx = { ...w.fx, serviceEncryptionKey: toPublicJwk(encryptionKey), ...(who === BANK_B ? { issuer: w.bankB } : {}) };
  const options = who === BANK_B ? { card: CARD_B, claims: (c: object) => ({ ...c, iss: BANK_B }) } : { card: CARD };
  return (await buildSubmission(fx, { ...options, identifiers: createIdentifiers() })).submission;
}

async function start(w: World, extra: { decide?: Parameters<typeof startTokenServer>[0]['decide']; logs?: LogEvent[] } = {}) {
  const temp = createTempDir('reload-');
  temps.push(temp);
  const logs = extra.logs ?? [];
  const server = await startTokenServer({
    config: w.before,
    dbPath: join(temp.dir, 'tokens.db'),
    clock: w.fx.clock,
    purgeIntervalMs: 0,
    logger: { info: (e) => logs.push(e), error: (e) => logs.push(e) },
    ...(extra.decide ? { decide: extra.decide } : {}),
  });
  servers.push(server);
  return server;
}

const codeOf = async (response: Response) => parseProblemDetails(await response.text()).code;

describe('reload', () => {
  it('under load: adds an issuer and rotates the encryption key with no failed request; the old key decrypts through the grace period only', async () => {
    const w = await world();
    w.fx.clock.set(NOW);
    const oldKey = w.fx.keySet.encryptionKeys.keys[0]! as KeyJwk;
    const server = await start(w);
    // Before: bank-b is unknown, svc-2 is no key of the service.
    expect(await codeOf(await postSubmission(server.url, await submissionFor(w, BANK_B, w.newKey)))).toBe('unknown_key');
    expect(await codeOf(await postSubmission(server.url, await submissionFor(w, BANK_B, oldKey)))).toBe('unknown_issuer');

    // Four clients, each 20 requests in turn (encrypted to the old key, as an issuer with a cached key set does).
    const statuses: number[] = [];
    let reloaded: Promise<unknown> | undefined;
    const client = async () => {
      for (let i = 0; i < 20; i++) {
        const response = await postSubmission(server.url, await submissionFor(w, 'bank-a', oldKey));
        statuses.push(response.status);
        if (response.status !== 201) throw new Error(`request failed: ${response.status} ${await response.text()}`);
        if (statuses.length === 30) reloaded ??= server.reload(w.after);
      }
    };
    await Promise.all([client(), client(), client(), client()]);
    const result = (await reloaded) as Awaited<ReturnType<RunningTokenServer['reload']>>;
    expect(statuses).toHaveLength(80);
    expect(statuses.every((s) => s === 201)).toBe(true);
    expect(result).toMatchObject({ encryptionKeyIds: ['svc-2'], graceKeys: [{ kid: oldKey.kid, untilMs: NOW + 120_000 }], issuers: 2 });

    // After: the new issuer and the new key at once; only svc-2 is published.
    expect((await postSubmission(server.url, await submissionFor(w, BANK_B, w.newKey))).status).toBe(201);
    expect((await postSubmission(server.url, await submissionFor(w, 'bank-a', w.newKey))).status).toBe(201);
    const jwks = parsePublicJwks(await (await fetch(`${server.url}/.well-known/jwks.json`)).json());
    expect(jwks.keys.map((k) => k.kid)).toEqual(['svc-2']);
    expect(server.service.publicJwks().keys.map((k) => k.kid)).toEqual(['svc-2']);
    // The old key through the grace period, to its last millisecond.
    w.fx.clock.set(NOW + 119_999);
    expect((await postSubmission(server.url, await submissionFor(w, BANK_B, oldKey))).status).toBe(201);
    // Then refused.
    w.fx.clock.set(NOW + 120_000);
    expect(await codeOf(await postSubmission(server.url, await submissionFor(w, 'bank-a', oldKey)))).toBe('unknown_key');
    expect((await postSubmission(server.url, await submissionFor(w, 'bank-a', w.newKey))).status).toBe(201);
  });

  it('lets a request in flight finish on the configuration it started with', async () => {
    const w = await world();
    w.fx.clock.set(NOW);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered: () => void = () => undefined;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    let hold = true;
    const server = await start(w, {
      decide: async (): Promise<'approve'> => {
        if (hold) {
          hold = false;
          entered();
          await gate;
        }
        return 'approve';
      },
    });
    const oldKey = w.fx.keySet.encryptionKeys.keys[0]! as KeyJwk;
    const pending = postSubmission(server.url, await submissionFor(w, 'bank-a', oldKey));
    await inside;
    // The next configuration issues from another token range.
    await server.reload({ ...w.after, tokenRange: { bin: '489538', length: 16 } });
    const next = parseProvisioningResponse(await (await postSubmission(server.url, await submissionFor(w, 'bank-a', w.newKey))).text());
    expect(next.accessData!.tokenNumber.startsWith('489538')).toBe(true);
    release();
    const response = await pending;
    expect(response.status).toBe(201);
    expect(parseProvisioningResponse(await response.text()).accessData!.tokenNumber.startsWith('489537')).toBe(true);
  });

  it('refuses a bad configuration, logs why in one line without secrets, and goes on with the running one', async () => {
    const w = await world();
    w.fx.clock.set(NOW);
    const logs: LogEvent[] = [];
    const server = await start(w, { logs });
    const oldKey = w.fx.keySet.encryptionKeys.keys[0]! as KeyJwk;

    // Invalid: an issuer without BIN ranges.
    const invalid = structuredClone(w.after);
    invalid.issuers[1]!.binRanges = [];
    await expect(server.reload(invalid)).rejects.toMatchObject({ code: 'configuration_invalid' });
    // Valid, but the vault keys would change the fingerprint key the store was built with.
    const otherVault = (await generateKeySet({ kekId: 'kek-other' })).vault!;
    const changed = { ...structuredClone(w.after), keys: { encryptionKeys: { keys: [w.newKey as never] }, vault: otherVault } };
    await expect(server.reload(changed)).rejects.toMatchObject({ code: 'configuration_invalid' });

    const refusals = logs.filter((e) => e.msg === 'reload refused');
    expect(refusals).toHaveLength(2);
    expect(refusals[0]).toMatchObject({ code: 'configuration_invalid', reason: expect.stringContaining('issuers[1].binRanges') });
    expect(refusals[1]).toMatchObject({ code: 'configuration_invalid', reason: expect.stringContaining('fingerprint key') });
    const text = JSON.stringify(refusals);
    for (const secret of [w.newKey.d!, oldKey.d!, otherVault.keks[0]!.key, w.fx.keySet.vault!.keks[0]!.key]) expect(text).not.toContain(secret);
    for (const line of refusals) expect(String(line.reason)).not.toContain('\n');

    // The running configuration is untouched: the old key, no bank-b.
    expect((await postSubmission(server.url, await submissionFor(w, 'bank-a', oldKey))).status).toBe(201);
    expect(await codeOf(await postSubmission(server.url, await submissionFor(w, BANK_B, w.newKey)))).toBe('unknown_key');
    expect(server.service.publicJwks().keys.filter((k) => k.use !== 'sig').map((k) => k.kid)).toEqual([oldKey.kid]);
    // And a good one is still applied afterwards.
    await server.reload(w.after);
    expect((await postSubmission(server.url, await submissionFor(w, BANK_B, w.newKey))).status).toBe(201);
    expect(logs.filter((e) => e.msg === 'configuration reloaded')).toHaveLength(1);
  });

  it('applies rate limits from a reload, counted in the same store', async () => {
    const w = await world();
    w.fx.clock.set(NOW);
    const server = await start(w);
    const oldKey = w.fx.keySet.encryptionKeys.keys[0]! as KeyJwk;
    for (let i = 0; i < 3; i++) expect((await postSubmission(server.url, await submissionFor(w, 'bank-a', oldKey))).status).toBe(201);
    const limited = structuredClone(w.before);
    limited.walletProviders[0]!.rateLimit = { perMinute: 2 };
    await server.reload(limited);
    // Counting starts with the limit: two more, then 429.
    for (let i = 0; i < 2; i++) expect((await postSubmission(server.url, await submissionFor(w, 'bank-a', oldKey))).status).toBe(201);
    const refused = await postSubmission(server.url, await submissionFor(w, 'bank-a', oldKey));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('60');
  });

  it('applies log.level to a pino-backed logger that follows the configuration, and names what needs a restart', async () => {
    const w = await world();
    const temp = createTempDir('reload-level-');
    temps.push(temp);
    const lines: string[] = [];
    const logger = createPinoLogger({ level: 'silent', write: (line) => lines.push(line), clock: w.fx.clock });
    const server = await startTokenServer({
      config: { ...w.before, metrics: { path: '/metrics' } },
      dbPath: join(temp.dir, 'tokens.db'),
      clock: w.fx.clock,
      purgeIntervalMs: 0,
      logger,
      followConfigLogLevel: true,
    });
    servers.push(server);
    const requests = () => lines.filter((l) => l.includes('"msg":"request"')).length;
    // Following the configuration from the start: its log.level (info), not the logger's own `silent`.
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect(requests()).toBe(1);
    const quiet = await server.reload({ ...w.before, metrics: { path: '/metrics' }, log: { level: 'error' } });
    expect(quiet).toMatchObject({ logLevel: 'error', notApplied: [] });
    expect(logger.pino.level).toBe('error');
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await postSubmission(server.url, await submissionFor(w, 'bank-a', w.fx.keySet.encryptionKeys.keys[0]! as KeyJwk))).status).toBe(201);
    expect(requests()).toBe(1);
    // The metrics setting cannot change without a restart: named, and the running one goes on.
    const moved = await server.reload({ ...w.before, metrics: { path: '/other-metrics' }, log: { level: 'debug' } });
    expect(moved).toMatchObject({ logLevel: 'debug', notApplied: ['metrics'] });
    expect(server.metricsUrl).toBe(`${server.url}/metrics`);
    expect((await fetch(server.metricsUrl!)).status).toBe(200);
    expect(requests()).toBe(2);
    // Each reload's own line is written at the more verbose of the two levels.
    expect(lines.filter((l) => l.includes('"msg":"configuration reloaded"')).map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ level: 'info', logLevel: 'error' }),
      expect.objectContaining({ level: 'info', logLevel: 'debug', notApplied: 'metrics (needs a restart)' }),
    ]);

    // An injected logger that does not follow (the default) keeps its level through a reload.
    const own = createPinoLogger({ level: 'warn', write: () => undefined });
    const temp2 = createTempDir('reload-level-');
    temps.push(temp2);
    const pinned = await startTokenServer({ config: w.before, dbPath: join(temp2.dir, 'tokens.db'), clock: w.fx.clock, purgeIntervalMs: 0, logger: own });
    servers.push(pinned);
    const result = await pinned.reload({ ...w.before, log: { level: 'debug' } });
    expect(result.logLevel).toBeUndefined();
    expect(own.pino.level).toBe('warn');
  });
});
