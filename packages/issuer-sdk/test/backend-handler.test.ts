import {
  type ProvisioningError,
  createError,
  createSessionId,
  manualClock,
  parseProblemDetails,
} from '@pushprov/protocol';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { createIssuerBackendHandler, createProvisioningRequestBuilder, type IssuerBackendHandlerOptions } from '../src/server.js';
import { AUDIENCE, CARD, ISSUER_ID, NOW, identifiers, keys } from './support/fixtures.js';
import { type JwksServer, startJwksServer } from './support/jwks-server.js';
import { serveOnLoopback } from './support/node-http-adapter.js';
import { TEST_PAN, expectNoPan } from './support/pan-guard.js';

type User = { id: string };
const URL_ = 'https://bank.example/api/push-provisioning';
const AUTH = { authorization: 'Bearer alice-token' };
const JSON_TYPE = { 'content-type': 'application/json' };

const buildBody = (overrides: Record<string, unknown> = {}) => ({ type: 'build-request', version: 1, accountRef: 'acc_1', identifiers: identifiers(), ...overrides });

const servers: JwksServer[] = [];
const answered: string[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  // Nothing any test answered carried the PAN.
  expectNoPan(answered.splice(0));
});

async function makeHandler(overrides: Partial<IssuerBackendHandlerOptions<User>> = {}) {
  const k = await keys();
  const server = await startJwksServer(k.servicePublic);
  servers.push(server);
  const errors: ProvisioningError[] = [];
  let authCalls = 0;
  const builder = createProvisioningRequestBuilder<User>({
    issuerId: ISSUER_ID,
    signingKey: k.issuer.privateJwk,
    tokenService: { audience: AUDIENCE, jwksUrl: server.url },
    walletProviders: ['wallet-co'],
    lookupCard: (accountRef, user) => (user.id === 'alice' && accountRef === 'acc_1' ? CARD : null),
    clock: manualClock(NOW),
  });
  const handler = createIssuerBackendHandler<User>({
    builder,
    authenticate: (request) => {
      authCalls++;
      return request.headers.get('authorization') === AUTH.authorization ? { id: 'alice' } : null;
    },
    onError: (error) => errors.push(error),
    ...overrides,
  });
  const call = async (init: RequestInit & { headers?: Record<string, string> }) => {
    const response = await handler(new Request(URL_, { method: 'POST', ...init }));
    const text = await response.text();
    answered.push(text, JSON.stringify([...response.headers]));
    return { response, text };
  };
  return { handler, call, errors, authCalls: () => authCalls };
}

async function expectProblem(result: { response: Response; text: string }, status: number, code: string) {
  expect(result.response.status).toBe(status);
  expect(result.response.headers.get('content-type')).toBe('application/problem+json');
  expect(result.response.headers.get('cache-control')).toBe('no-store');
  const problem = parseProblemDetails(result.text);
  expect(problem).toMatchObject({ code, status, type: `https://pushprov.dev/problems/${code}` });
  expect(problem.requestId).toBe(result.response.headers.get('x-request-id'));
  return problem;
}

