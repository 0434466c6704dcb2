// The yellow path over real HTTP (docs/protocol.md section 11), on SQLite and
// PostgreSQL: a step-up decision with methods, the resume, OTP verification
// and activation with every error code, the issuer API, the pending expiry,
// and no one-time code in any log line or stored byte (the SQLite files'
// bytes; every PostgreSQL table's rows as text).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ErrorCode,
  ERROR_CATALOG,
  type VerificationMethod,
  createIssuerAssertion,
  generateSigningKey,
  luhnCheckDigit,
  parseIssuerTokenStatusResponse,
  parseProvisioningResponse,
  parseTokenStatusResponse,
  parseVerificationStarted,
} from '@pushprov/protocol';
import { type TokenServiceConfigInput, createJsonLogger, migratePostgres } from '../src/index.js';
import { type RunningTokenServer, startTokenServer } from '../src/server.js';
import type { VerificationCodeContext } from '../src/service/hooks.js';
import { testDatabaseUrl } from '../../../test/support/postgres.js';
import { API_KEY, OTHER_API_KEY, SERVICE_ID, type Fixture, buildSubmission, createFixture, createIdentifiers, createTempDir, postSubmission } from './helpers.js';

const METHODS: VerificationMethod[] = [
  { id: 'sms', type: 'otp_sms', destination: '•••• 0199' },
  { id: 'email', type: 'otp_email', destination: 'a•••@example.com' },
  { id: 'app', type: 'issuer_app' },
  { id: 'call', type: 'customer_service', phoneNumber: '+44 20 7946 0000' },
];
/** A card of the fixture's range, distinct per `n`, ending in `suffix` and its check digit. */
const panOf = (n: number, suffix = '001'): string => {
  const body = `41111100${String(n).padStart(4, '0')}${suffix}`;
  return `${body}${luhnCheckDigit(body)}`;
};
/** The decide hook of these tests: approve the fixture's card (…1111), step up with SMS only a card ending 9xx, else with every method. */
const SMS_ONLY: VerificationMethod[] = [METHODS[0]!];

async function expectProblem(response: Response, code: ErrorCode): Promise<Record<string, unknown>> {
  const body = (await response.json()) as Record<string, unknown>;
  expect({ status: response.status, code: body.code }).toEqual({ status: ERROR_CATALOG[code].status, code });
  expect(body.retryable).toBe(ERROR_CATALOG[code].retryable);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return body;
}

interface Harness {
  fx: Fixture;
  server: RunningTokenServer;
  outbox: VerificationCodeContext[];
  logs: string[];
  bankB: Awaited<ReturnType<typeof generateSigningKey>>;
  /** The SQLite files, to search for codes. */
  dir?: string;
  /** The PostgreSQL database, to search for codes. */
  storeUrl?: string;
  close(): Promise<void>;
}

async function start(kind: 'sqlite' | 'postgres'): Promise<Harness> {
  const fx = await createFixture();
  const bankB = await generateSigningKey({ alg: 'ES256', kid: 'bank-b-1' });
  const config: TokenServiceConfigInput = {
    ...fx.config,
    issuers: [
      ...fx.config.issuers,
      { id: 'bank-b', jwks: { keys: [bankB.publicJwk] }, binRanges: [{ start: '522222', end: '522222' }], walletProviders: ['wallet-co'] },
    ],
  };
  const outbox: VerificationCodeContext[] = [];
  const logs: string[] = [];
  const temp = kind === 'sqlite' ? createTempDir() : undefined;
  const storeUrl = kind === 'postgres' ? await testDatabaseUrl() : undefined;
  if (storeUrl) await migratePostgres(storeUrl);
  const server = await startTokenServer({
    config,
    ...(temp ? { dbPath: join(temp.dir, 'tokens.db') } : { storeUrl: storeUrl! }),
    clock: fx.clock,
    purgeIntervalMs: 0,
    logger: createJsonLogger({ write: (line) => logs.push(line), clock: fx.clock, level: 'debug' }),
    decide: ({ panLast4 }) => (panLast4 === '1111' ? 'approve' : { decision: 'step_up', methods: panLast4.startsWith('9') ? SMS_ONLY : METHODS }),
    sendVerificationCode: (context) => {
      outbox.push(context);
    },
  });
  return {
    fx,
    server,
    outbox,
    logs,
    bankB,
    ...(temp ? { dir: temp.dir } : {}),
    ...(storeUrl ? { storeUrl } : {}),
    async close() {
      await server.close();
      temp?.remove();
    },
  };
}

