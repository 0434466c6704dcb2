// `POST /v1/tokens/query` over real HTTP on 127.0.0.1 (docs/protocol.md
// sections 4.21 and 7.14), on a real SQLite file and on PostgreSQL: only the
// authenticated wallet provider's live tokens of that wallet account, issuer
// and those account ids; never another wallet provider's, wallet account's or
// issuer's; never a deleted, expired or never-provisioned one; a pending
// token says whether a code was sent; bad bodies are 400 and store nothing;
// no answer holds a card or token number.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ErrorCode,
  ERROR_CATALOG,
  type VerificationMethod,
  createIssuerAssertion,
  luhnCheckDigit,
  parseProvisioningResponse,
  parseTokenQueryResponse,
  parseTokenStatusResponse,
  parseVerificationStarted,
} from '@pushprov/protocol';
import { type TokenServiceConfigInput, createJsonLogger, migratePostgres } from '../src/index.js';
import { type RunningTokenServer, startTokenServer } from '../src/server.js';
import type { VerificationCodeContext } from '../src/service/hooks.js';
import { testDatabaseUrl } from '../../../test/support/postgres.js';
import { API_KEY, OTHER_API_KEY, SERVICE_ID, type Fixture, buildSubmission, createFixture, createIdentifiers, createTempDir, postSubmission } from './helpers.js';

const SMS: VerificationMethod[] = [{ id: 'sms', type: 'otp_sms', destination: '•••• 0199' }];

/** A card of `bin`'s range, distinct per `n`; a last four starting with 9 (suffix `9xx`) is stepped up. */
const panOf = (n: number, suffix = '001', bin = '41111100'): string => {
  const body = `${bin}${String(n).padStart(4, '0')}${suffix}`;
  return `${body}${luhnCheckDigit(body)}`;
};

async function expectProblem(response: Response, code: ErrorCode): Promise<Record<string, unknown>> {
  const body = (await response.json()) as Record<string, unknown>;
  expect({ status: response.status, code: body.code }).toEqual({ status: ERROR_CATALOG[code].status, code });
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return body;
}

interface Harness {
  fx: Fixture;
  server: RunningTokenServer;
  outbox: VerificationCodeContext[];
  logs: string[];
  close(): Promise<void>;
}

async function start(kind: 'sqlite' | 'postgres'): Promise<Harness> {
  const fx = await createFixture();
  // A second issuer with a range of its own (signing with the fixture's issuer key: only its id differs).
  const config: TokenServiceConfigInput = {
    ...fx.config,
    issuers: [...fx.config.issuers, { id: 'bank-b', jwks: { keys: [fx.issuer.publicJwk] }, binRanges: [{ start: '422222', end: '422222' }], walletProviders: ['wallet-co'] }],
  };
  const outbox: VerificationCodeContext[] = [];
  const logs: string[] = [];
  const temp = kind === 'sqlite' ? createTempDir('token-query-http-') : undefined;
  const storeUrl = kind === 'postgres' ? await testDatabaseUrl() : undefined;
  if (storeUrl) await migratePostgres(storeUrl);
  const server = await startTokenServer({
    config,
    ...(temp ? { dbPath: join(temp.dir, 'tokens.db') } : { storeUrl: storeUrl! }),
    clock: fx.clock,
    purgeIntervalMs: 0,
    logger: createJsonLogger({ write: (line) => logs.push(line), clock: fx.clock, level: 'debug' }),
    decide: ({ panLast4 }) => (panLast4.startsWith('9') ? { decision: 'step_up', methods: SMS } : 'approve'),
    sendVerificationCode: (context) => {
      outbox.push(context);
    },
  });
  return {
    fx,
    server,
    outbox,
    logs,
    async close() {
      await server.close();
      temp?.remove();
    },
  };
}

