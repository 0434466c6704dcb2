// The issuer SDK's server side of the yellow path, at its edges: the issuer
// API client's retries, idempotency and assertions (a scripted fetch), and the
// activation handler's order of checks. The whole path runs over real HTTP
// against the real token service in examples/demo/test/yellow-path.test.ts.
import { describe, expect, it } from 'vitest';
import { type ErrorCode, ERROR_CATALOG, ProvisioningError, generateSigningKey, manualClock, verifyIssuerAssertion } from '@pushprov/protocol';
import { type IssuerApiFetch, createActivationHandler, createIssuerTokenServiceClient } from '../src/server.js';

const ACTIVE = { type: 'token-status', version: 1, tokenReferenceId: 'tok_1', status: 'active', tokenLast4: '0003', tokenExpiry: { month: 12, year: 2030 }, updatedAt: 1 };
/** What the issuer API's GET answers: the token status with the wallet provider, the card's last 4 and the account id. */
const ISSUER_VIEW = { ...ACTIVE, status: 'pending_activation', verification: { methods: [{ id: 'app', type: 'issuer_app' }], expiresAt: 2 }, walletProviderId: 'wallet-co', panLast4: '4242', accountId: 'acct-alice' };
type Reply = { status: number; body: unknown; headers?: Record<string, string> } | 'network-error';
const ok = (body: unknown): Reply => ({ status: 200, body, headers: { 'content-type': 'application/json' } });
const problem = (status: number, code: ErrorCode, headers: Record<string, string> = {}): Reply => ({
  status,
  body: { type: `https://pushprov.dev/problems/${code}`, title: 'Problem', status, code, retryable: ERROR_CATALOG[code].retryable },
  headers: { 'content-type': 'application/problem+json', ...headers },
});

async function setup(replies: Reply[]) {
  const key = await generateSigningKey({ kid: 'bank-a-1' });
  const seen: Array<{ url: string; method: string; headers: Record<string, string>; body?: string }> = [];
  const fetch: IssuerApiFetch = async (url, init) => {
    seen.push({ url, method: init.method, headers: init.headers, ...(init.body !== undefined && { body: init.body }) });
    const reply = replies.shift() ?? 'network-error';
    if (reply === 'network-error') throw new TypeError('fetch failed');
    return new Response(JSON.stringify(reply.body), { status: reply.status, headers: reply.headers ?? {} });
  };
  const delays: number[] = [];
  const clock = manualClock(Date.UTC(2026, 11, 2));
  const client = createIssuerTokenServiceClient({
    issuerId: 'bank-a',
    signingKey: key.privateJwk,
    tokenService: { baseUrl: 'https://tokens.example', audience: 'ts' },
    fetch,
    clock,
    sleep: async (ms) => void delays.push(ms),
  });
  return { client, seen, delays, key, clock };
}

async function failure(promise: Promise<unknown>): Promise<ProvisioningError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ProvisioningError);
  return error as ProvisioningError;
}

describe('createIssuerTokenServiceClient', () => {
  it('activates with an issuer assertion per attempt, one idempotency key for the retries of a call, retrying only retryable failures', async () => {
    const { client, seen, delays, key, clock } = await setup(['network-error', problem(503, 'store_unavailable', { 'retry-after': '1' }), ok(ACTIVE)]);
    expect(await client.activateToken('tok_1', { method: 'customer_service' })).toEqual(ACTIVE);
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(Array(3).fill('POST https://tokens.example/v1/issuer/tokens/tok_1/activation'));
    expect(JSON.parse(seen[0]!.body!)).toEqual({ type: 'issuer-activation', version: 1, method: 'customer_service' });
    expect(new Set(seen.map((s) => s.headers['idempotency-key'])).size).toBe(1);
    const assertions = seen.map((s) => s.headers.authorization!.replace(/^Bearer /, ''));
    expect(new Set(assertions).size).toBe(3);
    for (const assertion of assertions) {
      expect(await verifyIssuerAssertion(assertion, { issuerId: 'bank-a', keys: { keys: [key.publicJwk] }, audience: 'ts', clock })).toMatchObject({ issuerId: 'bank-a' });
    }
    expect(delays[1]).toBe(1000); // the Retry-After
  });

  it('does not retry what cannot succeed later, and refuses an answer for another token', async () => {
    const { client, seen } = await setup([problem(409, 'token_not_pending'), problem(404, 'not_found'), ok({ ...ISSUER_VIEW, tokenReferenceId: 'tok_2' })]);
    expect(await failure(client.activateToken('tok_1', { method: 'issuer_app' }))).toMatchObject({ code: 'token_not_pending', status: 409 });
    expect(await failure(client.getTokenStatus('tok_1'))).toMatchObject({ code: 'not_found', status: 404 });
    expect(await failure(client.getTokenStatus('tok_1'))).toMatchObject({ code: 'invalid_message' });
    expect(seen).toHaveLength(3);
    expect(await failure(client.activateToken('tok_1', { method: 'otp_sms' as 'issuer_app' }))).toMatchObject({ code: 'invalid_message' });
    expect(await failure(client.getTokenStatus('../x'))).toMatchObject({ code: 'invalid_message' });
    expect(seen).toHaveLength(3);
  });

  it('refuses a bad configuration at once', async () => {
    const key = await generateSigningKey({ kid: 'k' });
    const base = { issuerId: 'bank-a', signingKey: key.privateJwk, tokenService: { baseUrl: 'https://tokens.example', audience: 'ts' } };
    for (const bad of [{ issuerId: 'Bank A' }, { tokenService: { baseUrl: 'http://tokens.example', audience: 'ts' } }, { tokenService: { baseUrl: 'https://tokens.example', audience: '' } }, { signingKey: key.publicJwk }]) {
      expect(() => createIssuerTokenServiceClient({ ...base, ...bad } as typeof base)).toThrow(expect.objectContaining({ code: 'configuration_invalid' }));
    }
  });
});