describe.each(['sqlite', 'postgres'] as const)('the yellow path over HTTP (%s)', (kind) => {
  let h: Harness;
  let cardNo = 0;
  beforeAll(async () => {
    h = await start(kind);
  });
  afterAll(async () => {
    await h.close();
  });

  const post = (path: string, body: unknown, options: { apiKey?: string; authorization?: string; key?: string | null; contentType?: string } = {}) => {
    const headers: Record<string, string> = {
      'content-type': options.contentType ?? 'application/json',
      authorization: options.authorization ?? `Bearer ${options.apiKey ?? API_KEY}`,
    };
    if (options.key !== null) headers['idempotency-key'] = options.key ?? `k-${Math.random().toString(36).slice(2)}`;
    return fetch(`${h.server.url}${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  };
  const verify = (ref: string, methodId: string, options: Parameters<typeof post>[2] = {}) =>
    post(`/v1/tokens/${ref}/verification`, { type: 'verification-request', version: 1, methodId }, options);
  const activate = (ref: string, methodId: string, code: string, options: Parameters<typeof post>[2] = {}) =>
    post(`/v1/tokens/${ref}/activation`, { type: 'activation-request', version: 1, methodId, code }, options);
  const status = async (ref: string, apiKey = API_KEY) => fetch(`${h.server.url}/v1/tokens/${ref}`, { headers: { authorization: `Bearer ${apiKey}` } });
  const issuerAuth = async (issuerId = 'bank-a', key = h.fx.issuer.privateJwk) =>
    `Bearer ${await createIssuerAssertion({ issuerId, audience: SERVICE_ID, signingKey: key, clock: h.fx.clock })}`;
  const lastCode = (ref: string, methodId: string) => [...h.outbox].reverse().find((m) => m.tokenReferenceId === ref && m.method.id === methodId)!.code;

  /** A new pending token (a fresh card), and what it was provisioned with. */
  const provisionPending = async (suffix = '001', extra: { accountId?: string } = {}) => {
    const identifiers = createIdentifiers();
    const card = { pan: panOf(++cardNo, suffix), expiry: { month: 12, year: 2030 } };
    const { submission } = await buildSubmission(h.fx, { identifiers, card, ...extra });
    const response = await postSubmission(h.server.url, submission);
    expect(response.status).toBe(201);
    const body = parseProvisioningResponse(await response.text());
    return { ref: body.tokenReferenceId, body, identifiers, card };
  };

  it('issues a pending token with the methods, shows them in its status, and resumes it (never a second token)', async () => {
    const { ref, body, identifiers, card } = await provisionPending();
    expect(body.status).toBe('pending_activation');
    expect(body.verification).toEqual({ methods: METHODS, expiresAt: Math.floor(h.fx.clock.now() / 1000) + 7 * 86_400 });
    const tokenStatus = parseTokenStatusResponse(await (await status(ref)).text());
    expect(tokenStatus).toMatchObject({ status: 'pending_activation', verification: body.verification });
    // the resume: the same card, wallet account and device, later
    h.fx.clock.advance(60_000);
    const again = await buildSubmission(h.fx, { identifiers: createIdentifiers({ walletAccountId: identifiers.walletAccountId, deviceId: identifiers.deviceId }), card });
    const resumed = await postSubmission(h.server.url, again.submission);
    expect(resumed.status).toBe(200);
    const resumedBody = parseProvisioningResponse(await resumed.text());
    expect(resumedBody).toMatchObject({ tokenReferenceId: ref, status: 'pending_activation', verification: body.verification });
  });

  it('sends a code by SMS, waits for the cooldown, replaces the code on a resend and activates with the newest code once', async () => {
    const { ref } = await provisionPending();
    const first = await verify(ref, 'sms');
    expect(first.status).toBe(200);
    const started = parseVerificationStarted(await first.text());
    const now = Math.floor(h.fx.clock.now() / 1000);
    expect(started).toEqual({ type: 'verification-started', version: 1, tokenReferenceId: ref, methodId: 'sms', codeLength: 6, codeExpiresAt: now + 600, resendAfter: now + 30, attemptsLeft: 5 });
    const oldCode = lastCode(ref, 'sms');
    expect(oldCode).toMatch(/^[0-9]{6}$/);
    expect(h.outbox.at(-1)).toMatchObject({ issuerId: 'bank-a', tokenReferenceId: ref, method: METHODS[0] });
    // a resend before resendAfter
    const early = await verify(ref, 'sms');
    await expectProblem(early, 'verification_cooldown');
    expect(early.headers.get('retry-after')).toBe('30');
    h.fx.clock.advance(30_000);
    expect((await verify(ref, 'sms')).status).toBe(200);
    const newCode = lastCode(ref, 'sms');
    // the old code no longer works (when it differs), and the attempt counts
    if (oldCode !== newCode) expect((await expectProblem(await activate(ref, 'sms', oldCode), 'verification_code_invalid')).attemptsLeft).toBe(4);
    const ok = await activate(ref, 'sms', newCode);
    expect(ok.status).toBe(200);
    expect(parseTokenStatusResponse(await ok.text())).toMatchObject({ tokenReferenceId: ref, status: 'active' });
    expect(parseTokenStatusResponse(await (await status(ref)).text()).status).toBe('active');
    // single use: the token is no longer pending
    await expectProblem(await activate(ref, 'sms', newCode), 'token_not_pending');
    await expectProblem(await verify(ref, 'sms'), 'token_not_pending');
  });

  it('replays a lost answer for the same key and body, and refuses the key with another body', async () => {
    const { ref } = await provisionPending();
    const key = 'verify-once';
    const a = await verify(ref, 'email', { key });
    expect(a.status).toBe(200);
    const b = await verify(ref, 'email', { key });
    expect(b.status).toBe(200);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    expect(await b.json()).toEqual(await a.json());
    expect(h.outbox.filter((m) => m.tokenReferenceId === ref)).toHaveLength(1);
    await expectProblem(await verify(ref, 'sms', { key }), 'idempotency_key_reused');
    const code = lastCode(ref, 'email');
    const activationKey = 'activate-once';
    const first = await activate(ref, 'email', code, { key: activationKey });
    expect(first.status).toBe(200);
    const replay = await activate(ref, 'email', code, { key: activationKey });
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
  });

  it('counts wrong codes, then refuses even the right code and every resend (the method is locked)', async () => {
    const { ref } = await provisionPending();
    expect((await verify(ref, 'sms')).status).toBe(200);
    const code = lastCode(ref, 'sms');
    const wrong = code === '000000' ? '000001' : '000000';
    for (const left of [4, 3, 2, 1, 0]) {
      expect((await expectProblem(await activate(ref, 'sms', wrong), 'verification_code_invalid')).attemptsLeft).toBe(left);
    }
    await expectProblem(await activate(ref, 'sms', code), 'verification_attempts_exhausted');
    h.fx.clock.advance(31_000);
    await expectProblem(await verify(ref, 'sms'), 'verification_attempts_exhausted');
    expect(h.logs.some((line) => line.includes('"msg":"verification.locked"'))).toBe(true);
    // another method of the same token is counted apart
    expect((await verify(ref, 'email')).status).toBe(200);
    expect((await activate(ref, 'email', lastCode(ref, 'email'))).status).toBe(200);
  });

  it('refuses an expired code (and counts the attempt)', async () => {
    const { ref } = await provisionPending();
    expect((await verify(ref, 'sms')).status).toBe(200);
    const code = lastCode(ref, 'sms');
    h.fx.clock.advance(600_000);
    await expectProblem(await activate(ref, 'sms', code), 'verification_code_expired');
    h.fx.clock.advance(1_000);
    expect((await verify(ref, 'sms')).status).toBe(200);
    const fresh = await verify(ref, 'sms');
    await expectProblem(fresh, 'verification_cooldown');
    expect((await activate(ref, 'sms', lastCode(ref, 'sms'))).status).toBe(200);
  });

  it('refuses methods that are unknown, of another endpoint, or without a code', async () => {
    const { ref } = await provisionPending();
    await expectProblem(await verify(ref, 'nope'), 'verification_method_unavailable');
    await expectProblem(await verify(ref, 'app'), 'verification_method_unavailable');
    await expectProblem(await verify(ref, 'call'), 'verification_method_unavailable');
    await expectProblem(await activate(ref, 'sms', '123456'), 'verification_method_unavailable');
    await expectProblem(await activate(ref, 'app', '123456'), 'verification_method_unavailable');
    // an approved (active) token has nothing to verify
    const { submission } = await buildSubmission(h.fx);
    const active = parseProvisioningResponse(await (await postSubmission(h.server.url, submission)).text());
    expect(active.verification).toBeUndefined();
    await expectProblem(await verify(active.tokenReferenceId, 'sms'), 'token_not_pending');
  });

  it('answers not_found for another wallet provider’s token and for no token, alike', async () => {
    const { ref } = await provisionPending();
    for (const response of [
      await verify(ref, 'sms', { apiKey: OTHER_API_KEY }),
      await activate(ref, 'sms', '123456', { apiKey: OTHER_API_KEY }),
      await verify('tok_unknown', 'sms'),
      await activate('tok_unknown', 'sms', '123456'),
      await status(ref, OTHER_API_KEY),
    ]) {
      const body = await expectProblem(response, 'not_found');
      expect(body.detail).toBe('No such token');
    }
  });

  it('applies the HTTP rules and the body schema first', async () => {
    const { ref } = await provisionPending();
    await expectProblem(await verify(ref, 'sms', { authorization: 'Bearer nope-nope-nope-nope-nope-nope-nope-nope' }), 'unauthenticated');
    await expectProblem(await verify(ref, 'sms', { contentType: 'text/plain' }), 'unsupported_media_type');
    await expectProblem(await verify(ref, 'sms', { key: null }), 'missing_idempotency_key');
    await expectProblem(await verify(ref, 'sms', { key: 'k'.repeat(256) }), 'invalid_idempotency_key');
    await expectProblem(await post(`/v1/tokens/${ref}/verification`, '{"type":'), 'invalid_json');
    await expectProblem(await post(`/v1/tokens/${ref}/verification`, { type: 'verification-request', version: 1, methodId: 'sms', extra: 1 }), 'invalid_message');
    await expectProblem(await post(`/v1/tokens/${ref}/verification`, { type: 'verification-request', version: 2, methodId: 'sms' }), 'unsupported_version');
    await expectProblem(await post(`/v1/tokens/${ref}/activation`, { type: 'activation-request', version: 1, methodId: 'sms', code: '12 34 56' }), 'invalid_message');
    await expectProblem(await post(`/v1/tokens/${ref}/verification`, 'x'.repeat(40_000)), 'payload_too_large');
    const wrongMethod = await fetch(`${h.server.url}/v1/tokens/${ref}/verification`, { method: 'GET', headers: { authorization: `Bearer ${API_KEY}` } });
    await expectProblem(wrongMethod, 'method_not_allowed');
    expect(wrongMethod.headers.get('allow')).toBe('POST');
  });

  it('lets the issuer activate a token of its own card (app-to-app, customer service), once per assertion', async () => {
    const { ref } = await provisionPending();
    const body = { type: 'issuer-activation', version: 1, method: 'issuer_app' };
    // another issuer: indistinguishable from no token
    await expectProblem(await post(`/v1/issuer/tokens/${ref}/activation`, body, { authorization: await issuerAuth('bank-b', h.bankB.privateJwk) }), 'not_found');
    await expectProblem(await post(`/v1/issuer/tokens/tok_unknown/activation`, body, { authorization: await issuerAuth() }), 'not_found');
    // a wallet provider's credentials are not an issuer's
    await expectProblem(await post(`/v1/issuer/tokens/${ref}/activation`, body), 'unauthenticated');
    // an assertion signed by another issuer's key for bank-a
    await expectProblem(await post(`/v1/issuer/tokens/${ref}/activation`, body, { authorization: await issuerAuth('bank-a', h.bankB.privateJwk) }), 'unauthenticated');
    await expectProblem(await post(`/v1/issuer/tokens/${ref}/activation`, { ...body, method: 'otp_sms' }, { authorization: await issuerAuth() }), 'invalid_message');
    const statusBefore = await fetch(`${h.server.url}/v1/issuer/tokens/${ref}`, { headers: { authorization: await issuerAuth() } });
    expect(parseIssuerTokenStatusResponse(await statusBefore.text())).toMatchObject({ status: 'pending_activation', verification: { methods: METHODS } });
    const authorization = await issuerAuth();
    const ok = await post(`/v1/issuer/tokens/${ref}/activation`, body, { authorization });
    expect(ok.status).toBe(200);
    expect(parseTokenStatusResponse(await ok.text())).toMatchObject({ tokenReferenceId: ref, status: 'active' });
    // the assertion was used up
    await expectProblem(await post(`/v1/issuer/tokens/${ref}/activation`, body, { authorization }), 'unauthenticated');
    await expectProblem(await post(`/v1/issuer/tokens/${ref}/activation`, { ...body, method: 'customer_service' }, { authorization: await issuerAuth() }), 'token_not_pending');
    // the wallet sees it active
    expect(parseTokenStatusResponse(await (await status(ref)).text()).status).toBe('active');
    const issuerView = await fetch(`${h.server.url}/v1/issuer/tokens/${ref}`, { headers: { authorization: await issuerAuth('bank-b', h.bankB.privateJwk) } });
    await expectProblem(issuerView, 'not_found');
  });

  it('tells the issuer the account id and the card’s last four digits of its token (GET /v1/issuer/tokens/{id}), never the wallet', async () => {
    const { ref, card } = await provisionPending('001', { accountId: 'acct-7f3a' });
    const answer = await fetch(`${h.server.url}/v1/issuer/tokens/${ref}`, { headers: { authorization: await issuerAuth() } });
    expect(answer.status).toBe(200);
    const text = await answer.text();
    const view = parseIssuerTokenStatusResponse(text);
    expect(view).toMatchObject({ tokenReferenceId: ref, status: 'pending_activation', walletProviderId: 'wallet-co', panLast4: card.pan.slice(-4), accountId: 'acct-7f3a' });
    expect(text).not.toContain(card.pan);
    // The wallet's view has neither.
    const walletView = parseTokenStatusResponse(await (await status(ref)).text());
    expect(walletView).not.toHaveProperty('accountId');
    expect(walletView).not.toHaveProperty('panLast4');
    // Without an accountId claim: no accountId, the card digits still.
    const plain = await provisionPending();
    const plainView = parseIssuerTokenStatusResponse(await (await fetch(`${h.server.url}/v1/issuer/tokens/${plain.ref}`, { headers: { authorization: await issuerAuth() } })).text());
    expect(plainView.panLast4).toBe(plain.card.pan.slice(-4));
    expect(plainView).not.toHaveProperty('accountId');
  });

  it('refuses an issuer method the token does not offer', async () => {
    const { ref, body } = await provisionPending('900');
    expect(body.verification?.methods).toEqual(SMS_ONLY);
    for (const method of ['issuer_app', 'customer_service']) {
      await expectProblem(await post(`/v1/issuer/tokens/${ref}/activation`, { type: 'issuer-activation', version: 1, method }, { authorization: await issuerAuth() }), 'verification_method_unavailable');
    }
    const offered = await provisionPending();
    const ok = await post(`/v1/issuer/tokens/${offered.ref}/activation`, { type: 'issuer-activation', version: 1, method: 'customer_service' }, { authorization: await issuerAuth() });
    expect(ok.status).toBe(200);
  });

  it('deletes a pending token when its pending time is over; the card can then be provisioned again', async () => {
    const { ref, identifiers, card } = await provisionPending();
    expect((await verify(ref, 'sms')).status).toBe(200);
    h.fx.clock.advance(7 * 86_400_000);
    expect(parseTokenStatusResponse(await (await status(ref)).text()).status).toBe('deleted');
    await expectProblem(await activate(ref, 'sms', lastCode(ref, 'sms')), 'token_not_pending');
    const again = await buildSubmission(h.fx, { identifiers: createIdentifiers({ walletAccountId: identifiers.walletAccountId, deviceId: identifiers.deviceId }), card });
    const response = await postSubmission(h.server.url, again.submission);
    expect(response.status).toBe(201);
    expect(parseProvisioningResponse(await response.text()).tokenReferenceId).not.toBe(ref);
    // the purge deletes the ones nobody read
    const other = await provisionPending();
    h.fx.clock.advance(7 * 86_400_000);
    expect((await h.server.service.purgeExpired()).pendingTokens).toBeGreaterThanOrEqual(1);
    expect((await h.server.service.store.tokens.find(other.ref))?.status).toBe('deleted');
  });

  it('keeps every one-time code out of the log lines and the stored bytes', async () => {
    // A yellow path left half way, so that codes, their answers and a request's jti are in the store now:
    // a code by e-mail still outstanding, one by SMS tried wrong and then used.
    const { ref } = await provisionPending();
    expect((await verify(ref, 'email')).status).toBe(200);
    expect((await verify(ref, 'sms')).status).toBe(200);
    const right = lastCode(ref, 'sms');
    const wrong = right === '000000' ? '000001' : '000000';
    await expectProblem(await activate(ref, 'sms', wrong), 'verification_code_invalid');
    expect((await activate(ref, 'sms', right)).status).toBe(200);
    const pending = await provisionPending();
    expect((await verify(pending.ref, 'sms')).status).toBe(200);
    const codes = [...new Set(h.outbox.map((m) => m.code))];
    expect(codes.length).toBeGreaterThan(5);
    const logText = h.logs.join('\n');
    for (const code of codes) expect(logText, 'a log line holds a one-time code').not.toContain(code);
    if (h.dir) {
      const bytes = readdirSync(h.dir)
        .map((name) => readFileSync(join(h.dir!, name)).toString('latin1'))
        .join('\n');
      // stored hashes are base64url: a 6-digit run of the code in them would be chance, so search the code with its delimiters
      for (const code of codes) {
        expect(bytes.includes(`"${code}"`), 'a stored value holds a one-time code').toBe(false);
        expect(new RegExp(`(?<![0-9])${code}(?![0-9])`).test(bytes.replace(/[A-Za-z0-9_-]{20,}/g, '')), 'a stored column holds a one-time code').toBe(false);
      }
    }
    if (h.storeUrl) {
      // Every row of every table of the database, as text (a row's text form holds each of its columns).
      const { tables, rows } = await dumpPostgres(h.storeUrl);
      expect(tables).toEqual(expect.arrayContaining(['tokens', 'vault', 'verification_codes', 'idempotency', 'replay']));
      expect(rows.filter((r) => r.table === 'tokens').length).toBeGreaterThan(5);
      const count = (table: string) => rows.filter((r) => r.table === table).length;
      // The rows the flow above wrote are there to search: the outstanding codes' hashes, the answers, the jtis.
      expect(count('verification_codes'), 'codes in flight').toBeGreaterThanOrEqual(1);
      expect(count('idempotency'), 'stored answers').toBeGreaterThanOrEqual(4);
      expect(count('replay'), 'request jtis').toBeGreaterThanOrEqual(2);
      const text = rows.map((r) => r.row).join('\n');
      // The dump holds the columns in the clear (what a code in the clear would be in).
      expect(text).toContain(pending.ref);
      for (const code of codes) {
        expect(text.includes(`"${code}"`), 'a stored value holds a one-time code').toBe(false);
        expect(new RegExp(`(?<![0-9])${code}(?![0-9])`).test(text.replace(/[A-Za-z0-9_-]{20,}/g, '')), 'a stored column holds a one-time code').toBe(false);
      }
    }
  });
});

/** Every row of every table in the public schema of the database at `url`, each as its text form. */
async function dumpPostgres(url: string): Promise<{ tables: string[]; rows: Array<{ table: string; row: string }> }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = (await client.query<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")).rows;
    const rows: Array<{ table: string; row: string }> = [];
    for (const { name } of tables) {
      const result = await client.query<{ row: string }>(`SELECT t::text AS row FROM ${pg.escapeIdentifier(name)} AS t`);
      for (const r of result.rows) rows.push({ table: name, row: r.row });
    }
    return { tables: tables.map((t) => t.name), rows };
  } finally {
    await client.end();
  }
}

describe('the wallet provider rate limit counts verification and activation requests', () => {
  it('answers 429 rate_limited with Retry-After once the minute is used up, writing no code', async () => {
    const fx = await createFixture();
    const temp = createTempDir();
    const outbox: VerificationCodeContext[] = [];
    const config: TokenServiceConfigInput = {
      ...fx.config,
      walletProviders: fx.config.walletProviders.map((p) => (p.id === 'wallet-co' ? { ...p, rateLimit: { perMinute: 3 } } : p)),
    };
    const server = await startTokenServer({
      config,
      dbPath: join(temp.dir, 'tokens.db'),
      clock: fx.clock,
      purgeIntervalMs: 0,
      logger: { info() {}, error() {} },
      decide: () => ({ decision: 'step_up', methods: METHODS }),
      sendVerificationCode: (c) => {
        outbox.push(c);
      },
    });
    try {
      const { submission } = await buildSubmission(fx);
      const ref = parseProvisioningResponse(await (await postSubmission(server.url, submission)).text()).tokenReferenceId;
      const call = (path: string, body: unknown) =>
        fetch(`${server.url}/v1/tokens/${ref}/${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, 'idempotency-key': `k-${Math.random()}` },
          body: JSON.stringify(body),
        });
      expect((await call('verification', { type: 'verification-request', version: 1, methodId: 'sms' })).status).toBe(200);
      expect((await call('activation', { type: 'activation-request', version: 1, methodId: 'sms', code: '000000' })).status).not.toBe(429);
      const limited = await call('activation', { type: 'activation-request', version: 1, methodId: 'sms', code: outbox[0]!.code });
      await expectProblem(limited, 'rate_limited');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await server.service.store.tokens.find(ref))?.status).toBe('pending_activation');
      fx.clock.advance(60_000);
      expect((await call('activation', { type: 'activation-request', version: 1, methodId: 'sms', code: outbox[0]!.code })).status).toBe(200);
    } finally {
      await server.close();
      temp.remove();
    }
  });
});
