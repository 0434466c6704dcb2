import { CardError, type ProvisioningError, createMemoryChannelPair, createSessionId, isProvisioningError } from '@pushprov/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { type BackendFetch, type FetchResponseLike, createBackendRequestSource, createIssuerClient } from '../src/index.js';
import { ACCOUNT, ISSUER_ID, identifiers } from './support/fixtures.js';
import { endlessAnswer } from './support/endless-answer.js';
import { closedLoopbackPort } from './support/jwks-server.js';
import { serveOnLoopback } from './support/node-http-adapter.js';
import { expectNoPan } from './support/pan-guard.js';
import { WalletDouble } from './support/wallet-double.js';

const signal = () => new AbortController().signal;

function respond(status: number, body: string, contentType = 'application/json', headers: Record<string, string> = {}): FetchResponseLike {
  return new Response(body, { status, headers: { 'content-type': contentType, ...headers } });
}

async function failure(promise: Promise<unknown>): Promise<ProvisioningError> {
  const error = await promise.then(
    () => {
      throw new Error('resolved');
    },
    (e: unknown) => e,
  );
  expect(isProvisioningError(error)).toBe(true);
  expectNoPan(error);
  return error as ProvisioningError;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('createBackendRequestSource', () => {
  it('POSTs the account reference and identifiers only, and returns the message', async () => {
    const ids = identifiers();
    const calls: Array<{ url: string; init: Parameters<BackendFetch>[1] }> = [];
    const source = createBackendRequestSource({
      url: 'https://bank.example/api/push',
      headers: { 'x-app': 'bank', 'Content-Type': 'text/plain' },
      getAuthHeaders: () => ({ authorization: 'Bearer t' }),
      credentials: 'include',
      fetch: async (url, init) => {
        calls.push({ url, init });
        return respond(200, JSON.stringify({ type: 'provisioning-request', version: 1, sessionId: ids.sessionId, encryptedRequest: 'a.b.c.d.e' }));
      },
    });
    const message = await source.buildRequest({ identifiers: ids, accountRef: 'acc_1' }, { signal: signal() });
    expect(message).toEqual({ type: 'provisioning-request', version: 1, sessionId: ids.sessionId, encryptedRequest: 'a.b.c.d.e' });
    expect(calls).toHaveLength(1);
    const { url, init } = calls[0]!;
    expect(url).toBe('https://bank.example/api/push');
    expect(init.method).toBe('POST');
    expect(init.credentials).toBe('include');
    expect(init.headers).toEqual({
      'x-app': 'bank',
      authorization: 'Bearer t',
      'content-type': 'application/json',
      accept: 'application/json, application/problem+json',
    });
    expect(JSON.parse(init.body)).toEqual({ type: 'build-request', version: 1, accountRef: 'acc_1', identifiers: ids });
  });

  it('backend down (connection refused on a closed loopback port): network_error, and the session fails with it', async () => {
    const port = await closedLoopbackPort();
    const source = createBackendRequestSource({ url: `http://127.0.0.1:${port}/api/push` });
    const error = await failure(source.buildRequest({ identifiers: identifiers(), accountRef: 'acc_1' }, { signal: signal() }));
    expect(error.code).toBe('network_error');
    expect(error.retryable).toBe(true);

    const pair = createMemoryChannelPair();
    const issuer = createIssuerClient({ issuerId: ISSUER_ID, requestSource: source });
    const session = issuer.startProvisioning({ account: ACCOUNT, accountRef: 'acc_1', wallet: pair.issuer });
    const wallet = new WalletDouble({ channel: pair.wallet, decryptionKeys: { keys: [] }, issuerKeys: { keys: [] }, audience: 'ts' });
    await wallet.receiveInvocation();
    await wallet.sendIdentifiers();
    expect(await session.outcome).toMatchObject({ state: 'failed', status: 'failed', error: { code: 'network_error' } });
    expect(session.snapshot()).toMatchObject({ state: 'failed', error: { code: 'network_error' } });
  });

  it('backend error: problem details keep their code, status, retryability and request id', async () => {
    const server = await serveOnLoopback(async () =>
      Response.json(
        { type: 'https://pushprov.dev/problems/card_expired', title: 'The card has expired', status: 422, code: 'card_expired', retryable: false, requestId: 'req_1', detail: 'card •••• 1111 expired' },
        { status: 422, headers: { 'content-type': 'application/problem+json' } },
      ),
    );
    cleanups.push(() => server.close());
    const source = createBackendRequestSource({ url: `${server.url}/api/push` });
    const error = await failure(source.buildRequest({ identifiers: identifiers(), accountRef: 'acc_1' }, { signal: signal() }));
    expect(error).toBeInstanceOf(CardError);
    expect(error).toMatchObject({ code: 'card_expired', status: 422, retryable: false, requestId: 'req_1' });
  });

  it.each([
    [503, 'text/html', '<h1>down</h1>', 'server_error'],
    [500, 'application/problem+json', '{"not":"a problem"}', 'server_error'],
    [502, 'application/problem+json', '{"type":"x","title":"t","status":502,"code":"made_up","retryable":true}', 'server_error'],
    [401, 'text/plain', 'no', 'unauthenticated'],
    [403, 'text/plain', 'no', 'forbidden'],
    [404, 'text/plain', 'no', 'not_found'],
    [429, 'text/plain', 'slow down', 'rate_limited'],
    [400, 'text/plain', 'bad', 'invalid_message'],
  ])('HTTP %i without usable problem details (%s): %s', async (status, type, body, code) => {
    const source = createBackendRequestSource({ url: '/api/push', fetch: async () => respond(status, body, type, { 'x-request-id': 'req_9' }) });
    const error = await failure(source.buildRequest({ identifiers: identifiers(), accountRef: 'acc_1' }, { signal: signal() }));
    expect(error).toMatchObject({ code, status, requestId: 'req_9' });
  });

  it('a backend that never answers: timeout, and the fetch is aborted', async () => {
    let seen: AbortSignal | undefined;
    const source = createBackendRequestSource({
      url: '/api/push',
      timeoutMs: 30,
      fetch: (_url, init) => {
        seen = init.signal;
        return new Promise(() => {});
      },
    });
    const error = await failure(source.buildRequest({ identifiers: identifiers(), accountRef: 'acc_1' }, { signal: signal() }));
    expect(error.code).toBe('timeout');
    expect(seen?.aborted).toBe(true);
  });

  it('the caller aborts: the reason comes back and the fetch is aborted', async () => {
    let seen: AbortSignal | undefined;
    const controller = new AbortController();
    const source = createBackendRequestSource({
      url: '/api/push',
      fetch: (_url, init) => {
        seen = init.signal;
        queueMicrotask(() => controller.abort());
        return new Promise(() => {});
      },
    });
    const error = await failure(source.buildRequest({ identifiers: identifiers(), accountRef: 'acc_1' }, { signal: controller.signal }));
    expect(error.code).toBe('aborted');
    expect(seen?.aborted).toBe(true);
  });

  it.each([
    ['not JSON', 'nope'],
    ['duplicate keys', '{"type":"provisioning-request","type":"provisioning-request"}'],
    ['another message type', '{"type":"result","version":1,"sessionId":"AAAAAAAAAAAAAAAAAAAAAA","status":"failed"}'],
    ['card data instead of a JWE', '{"type":"provisioning-request","version":1,"sessionId":"AAAAAAAAAAAAAAAAAAAAAA","encryptedRequest":"4111111111111111"}'],
  ])('a 200 answer that is %s: server_error, not retryable, no echo', async (_name, body) => {
    const source = createBackendRequestSource({ url: '/api/push', fetch: async () => respond(200, body) });
    const error = await failure(source.buildRequest({ identifiers: identifiers(), accountRef: 'acc_1' }, { signal: signal() }));
    expect(error).toMatchObject({ code: 'server_error', retryable: false });
  });

  it('an answer for another session: session_mismatch', async () => {
    const source = createBackendRequestSource({
      url: '/api/push',
      fetch: async () => respond(200, JSON.stringify({ type: 'provisioning-request', version: 1, sessionId: createSessionId(), encryptedRequest: 'a.b.c.d.e' })),
    });
    expect((await failure(source.buildRequest({ identifiers: identifiers(), accountRef: 'acc_1' }, { signal: signal() }))).code).toBe('session_mismatch');
  });

  it('an oversize answer: server_error', async () => {
    const source = createBackendRequestSource({ url: '/api/push', maxResponseLength: 1024, fetch: async () => respond(200, `"${'x'.repeat(2000)}"`) });
    expect((await failure(source.buildRequest({ identifiers: identifiers(), accountRef: 'acc_1' }, { signal: signal() }))).code).toBe('server_error');
  });

  it('an answer without a length that never ends: read only up to the limit, then server_error', async () => {
    const { response, state } = endlessAnswer(200, { 'content-type': 'application/json' });
    const source = createBackendRequestSource({ url: '/api/push', maxResponseLength: 1024, fetch: async () => response });
    expect(await failure(source.buildRequest({ identifiers: identifiers(), accountRef: 'acc_1' }, { signal: signal() }))).toMatchObject({ code: 'server_error', retryable: false });
    expect(state.cancelled).toBe(true);
    // The byte limit is 4 x maxResponseLength: 4 KiB.
    expect(state.pulls).toBeLessThanOrEqual(4 + 2);
  });

  it('credentials that cannot be obtained: unauthenticated, nothing sent', async () => {
    let called = false;
    const source = createBackendRequestSource({
      url: '/api/push',
      getAuthHeaders: () => {
        throw new Error('token refresh failed');
      },
      fetch: async () => {
        called = true;
        return respond(200, '{}');
      },
    });
    expect((await failure(source.buildRequest({ identifiers: identifiers(), accountRef: 'acc_1' }, { signal: signal() }))).code).toBe('unauthenticated');
    expect(called).toBe(false);
  });

  it('needs an accountRef (configuration_invalid)', async () => {
    const source = createBackendRequestSource({ url: '/api/push', fetch: async () => respond(200, '{}') });
    expect((await failure(source.buildRequest({ identifiers: identifiers() }, { signal: signal() }))).code).toBe('configuration_invalid');
  });

  it.each(['http://bank.example/api', '//evil.example/api', 'ftp://bank.example', 'https://user:pw@bank.example/api', 'api/push', ''])(
    'refuses the url %j (configuration_invalid)',
    (url) => {
      expect(() => createBackendRequestSource({ url })).toThrow(expect.objectContaining({ code: 'configuration_invalid' }));
    },
  );
});