describe('createIssuerBackendHandler', () => {
  it('answers a build request with the provisioning-request message only', async () => {
    const { call, errors } = await makeHandler();
    const body = buildBody();
    const { response, text } = await call({ headers: { ...AUTH, ...JSON_TYPE }, body: JSON.stringify(body) });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-request-id')).toMatch(/^req_[\w-]{22}$/);
    const json = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(json).sort()).toEqual(['encryptedRequest', 'sessionId', 'type', 'version']);
    expect(json).toMatchObject({ type: 'provisioning-request', version: 1, sessionId: body.identifiers.sessionId });
    expect(text).not.toContain(TEST_PAN);
    expect(errors).toEqual([]);
  });

  it('accepts application/json with a utf-8 charset', async () => {
    const { call } = await makeHandler();
    const { response } = await call({ headers: { ...AUTH, 'content-type': 'application/json; charset=UTF-8' }, body: JSON.stringify(buildBody()) });
    expect(response.status).toBe(200);
  });

  it('unauthenticated: 401, before the body is read', async () => {
    const { call, errors } = await makeHandler();
    const result = await call({ headers: JSON_TYPE, body: 'x'.repeat(100_000) });
    await expectProblem(result, 401, 'unauthenticated');
    expect(errors.map((e) => e.code)).toEqual(['unauthenticated']);
  });

  it('a 401 carries WWW-Authenticate (default Bearer, or the configured challenge); no other answer does', async () => {
    const { call } = await makeHandler();
    const denied = await call({ headers: JSON_TYPE, body: '{}' });
    await expectProblem(denied, 401, 'unauthenticated');
    expect(denied.response.headers.get('www-authenticate')).toBe('Bearer');
    expect(denied.response.headers.get('retry-after')).toBeNull();
    const notFound = await call({ headers: { ...AUTH, ...JSON_TYPE }, body: JSON.stringify(buildBody({ accountRef: 'acc_2' })) });
    await expectProblem(notFound, 404, 'not_found');
    expect(notFound.response.headers.get('www-authenticate')).toBeNull();

    const cookie = await makeHandler({ wwwAuthenticate: 'Cookie realm="bank"' });
    const result = await cookie.call({ headers: JSON_TYPE, body: '{}' });
    expect(result.response.headers.get('www-authenticate')).toBe('Cookie realm="bank"');
  });

  it.each(['', 'Bearer\nX-Injected: 1', 'x'.repeat(600)])('refuses wwwAuthenticate %j (configuration_invalid)', async (wwwAuthenticate) => {
    await expect(makeHandler({ wwwAuthenticate })).rejects.toMatchObject({ code: 'configuration_invalid' });
  });

  it('the token service keys out of reach: 503 network_error, retryable, with Retry-After', async () => {
    const k = await keys();
    const down = await startJwksServer(k.servicePublic);
    const url = down.url;
    await down.close();
    const builder = createProvisioningRequestBuilder<User>({
      issuerId: ISSUER_ID,
      signingKey: k.issuer.privateJwk,
      tokenService: { audience: AUDIENCE, jwksUrl: url },
      walletProviders: ['wallet-co'],
      lookupCard: () => CARD,
      clock: manualClock(NOW),
    });
    const handler = createIssuerBackendHandler<User>({ builder, authenticate: () => ({ id: 'alice' }) });
    const response = await handler(new Request(URL_, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify(buildBody()) }));
    const text = await response.text();
    answered.push(text);
    const problem = await expectProblem({ response, text }, 503, 'network_error');
    expect(problem.retryable).toBe(true);
    expect(response.headers.get('retry-after')).toBe('1');
  });

  it.each([
    ['rate_limited', 429, '1'],
    ['network_error', 503, '1'],
    ['idempotency_in_flight', 409, '1'],
    ['server_error', 502, null],
    ['timeout', 504, null],
    ['forbidden', 403, null],
    ['configuration_invalid', 500, null],
  ] as const)('a %s answer (%i) carries Retry-After: %s', async (code, status, retryAfter) => {
    const { call } = await makeHandler({
      authenticate: () => {
        throw createError(code);
      },
    });
    const result = await call({ headers: { ...AUTH, ...JSON_TYPE }, body: JSON.stringify(buildBody()) });
    await expectProblem(result, status, code);
    expect(result.response.headers.get('retry-after')).toBe(retryAfter);
  });

  it('a 503 that is not retryable carries no Retry-After', async () => {
    const { call } = await makeHandler({
      authenticate: () => {
        throw createError('network_error', 'The session store is in maintenance', { retryable: false });
      },
    });
    const result = await call({ headers: { ...AUTH, ...JSON_TYPE }, body: JSON.stringify(buildBody()) });
    expect((await expectProblem(result, 503, 'network_error')).retryable).toBe(false);
    expect(result.response.headers.get('retry-after')).toBeNull();
  });

  it('authenticate throwing: 500 internal_error, its message not echoed', async () => {
    const { call } = await makeHandler({
      authenticate: () => {
        throw new Error(`session store down for ${TEST_PAN}`);
      },
    });
    const problem = await expectProblem(await call({ headers: { ...AUTH, ...JSON_TYPE }, body: JSON.stringify(buildBody()) }), 500, 'internal_error');
    // Internal errors say nothing beyond their title.
    expect(problem.detail).toBeUndefined();
    expect(JSON.stringify(problem)).not.toContain('session store');
  });

  it('another method: 405 with Allow, and authenticate is not called', async () => {
    const { handler, authCalls } = await makeHandler();
    const response = await handler(new Request(URL_, { method: 'GET', headers: AUTH }));
    await expectProblem({ response, text: await response.text() }, 405, 'method_not_allowed');
    expect(response.headers.get('allow')).toBe('POST');
    expect(authCalls()).toBe(0);
  });

  it.each(['text/plain', 'application/jsonx', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1'])(
    'content type %j: 415',
    async (type) => {
      const { call } = await makeHandler();
      await expectProblem(await call({ headers: { ...AUTH, 'content-type': type }, body: JSON.stringify(buildBody()) }), 415, 'unsupported_media_type');
    },
  );

  it('missing content type: 415', async () => {
    const { handler } = await makeHandler();
    const request = new Request(URL_, { method: 'POST', headers: AUTH, body: new Blob([JSON.stringify(buildBody())]) });
    const response = await handler(request);
    await expectProblem({ response, text: await response.text() }, 415, 'unsupported_media_type');
  });

  it('oversize body, declared: 413', async () => {
    const { call } = await makeHandler();
    await expectProblem(await call({ headers: { ...AUTH, ...JSON_TYPE }, body: JSON.stringify(buildBody({ pad: 'x'.repeat(20_000) })) }), 413, 'payload_too_large');
  });

  it('oversize body, streamed without a length: 413', async () => {
    const { handler } = await makeHandler();
    const chunk = new TextEncoder().encode('x'.repeat(4096));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent++;
        if (sent > 64) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const response = await handler(new Request(URL_, { method: 'POST', headers: { ...AUTH, ...JSON_TYPE }, body, duplex: 'half' } as RequestInit));
    await expectProblem({ response, text: await response.text() }, 413, 'payload_too_large');
    expect(sent).toBeLessThan(64);
  });

  it.each([
    ['empty', '', 'invalid_json'],
    ['not JSON', 'accountRef=acc_1', 'invalid_json'],
    ['duplicate keys', '{"type":"build-request","type":"sign-invocation"}', 'invalid_json'],
    ['a __proto__ key', '{"__proto__":{"admin":true},"type":"build-request"}', 'invalid_json'],
    ['an unknown member', JSON.stringify(buildBody({ card: { pan: TEST_PAN } })), 'invalid_message'],
    ['an unknown type', JSON.stringify(buildBody({ type: 'get-card' })), 'invalid_message'],
    ['no version', JSON.stringify({ type: 'build-request', accountRef: 'acc_1', identifiers: identifiers() }), 'invalid_message'],
    ['version 2', JSON.stringify(buildBody({ version: 2 })), 'unsupported_version'],
    ['an array', '[]', 'invalid_message'],
    ['a bad accountRef', JSON.stringify(buildBody({ accountRef: '../../etc' })), 'invalid_message'],
    ['identifiers with control characters', JSON.stringify(buildBody({ identifiers: { ...identifiers(), deviceId: 'dev\u0000ice' } })), 'invalid_message'],
  ])('a body that is %s: %s, nothing echoed', async (_name, body, code) => {
    const { call } = await makeHandler();
    const result = await call({ headers: { ...AUTH, ...JSON_TYPE }, body });
    await expectProblem(result, 400, code);
  });

  it('a body that is not UTF-8: invalid_json', async () => {
    const { call } = await makeHandler();
    await expectProblem(await call({ headers: { ...AUTH, ...JSON_TYPE }, body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) }), 400, 'invalid_json');
  });

  it('an account of another user: 404 not_found', async () => {
    const { call } = await makeHandler();
    await expectProblem(await call({ headers: { ...AUTH, ...JSON_TYPE }, body: JSON.stringify(buildBody({ accountRef: 'acc_2' })) }), 404, 'not_found');
  });

  it('a wallet provider the issuer does not allow: 403 wallet_provider_not_allowed, nothing built', async () => {
    const { call, errors } = await makeHandler();
    const body = buildBody({ identifiers: { ...identifiers(), walletProviderId: 'wallet-evil' } });
    const result = await call({ headers: { ...AUTH, ...JSON_TYPE }, body: JSON.stringify(body) });
    const problem = await expectProblem(result, 403, 'wallet_provider_not_allowed');
    expect(problem.retryable).toBe(false);
    expect(result.text).not.toContain('encryptedRequest');
    expect(errors.map((e) => e.code)).toEqual(['wallet_provider_not_allowed']);
  });

  it('signing disabled: 404 for sign-invocation bodies', async () => {
    const { call } = await makeHandler({ allowInvocationSigning: false });
    const invocation = { type: 'invocation', version: 1, sessionId: createSessionId(), issuerId: ISSUER_ID, account: { last4: '1111', network: 'visa' }, iat: NOW / 1000, exp: NOW / 1000 + 300 };
    const body = JSON.stringify({ type: 'sign-invocation', version: 1, accountRef: 'acc_1', invocation });
    await expectProblem(await call({ headers: { ...AUTH, ...JSON_TYPE }, body }), 404, 'not_found');
  });

  it('an onError hook that throws does not change the answer', async () => {
    const { call } = await makeHandler({
      onError: () => {
        throw new Error('logger down');
      },
    });
    await expectProblem(await call({ headers: JSON_TYPE, body: '{}' }), 401, 'unauthenticated');
  });

  it('mounts in Hono', async () => {
    const { handler } = await makeHandler();
    const app = new Hono();
    app.post('/api/push-provisioning', (c) => handler(c.req.raw));
    const ok = await app.request('/api/push-provisioning', { method: 'POST', headers: { ...AUTH, ...JSON_TYPE }, body: JSON.stringify(buildBody()) });
    expect(ok.status).toBe(200);
    const denied = await app.request('/api/push-provisioning', { method: 'POST', headers: JSON_TYPE, body: '{}' });
    expect(denied.status).toBe(401);
    answered.push(await ok.text(), await denied.text());
  });

  it("mounts in Node's http", async () => {
    const { handler } = await makeHandler();
    const server = await serveOnLoopback(handler);
    try {
      const ok = await fetch(`${server.url}/api/push-provisioning`, { method: 'POST', headers: { ...AUTH, ...JSON_TYPE }, body: JSON.stringify(buildBody()) });
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { type: string }).type).toBe('provisioning-request');
      const big = await fetch(`${server.url}/api/push-provisioning`, { method: 'POST', headers: { ...AUTH, ...JSON_TYPE }, body: 'x'.repeat(40_000) });
      expect(big.status).toBe(413);
      answered.push(await big.text());
    } finally {
      await server.close();
    }
  });

  it.each([0, 100, 2_000_000])('refuses maxBodyBytes %i (configuration_invalid)', async (maxBodyBytes) => {
    const k = await keys();
    const builder = createProvisioningRequestBuilder<User>({
      issuerId: ISSUER_ID,
      signingKey: k.issuer.privateJwk,
      tokenService: { audience: AUDIENCE, jwksUrl: 'https://ts.example/jwks.json' },
      walletProviders: ['wallet-co'],
      lookupCard: () => null,
    });
    expect(() => createIssuerBackendHandler({ builder, authenticate: () => null, maxBodyBytes })).toThrow(expect.objectContaining({ code: 'configuration_invalid' }));
  });
});