describe.each(['sqlite', 'postgres'] as const)('POST /v1/tokens/query (%s)', (kind) => {
  let h: Harness;
  let cardNo = 0;
  /** What the answers and the stored rows must never hold: every card and token number provisioned. */
  const numbers: string[] = [];
  beforeAll(async () => {
    h = await start(kind);
  });
  afterAll(async () => {
    await h.close();
  });
  const store = () => h.server.service.store;

  const post = (path: string, body: unknown, options: { apiKey?: string; authorization?: string | null; key?: string | null; contentType?: string } = {}) => {
    const headers: Record<string, string> = { 'content-type': options.contentType ?? 'application/json' };
    if (options.authorization !== null) headers.authorization = options.authorization ?? `Bearer ${options.apiKey ?? API_KEY}`;
    if (options.key !== null) headers['idempotency-key'] = options.key ?? `k-${Math.random().toString(36).slice(2)}`;
    return fetch(`${h.server.url}${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  };
  const query = (walletAccountId: string, accountIds: string[], options: Parameters<typeof post>[2] & { issuerId?: string } = {}) =>
    post('/v1/tokens/query', { type: 'token-query', version: 1, walletAccountId, issuerId: options.issuerId ?? 'bank-a', accountIds }, options);
  /** The answer's text (checked for numbers) and its parsed tokens. */
  const tokensOf = async (response: Response) => {
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const text = await response.text();
    for (const n of numbers) expect(text).not.toContain(n);
    expect(text).not.toMatch(/[0-9]{12,}/);
    return parseTokenQueryResponse(text).tokens;
  };

  /** Provisions a card for (wallet provider, wallet account, device) with an account id; returns the token reference id. */
  const provision = async (options: { walletAccountId: string; accountId: string; deviceId?: string; apiKey?: string; suffix?: string; bin?: string; issuer?: 'bank-a' | 'bank-b'; expiryYear?: number }) => {
    const identifiers = createIdentifiers({
      walletAccountId: options.walletAccountId,
      ...(options.deviceId === undefined ? {} : { deviceId: options.deviceId }),
      ...(options.apiKey === OTHER_API_KEY ? { walletProviderId: 'wallet-two' } : {}),
    });
    const pan = panOf(++cardNo, options.suffix, options.issuer === 'bank-b' ? '42222200' : '41111100');
    const card = { pan, expiry: { month: 12, year: options.expiryYear ?? 2040 } };
    const { submission } = await buildSubmission(h.fx, {
      identifiers,
      card,
      accountId: options.accountId,
      ...(options.issuer === 'bank-b' ? { claims: (claims) => ({ ...claims, iss: 'bank-b' }) } : {}),
    });
    const response = await postSubmission(h.server.url, submission, { apiKey: options.apiKey ?? API_KEY });
    expect(response.status).toBe(201);
    const body = parseProvisioningResponse(await response.text());
    numbers.push(pan);
    if (body.accessData) numbers.push(body.accessData.tokenNumber);
    return body.tokenReferenceId;
  };

  it('answers the live tokens of that wallet account, issuer and account ids, by account id then oldest first, with their devices', async () => {
    const user = `user-${++cardNo}`;
    const b = await provision({ walletAccountId: user, accountId: 'acc-b', deviceId: 'phone' });
    h.fx.clock.advance(1_000);
    const a2 = await provision({ walletAccountId: user, accountId: 'acc-a', deviceId: 'tablet' });
    h.fx.clock.advance(1_000);
    const a1Later = await provision({ walletAccountId: user, accountId: 'acc-a', deviceId: 'phone' });
    const tokens = await tokensOf(await query(user, ['acc-b', 'acc-a', 'acc-never']));
    expect(tokens).toEqual([
      { tokenReferenceId: a2, accountId: 'acc-a', deviceId: 'tablet', status: 'active', activationStarted: false },
      { tokenReferenceId: a1Later, accountId: 'acc-a', deviceId: 'phone', status: 'active', activationStarted: false },
      { tokenReferenceId: b, accountId: 'acc-b', deviceId: 'phone', status: 'active', activationStarted: false },
    ]);
    // A never-provisioned account alone: nothing.
    expect(await tokensOf(await query(user, ['acc-never']))).toEqual([]);
  });

  it('never answers another wallet provider\'s, another wallet account\'s or another issuer\'s token', async () => {
    const user = `user-${++cardNo}`;
    const mine = await provision({ walletAccountId: user, accountId: 'acc-1' });
    const otherProvider = await provision({ walletAccountId: user, accountId: 'acc-1', apiKey: OTHER_API_KEY });
    await provision({ walletAccountId: `${user}-other`, accountId: 'acc-1' });
    const otherIssuer = await provision({ walletAccountId: user, accountId: 'acc-1', issuer: 'bank-b' });
    expect((await store().tokens.find(otherIssuer))?.issuerId).toBe('bank-b');

    expect((await tokensOf(await query(user, ['acc-1']))).map((t) => t.tokenReferenceId)).toEqual([mine]);
    // The other wallet provider sees its own token only, whatever the body says.
    expect((await tokensOf(await query(user, ['acc-1'], { apiKey: OTHER_API_KEY }))).map((t) => t.tokenReferenceId)).toEqual([otherProvider]);
    // bank-b's token, asked about as bank-b: found; as bank-a (above): never.
    expect((await tokensOf(await query(user, ['acc-1'], { issuerId: 'bank-b' }))).map((t) => t.tokenReferenceId)).toEqual([otherIssuer]);
    // An issuer the service does not know: nothing, the same as an account that is not there.
    expect(await tokensOf(await query(user, ['acc-1'], { issuerId: 'bank-z' }))).toEqual([]);
    // A body naming a wallet provider is refused (the caller is the authenticated party).
    await expectProblem(
      await post('/v1/tokens/query', { type: 'token-query', version: 1, walletAccountId: user, issuerId: 'bank-a', accountIds: ['acc-1'], walletProviderId: 'wallet-two' }),
      'invalid_message',
    );
  });

  it('leaves out deleted and expired tokens', async () => {
    const user = `user-${++cardNo}`;
    const deleted = await provision({ walletAccountId: user, accountId: 'acc-del' });
    expect((await post(`/v1/tokens/${deleted}/lifecycle`, { action: 'delete', reason: 'customer_request' })).status).toBe(200);
    const suspended = await provision({ walletAccountId: user, accountId: 'acc-sus' });
    expect((await post(`/v1/tokens/${suspended}/lifecycle`, { action: 'suspend', reason: 'card_lost' })).status).toBe(200);
    const old = await provision({ walletAccountId: user, accountId: 'acc-exp' });
    const ids = ['acc-del', 'acc-sus', 'acc-exp'];
    expect((await tokensOf(await query(user, ids))).map((t) => [t.tokenReferenceId, t.status])).toEqual([
      [old, 'active'],
      [suspended, 'suspended'],
    ]);
    // Past the old token's expiry month: it is expired, and gone from the answer (the suspended one too: same month).
    const expiry = parseTokenStatusResponse(await (await fetch(`${h.server.url}/v1/tokens/${old}`, { headers: { authorization: `Bearer ${API_KEY}` } })).text()).tokenExpiry;
    const now = h.fx.clock.now();
    try {
      h.fx.clock.set(Date.UTC(expiry.year, expiry.month, 1));
      const fresh = await provision({ walletAccountId: user, accountId: 'acc-exp', expiryYear: 2045 });
      expect((await tokensOf(await query(user, ids))).map((t) => t.tokenReferenceId)).toEqual([fresh]);
    } finally {
      h.fx.clock.set(now);
    }
  });

  it('says activationStarted once a verification code was sent for a pending token, and active after the activation', async () => {
    const user = `user-${++cardNo}`;
    const ref = await provision({ walletAccountId: user, accountId: 'acc-up', suffix: '900' });
    expect(await tokensOf(await query(user, ['acc-up']))).toEqual([{ tokenReferenceId: ref, accountId: 'acc-up', deviceId: expect.any(String), status: 'pending_activation', activationStarted: false }]);
    const sent = await post(`/v1/tokens/${ref}/verification`, { type: 'verification-request', version: 1, methodId: 'sms' });
    expect(parseVerificationStarted(await sent.text()).methodId).toBe('sms');
    expect((await tokensOf(await query(user, ['acc-up']))).map((t) => [t.status, t.activationStarted])).toEqual([['pending_activation', true]]);
    const code = [...h.outbox].reverse().find((m) => m.tokenReferenceId === ref)!.code;
    const activated = await post(`/v1/tokens/${ref}/activation`, { type: 'activation-request', version: 1, methodId: 'sms', code });
    expect(activated.status).toBe(200);
    const after = await query(user, ['acc-up']);
    const afterText = await after.clone().text();
    expect(afterText).not.toContain(code);
    expect((await tokensOf(after)).map((t) => [t.status, t.activationStarted])).toEqual([['active', false]]);
  });

  it('refuses too many, no or duplicate account ids and bad bodies with 400 invalid_message (or their own code), storing nothing', async () => {
    const user = `user-${++cardNo}`;
    await provision({ walletAccountId: user, accountId: 'acc-1' });
    const counts = async () => ({
      tokens: await store().tokens.count(),
      idempotency: await store().idempotency.count(),
      events: await store().events.count(),
      replay: await store().replay.count(),
    });
    const before = await counts();
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `acc-${i}`);
    expect((await tokensOf(await query(user, ids(16)))).map((t) => t.accountId)).toEqual(['acc-1']);
    await expectProblem(await query(user, ids(17)), 'invalid_message');
    await expectProblem(await query(user, []), 'invalid_message');
    await expectProblem(await query(user, ['acc-1', 'acc-2', 'acc-1']), 'invalid_message');
    await expectProblem(await query(user, ['not an id']), 'invalid_message');
    await expectProblem(await post('/v1/tokens/query', { type: 'token-query', version: 1, issuerId: 'bank-a', accountIds: ['acc-1'] }), 'invalid_message');
    await expectProblem(await post('/v1/tokens/query', { type: 'token-query', version: 2, walletAccountId: user, issuerId: 'bank-a', accountIds: ['acc-1'] }), 'unsupported_version');
    await expectProblem(await post('/v1/tokens/query', '{"type":"token-query",'), 'invalid_json');
    await expectProblem(await post('/v1/tokens/query', 'x'.repeat(40_000)), 'payload_too_large');
    await expectProblem(await query(user, ['acc-1'], { key: null }), 'missing_idempotency_key');
    await expectProblem(await query(user, ['acc-1'], { contentType: 'text/plain' }), 'unsupported_media_type');
    expect(await counts()).toEqual(before);
  });

  it('refuses a caller without a wallet provider credential with 401 (an issuer assertion is none), and other methods with 405', async () => {
    const user = `user-${++cardNo}`;
    await provision({ walletAccountId: user, accountId: 'acc-1' });
    const none = await query(user, ['acc-1'], { authorization: null });
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    await expectProblem(none, 'unauthenticated');
    await expectProblem(await query(user, ['acc-1'], { authorization: 'Bearer not-a-key-of-anyone-0123456789' }), 'unauthenticated');
    const issuer = `Bearer ${await createIssuerAssertion({ issuerId: 'bank-a', audience: SERVICE_ID, signingKey: h.fx.issuer.privateJwk, clock: h.fx.clock })}`;
    await expectProblem(await query(user, ['acc-1'], { authorization: issuer }), 'unauthenticated');
    const get = await fetch(`${h.server.url}/v1/tokens/query`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(get.headers.get('allow')).toBe('POST');
    await expectProblem(get, 'method_not_allowed');
  });

  it('logs each query under its route, never a card or token number', () => {
    expect(h.logs.join('\n')).not.toMatch(/[0-9]{12,}/);
    expect(h.logs.some((line) => line.includes('"route":"/v1/tokens/query"'))).toBe(true);
  });
});

describe('POST /v1/tokens/query and the wallet provider rate limit', () => {
  it('counts against the wallet provider\'s limit: 429 rate_limited with Retry-After, before the body is read', async () => {
    const fx = await createFixture();
    const config = structuredClone(fx.config);
    config.walletProviders[0]!.rateLimit = { perMinute: 1 };
    const temp = createTempDir('token-query-limit-');
    const server = await startTokenServer({ config, dbPath: join(temp.dir, 'tokens.db'), clock: fx.clock, purgeIntervalMs: 0, logger: createJsonLogger({ write: () => undefined }) });
    try {
      fx.clock.set(Date.UTC(2026, 10, 28, 12, 0, 20));
      const ask = (body: unknown, apiKey = API_KEY) =>
        fetch(`${server.url}/v1/tokens/query`, {
          method: 'POST',
          headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'idempotency-key': `q-${Math.random().toString(36).slice(2)}` },
          body: JSON.stringify(body),
        });
      const query = { type: 'token-query', version: 1, walletAccountId: 'user-42', issuerId: 'bank-a', accountIds: ['acc-1'] };
      expect(parseTokenQueryResponse(await (await ask(query)).text())).toEqual({ tokens: [] });
      const limited = await ask({ not: 'even a query' });
      expect(limited.headers.get('retry-after')).toBe('40');
      await expectProblem(limited, 'rate_limited');
      // Another wallet provider has its own count.
      expect((await ask(query, OTHER_API_KEY)).status).toBe(200);
    } finally {
      await server.close();
      temp.remove();
    }
  });
});