describe('createActivationHandler', () => {
  const post = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json', authorization: 'Bearer alice' }) =>
    new Request('https://bank.example/api/token-activation', { method: 'POST', headers, body: JSON.stringify(body) });
  const body = { type: 'activate-token', version: 1, tokenReferenceId: 'tok_1' };

  it('checks method, authentication (before the body), content type, schema, the token status and ownership, in that order', async () => {
    const { client, seen } = await setup([problem(404, 'not_found'), ok({ ...ISSUER_VIEW, tokenReferenceId: 'tok_8', accountId: 'acct-bob' }), ok(ISSUER_VIEW), ok(ACTIVE)]);
    const owned: string[] = [];
    const handler = createActivationHandler({
      tokenService: client,
      authenticate: (request) => (request.headers.get('authorization') === 'Bearer alice' ? { id: 'alice', accounts: ['acct-alice'] } : null),
      // Decided from the token service's data: the account the token was provisioned for.
      ownsToken: ({ tokenReferenceId, user, token }) => {
        owned.push(`${user.id}:${tokenReferenceId}:${token.accountId}:${token.panLast4}`);
        return token.accountId !== undefined && user.accounts.includes(token.accountId);
      },
    });
    expect((await handler(new Request('https://bank.example/x', { method: 'GET' }))).status).toBe(405);
    const anonymous = await handler(post(body, { 'content-type': 'application/json' }));
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    expect((await handler(post(body, { 'content-type': 'text/plain', authorization: 'Bearer alice' }))).status).toBe(415);
    expect((await handler(post({ ...body, userId: 'bob' }))).status).toBe(400);
    expect(seen).toEqual([]); // nothing reached the token service yet
    // No such token (or another issuer's) at the token service: not_found, ownsToken is not asked.
    const unknown = await handler(post({ ...body, tokenReferenceId: 'tok_9' }));
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { code: string }).code).toBe('not_found');
    // A token of another customer's account: the same answer.
    const other = await handler(post({ ...body, tokenReferenceId: 'tok_8' }));
    expect(other.status).toBe(404);
    expect(((await other.json()) as { code: string }).code).toBe('not_found');
    const activated = await handler(post(body));
    expect(activated.status).toBe(200);
    expect(activated.headers.get('cache-control')).toBe('no-store');
    expect(await activated.json()).toEqual(ACTIVE);
    expect(seen.map((s) => `${s.method} ${new URL(s.url).pathname}`)).toEqual([
      'GET /v1/issuer/tokens/tok_9',
      'GET /v1/issuer/tokens/tok_8',
      'GET /v1/issuer/tokens/tok_1',
      'POST /v1/issuer/tokens/tok_1/activation',
    ]);
    expect(JSON.parse(seen[3]!.body!)).toEqual({ type: 'issuer-activation', version: 1, method: 'issuer_app' });
    expect(owned).toEqual(['alice:tok_8:acct-bob:4242', 'alice:tok_1:acct-alice:4242']);
  });

  it('answers a token-status request with the wallet’s view of the token: not the account id or the card digits', async () => {
    const { client, seen } = await setup([ok(ISSUER_VIEW)]);
    const handler = createActivationHandler({ tokenService: client, authenticate: () => ({ id: 'alice' }), ownsToken: ({ token }) => token.accountId === 'acct-alice' });
    const answer = await handler(post({ type: 'token-status', version: 1, tokenReferenceId: 'tok_1' }));
    expect(answer.status).toBe(200);
    const { walletProviderId: _w, panLast4: _p, accountId: _a, ...walletView } = ISSUER_VIEW;
    expect(await answer.json()).toEqual(walletView);
    expect(seen).toHaveLength(1);
  });

  it('answers internal_error when the ownership hook fails, and passes the token service codes through', async () => {
    const { client } = await setup([ok(ISSUER_VIEW), ok(ISSUER_VIEW), problem(409, 'token_not_pending')]);
    const failing = createActivationHandler({
      tokenService: client,
      authenticate: () => ({ id: 'alice' }),
      ownsToken: () => {
        throw new Error('db down');
      },
    });
    const broken = await failing(post(body));
    expect(broken.status).toBe(500);
    expect(JSON.stringify(await broken.json())).not.toContain('db down');
    const passing = createActivationHandler({ tokenService: client, authenticate: () => ({ id: 'alice' }), ownsToken: () => true });
    const notPending = await passing(post(body));
    expect(notPending.status).toBe(409);
    expect(((await notPending.json()) as { code: string }).code).toBe('token_not_pending');
    expect(() => createActivationHandler({ tokenService: client, authenticate: () => null } as never)).toThrow(expect.objectContaining({ code: 'configuration_invalid' }));
  });
});
