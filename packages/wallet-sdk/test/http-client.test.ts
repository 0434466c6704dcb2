import { describe, expect, it } from 'vitest';
import {
  ERROR_CATALOG,
  type ErrorCode,
  type ProvisioningResponse,
  type Submission,
  ProvisioningError,
  generateSigningKey,
  manualClock,
  sequenceRandom,
} from '@pushprov/protocol';
import { type TokenServiceFetch, type HttpTokenServiceClientOptions, createHttpTokenServiceClient } from '../src/http.js';

const SUBMISSION: Submission = {
  type: 'submission',
  version: 1,
  sessionId: 'AAAAAAAAAAAAAAAAAAAAAA',
  walletAccountId: 'user-42',
  deviceId: 'device-7',
  nonce: 'BBBBBBBBBBBBBBBBBBBBBB',
  encryptedRequest: 'eyJhbGciOiJFQ0RILUVTK0EyNTZLVyJ9.a2V5.aXY.Y2lwaGVy.dGFn',
};
const TOKEN_NUMBER = '4900000000000003';
const RESPONSE: ProvisioningResponse = {
  type: 'provisioning-response',
  version: 1,
  sessionId: SUBMISSION.sessionId,
  tokenReferenceId: 'tok_1',
  status: 'active',
  accessData: {
    tokenReferenceId: 'tok_1',
    tokenNumber: TOKEN_NUMBER,
    tokenExpiry: { month: 12, year: 2030 },
    status: 'active',
    panLast4: '1111',
    issuerId: 'bank-a',
    issuedAt: 1_795_000_000,
  },
};

interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}
type Reply = { status: number; body?: string; headers?: Record<string, string> } | 'network-error' | 'hang';

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => ({
  status,
  body: JSON.stringify(body),
  headers: { 'content-type': 'application/json', ...headers },
});
const problemReply = (status: number, code: ErrorCode, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Reply => ({
  status,
  body: JSON.stringify({ type: `https://pushprov.dev/problems/${code}`, title: 'Problem', status, code, retryable: ERROR_CATALOG[code].retryable, ...extra }),
  headers: { 'content-type': 'application/problem+json', ...headers },
});

/** A scripted fetch: answers each call with the next reply and records what it saw. */
function scriptedFetch(replies: Reply[]) {
  const seen: Seen[] = [];
  const fetch: TokenServiceFetch = async (url, init) => {
    seen.push({ url, method: init.method, headers: init.headers, body: init.body });
    const reply = replies.shift() ?? 'network-error';
    if (reply === 'network-error') throw new TypeError('fetch failed');
    if (reply === 'hang') {
      return new Promise((_resolve, reject) => {
        init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      });
    }
    return new Response(reply.body ?? '', { status: reply.status, headers: reply.headers ?? {} });
  };
  return { fetch, seen };
}

function client(replies: Reply[], options: Partial<HttpTokenServiceClientOptions> = {}) {
  const { fetch, seen } = scriptedFetch(replies);
  const delays: number[] = [];
  const c = createHttpTokenServiceClient({
    baseUrl: 'https://tokens.example/',
    auth: { apiKey: 'sk_test_123' },
    fetch,
    sleep: async (ms) => {
      delays.push(ms);
    },
    random: sequenceRandom(new Uint8Array([0x80, 0, 0, 0])), // uniform 0.5
    ...options,
  });
  return { client: c, seen, delays };
}

/** An answer without a length whose body never ends: 1 KiB per pull. Counts pulls; notes when the reader cancels. */
function endlessAnswer(status: number, headers: Record<string, string>) {
  const state = { pulls: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      state.pulls += 1;
      controller.enqueue(new Uint8Array(1024).fill(0x20));
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { response: new Response(body, { status, headers }), state };
}

async function failure(promise: Promise<unknown>): Promise<ProvisioningError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProvisioningError);
  return error as ProvisioningError;
}

describe('createHttpTokenServiceClient: requests', () => {
  it('POSTs the checked submission as JSON with auth and an idempotency key', async () => {
    const { client: c, seen } = client([json(201, RESPONSE)]);
    expect(await c.submit(SUBMISSION, { idempotencyKey: 'idem_given_key_1' })).toEqual(RESPONSE);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ url: 'https://tokens.example/v1/provisioning-requests', method: 'POST' });
    expect(seen[0]!.headers).toMatchObject({
      'Content-Type': 'application/json',
      Authorization: 'Bearer sk_test_123',
      'Idempotency-Key': 'idem_given_key_1',
    });
    expect(JSON.parse(seen[0]!.body!)).toEqual(SUBMISSION);
  });

  it('generates an idempotency key when none is given, and keeps it for every retry', async () => {
    const { client: c, seen } = client([problemReply(500, 'internal_error'), 'network-error', json(201, RESPONSE)]);
    await c.submit(SUBMISSION);
    expect(seen).toHaveLength(3);
    const keys = seen.map((s) => s.headers['Idempotency-Key']);
    expect(keys[0]).toMatch(/^idem_[A-Za-z0-9_-]{22}$/);
    expect(new Set(keys).size).toBe(1);
    const { client: c2, seen: seen2 } = client([json(201, RESPONSE)], { random: sequenceRandom(new Uint8Array([1, 2, 3])) });
    await c2.submit(SUBMISSION);
    expect(seen2[0]!.headers['Idempotency-Key']).not.toBe(keys[0]);
  });

  it('refuses an invalid submission and a malformed idempotency key without calling the network', async () => {
    const { client: c, seen } = client([json(201, RESPONSE)]);
    expect((await failure(c.submit({ ...SUBMISSION, deviceId: 'bad device' })))).toMatchObject({ code: 'invalid_message' });
    expect((await failure(c.submit(SUBMISSION, { idempotencyKey: 'short\n' })))).toMatchObject({ code: 'invalid_message' });
    expect(seen).toEqual([]);
  });

  it('signs a fresh client assertion for every attempt', async () => {
    const { privateJwk } = await generateSigningKey({ kid: 'wp-1' });
    const { client: c, seen } = client([problemReply(503, 'server_error'), json(201, RESPONSE)], {
      auth: { walletProviderId: 'wallet-co', audience: 'token-service', signingKey: privateJwk },
      clock: manualClock(Date.UTC(2026, 10, 28)),
    });
    await c.submit(SUBMISSION);
    const [a, b] = seen.map((s) => s.headers.Authorization!);
    expect(a).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(b).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(a).not.toBe(b);
  });

  it('GETs a token status, and refuses ids that could change the path', async () => {
    const status = { type: 'token-status', version: 1, tokenReferenceId: 'tok_1', status: 'active', tokenLast4: '0003', tokenExpiry: { month: 12, year: 2030 }, updatedAt: 1 };
    const { client: c, seen } = client([json(200, status), json(200, status)]);
    expect(await c.getTokenStatus('tok_1')).toEqual(status);
    expect(seen[0]).toMatchObject({ url: 'https://tokens.example/v1/tokens/tok_1', method: 'GET' });
    expect(seen[0]!.headers.Authorization).toBe('Bearer sk_test_123');
    for (const id of ['..', '.', 'a/b', 'tok 1', '']) expect(await failure(c.getTokenStatus(id))).toMatchObject({ code: 'invalid_message' });
    expect(seen).toHaveLength(1);
    expect(await failure(c.getTokenStatus('tok_2'))).toMatchObject({ code: 'invalid_message' });
  });
});

describe('createHttpTokenServiceClient: retries', () => {
  it.each([
    ['5xx problem', problemReply(502, 'server_error')],
    ['5xx with an HTML body', { status: 500, body: '<html>oops</html>', headers: { 'content-type': 'text/html' } } as Reply],
    ['429', problemReply(429, 'rate_limited')],
    ['409 idempotency_in_flight', problemReply(409, 'idempotency_in_flight')],
    ['a network error', 'network-error' as Reply],
  ])('retries %s, then succeeds', async (_name, reply) => {
    const { client: c, seen, delays } = client([reply, json(201, RESPONSE)]);
    expect(await c.submit(SUBMISSION)).toEqual(RESPONSE);
    expect(seen).toHaveLength(2);
    expect(delays).toHaveLength(1);
  });

  it.each([
    [400, 'invalid_message'],
    [401, 'unauthenticated'],
    [403, 'declined'],
    [409, 'replayed'],
    [422, 'nonce_mismatch'],
    [422, 'idempotency_key_reused'],
  ] as const)('does not retry %i %s: one call, the same code', async (status, code) => {
    const { client: c, seen, delays } = client([problemReply(status, code, { requestId: 'req_abc' }), json(201, RESPONSE)]);
    const error = await failure(c.submit(SUBMISSION));
    expect(error).toMatchObject({ code, status, requestId: 'req_abc', retryable: false });
    expect(seen).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it.each([
    [500, 'configuration_invalid'],
    [502, 'server_error'],
    [503, 'store_unavailable'],
    [429, 'rate_limited'],
  ] as const)('follows the problem document: %i %s with retryable false is not retried, whatever its status', async (status, code) => {
    const { client: c, seen, delays } = client([problemReply(status, code, { retryable: false }, { 'retry-after': '1' }), json(201, RESPONSE)]);
    expect(await failure(c.submit(SUBMISSION))).toMatchObject({ code, status, retryable: false });
    expect(seen).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it('a 500 configuration_invalid from the token service (catalog: not retryable) fails at once', async () => {
    const { client: c, seen } = client([problemReply(500, 'configuration_invalid'), json(201, RESPONSE)]);
    expect(await failure(c.submit(SUBMISSION))).toMatchObject({ code: 'configuration_invalid', status: 500, retryable: false });
    expect(seen).toHaveLength(1);
  });

  it('follows the problem document: retryable true is retried, with the same Idempotency-Key, after its Retry-After', async () => {
    const { client: c, seen, delays } = client([
      problemReply(503, 'store_unavailable', {}, { 'retry-after': '2' }),
      problemReply(422, 'expired', { retryable: true }),
      json(201, RESPONSE),
    ]);
    expect(await c.submit(SUBMISSION, { idempotencyKey: 'idem_given_key_1' })).toEqual(RESPONSE);
    expect(seen.map((s) => s.headers['Idempotency-Key'])).toEqual(['idem_given_key_1', 'idem_given_key_1', 'idem_given_key_1']);
    expect(delays[0]).toBe(2_000);
    expect(delays).toHaveLength(2);
  });

  it.each([
    [408, true],
    [429, true],
    [500, true],
    [502, true],
    [503, true],
    [504, true],
    [501, false],
    [505, false],
    [400, false],
    [409, false],
    [404, false],
  ])('without parseable problem details, status %i is retried: %s', async (status, retried) => {
    const replies = [
      { status, body: '<html>gateway</html>', headers: { 'content-type': 'text/html', 'retry-after': '4' } },
      { status, body: JSON.stringify({ code: 'not-a-code', retryable: false }), headers: { 'content-type': 'application/problem+json' } },
      json(201, RESPONSE),
    ];
    const { client: c, seen, delays } = client(replies);
    if (retried) {
      expect(await c.submit(SUBMISSION)).toEqual(RESPONSE);
      expect(seen).toHaveLength(3);
      expect(delays[0]).toBe(4_000);
    } else {
      expect(await failure(c.submit(SUBMISSION))).toMatchObject({ status, retryable: false });
      expect(seen).toHaveLength(1);
      expect(delays).toEqual([]);
    }
  });

  it('gives up after maxRetries with the last error, retryable', async () => {
    const { client: c, seen, delays } = client([problemReply(503, 'server_error'), problemReply(503, 'server_error'), problemReply(503, 'server_error')], {
      maxRetries: 2,
    });
    expect(await failure(c.submit(SUBMISSION))).toMatchObject({ code: 'server_error', status: 503, retryable: true });
    expect(seen).toHaveLength(3);
    expect(delays).toHaveLength(2);
  });

  it('backs off exponentially with full jitter, capped', async () => {
    const replies = Array.from({ length: 6 }, () => problemReply(503, 'server_error'));
    const { client: c, delays } = client(replies, { maxRetries: 5, retryDelay: { initialMs: 100, maxMs: 1_000 } });
    await failure(c.submit(SUBMISSION));
    // uniform 0.5 of windows 100, 200, 400, 800, 1000 (capped)
    expect(delays).toEqual([50, 100, 200, 400, 500]);
    const spread = client([problemReply(503, 'server_error'), json(201, RESPONSE)], {
      random: sequenceRandom(new Uint8Array([0xff, 0xff, 0xff, 0xff])),
      retryDelay: { initialMs: 100 },
    });
    await spread.client.submit(SUBMISSION);
    expect(spread.delays[0]).toBe(99);
  });

  it('honours Retry-After in seconds and as an HTTP date, and refuses to wait longer than allowed', async () => {
    const clock = manualClock(Date.UTC(2026, 10, 28, 12, 0, 0));
    const date = new Date(clock.now() + 7_000).toUTCString();
    const { client: c, delays } = client(
      [problemReply(429, 'rate_limited', {}, { 'retry-after': '3' }), problemReply(503, 'server_error', {}, { 'retry-after': date }), json(201, RESPONSE)],
      { clock },
    );
    await c.submit(SUBMISSION);
    expect(delays).toEqual([3_000, 7_000]);

    const far = client([problemReply(429, 'rate_limited', {}, { 'retry-after': '3600' }), json(201, RESPONSE)], { retryDelay: { maxRetryAfterMs: 60_000 } });
    expect(await failure(far.client.submit(SUBMISSION))).toMatchObject({ code: 'rate_limited', status: 429 });
    expect(far.seen).toHaveLength(1);
  });

  it('times out an attempt that does not answer (timeout), and retries it', async () => {
    const { client: c, seen } = client(['hang', json(201, RESPONSE)], { timeoutMs: 50 });
    expect(await c.submit(SUBMISSION)).toEqual(RESPONSE);
    expect(seen).toHaveLength(2);
    const never = client(['hang', 'hang'], { timeoutMs: 50, maxRetries: 1 });
    expect(await failure(never.client.submit(SUBMISSION))).toMatchObject({ code: 'timeout', retryable: true });
  });

  it('stops at once when the signal aborts: during a request, between attempts, or before', async () => {
    const controller = new AbortController();
    const { client: c, seen } = client(['hang', json(201, RESPONSE)]);
    const pending = c.submit(SUBMISSION, { signal: controller.signal });
    await expect.poll(() => seen.length).toBe(1);
    controller.abort();
    expect(await failure(pending)).toMatchObject({ code: 'aborted' });
    expect(seen).toHaveLength(1);

    const between = new AbortController();
    const { fetch, seen: seen2 } = scriptedFetch([problemReply(503, 'server_error'), json(201, RESPONSE)]);
    const c2 = createHttpTokenServiceClient({
      baseUrl: 'https://tokens.example',
      auth: { apiKey: 'k' },
      fetch,
      sleep: (_ms, signal) => {
        between.abort();
        return Promise.reject(signal?.reason);
      },
    });
    const error = await failure(c2.submit(SUBMISSION, { signal: between.signal }));
    expect(error.code).toBe('aborted');
    expect(seen2).toHaveLength(1);

    const { client: c3, seen: seen3 } = client([json(201, RESPONSE)]);
    expect(await failure(c3.submit(SUBMISSION, { signal: AbortSignal.abort() }))).toMatchObject({ code: 'aborted' });
    expect(seen3).toEqual([]);
  });
});

describe('createHttpTokenServiceClient: answers', () => {
  it('checks success bodies: schema, strict JSON and content type → invalid_message / invalid_json, not retried', async () => {
    for (const reply of [
      json(201, { ...RESPONSE, extra: 1 }),
      { status: 201, body: '{"type":"provisioning-response","type":"x"}', headers: { 'content-type': 'application/json' } } as Reply,
      { status: 201, body: JSON.stringify(RESPONSE), headers: { 'content-type': 'text/html' } } as Reply,
    ]) {
      const { client: c, seen } = client([reply, json(201, RESPONSE)]);
      const error = await failure(c.submit(SUBMISSION));
      expect(['invalid_message', 'invalid_json']).toContain(error.code);
      expect(seen).toHaveLength(1);
    }
  });

  it('refuses an answer announced as too large without reading it (payload_too_large, not retried)', async () => {
    const { client: c, seen } = client([{ status: 201, body: '{}', headers: { 'content-type': 'application/json', 'content-length': '10000000' } }, json(201, RESPONSE)]);
    expect(await failure(c.submit(SUBMISSION))).toMatchObject({ code: 'payload_too_large' });
    expect(seen).toHaveLength(1);
  });

  it('stops reading an answer without a length at 64 KiB (payload_too_large, not retried): an endless body cannot fill memory', async () => {
    const { response, state } = endlessAnswer(201, { 'content-type': 'application/json' });
    let calls = 0;
    const c = createHttpTokenServiceClient({ baseUrl: 'https://tokens.example/', auth: { apiKey: 'sk_test_123' }, fetch: async () => (calls++, response), sleep: async () => {} });
    expect(await failure(c.submit(SUBMISSION))).toMatchObject({ code: 'payload_too_large' });
    expect(calls).toBe(1);
    expect(state.cancelled).toBe(true);
    expect(state.pulls).toBeLessThanOrEqual(64 + 2);
  });

  it('takes the global fetch as it is', () => {
    const f: TokenServiceFetch = globalThis.fetch;
    expect(() => createHttpTokenServiceClient({ baseUrl: 'https://tokens.example', auth: { apiKey: 'k' }, fetch: f })).not.toThrow();
  });

  it('maps errors without problem details by status, with the X-Request-Id', async () => {
    const cases: [number, ErrorCode][] = [
      [400, 'invalid_message'],
      [401, 'unauthenticated'],
      [404, 'not_found'],
      [418, 'invalid_message'],
    ];
    for (const [status, code] of cases) {
      const { client: c } = client([{ status, body: 'nope', headers: { 'x-request-id': 'req_h' } }]);
      expect(await failure(c.submit(SUBMISSION))).toMatchObject({ code, status, requestId: 'req_h' });
    }
  });

  it('never echoes a PAN or token number a server puts in a problem detail', async () => {
    const { client: c } = client([problemReply(422, 'card_invalid', { detail: `card 4111111111111111 refused, token ${TOKEN_NUMBER}` })]);
    const error = await failure(c.submit(SUBMISSION));
    expect(error.code).toBe('card_invalid');
    const text = `${error.message} ${JSON.stringify(error)} ${String(error)}`;
    expect(text).not.toContain('4111111111111111');
    expect(text).not.toContain(TOKEN_NUMBER);
    expect(text).toContain('1111');
  });

  it('refuses bad configuration with configuration_invalid', () => {
    const bad: Partial<HttpTokenServiceClientOptions>[] = [
      { baseUrl: 'http://tokens.example' },
      { baseUrl: 'https://user:pw@tokens.example' },
      { baseUrl: 'https://tokens.example/?a=1' },
      { auth: { apiKey: 'line\nbreak' } },
      { auth: { apiKey: '' } },
      { timeoutMs: 0 },
      { maxRetries: -1 },
      { timeoutMs: 2 ** 31 },
    ];
    for (const options of bad) {
      expect(() =>
        createHttpTokenServiceClient({ baseUrl: 'https://tokens.example', auth: { apiKey: 'k' }, ...options }),
      ).toThrow(expect.objectContaining({ code: 'configuration_invalid' }));
    }
    expect(() => createHttpTokenServiceClient({ baseUrl: 'http://127.0.0.1:8080/base/', auth: { apiKey: 'k' } })).not.toThrow();
  });
});

describe('createHttpTokenServiceClient: bearer token from the host', () => {
  it('asks the host for a token on every attempt and sends it as the bearer credential', async () => {
    let calls = 0;
    const { client: c, seen } = client([{ status: 503 }, json(201, RESPONSE)], {
      auth: { getToken: async () => `host-token-${++calls}` },
    });
    await expect(c.submit(SUBMISSION)).resolves.toEqual(RESPONSE);
    expect(seen.map((s) => s.headers.Authorization)).toEqual(['Bearer host-token-1', 'Bearer host-token-2']);
  });

  it('fails with unauthenticated, without calling the service, when the host cannot give a token', async () => {
    const { client: c, seen } = client([json(201, RESPONSE)], {
      auth: {
        getToken: () => {
          throw new Error('backend down for 4111111111111111');
        },
      },
    });
    const error = await failure(c.submit(SUBMISSION));
    expect(error.code).toBe('unauthenticated');
    expect(JSON.stringify(error) + String(error)).not.toContain('4111111111111111');
    expect(seen).toHaveLength(0);
  });

  it('refuses a token that cannot travel in a header', async () => {
    const { client: c, seen } = client([json(201, RESPONSE)], { auth: { getToken: () => 'bad\ntoken' } });
    expect((await failure(c.submit(SUBMISSION))).code).toBe('unauthenticated');
    expect(seen).toHaveLength(0);
  });
});

describe('createHttpTokenServiceClient: redirects', () => {
  it('asks fetch never to follow a redirect', async () => {
    const inits: unknown[] = [];
    const { client: spy } = client([], {
      fetch: async (_url, init) => {
        inits.push(init.redirect);
        return new Response(JSON.stringify(RESPONSE), { status: 201, headers: { 'content-type': 'application/json' } });
      },
    });
    await expect(spy.submit(SUBMISSION)).resolves.toEqual(RESPONSE);
    expect(inits).toEqual(['error']);
  });

  it('over real HTTP, never re-sends the submission to where a 307 points', async () => {
    const { createServer } = await import('node:http');
    let elsewhereHits = 0;
    const elsewhere = createServer((_req, res) => {
      elsewhereHits++;
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(RESPONSE));
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    const target = `http://127.0.0.1:${(elsewhere.address() as { port: number }).port}/v1/provisioning-requests`;
    let redirects = 0;
    const redirecting = createServer((_req, res) => {
      redirects++;
      res.writeHead(307, { location: target }).end();
    });
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    try {
      const c = createHttpTokenServiceClient({
        baseUrl: `http://127.0.0.1:${(redirecting.address() as { port: number }).port}`,
        auth: { apiKey: 'sk_test_123' },
        maxRetries: 1,
        sleep: async () => {},
      });
      const error = await failure(c.submit(SUBMISSION));
      expect(error.code).toBe('network_error');
      expect(redirects).toBe(2);
      expect(elsewhereHits).toBe(0);
    } finally {
      await new Promise((resolve) => redirecting.close(resolve));
      await new Promise((resolve) => elsewhere.close(resolve));
    }
  });
});

describe('createHttpTokenServiceClient: the yellow path calls', () => {
  const STARTED = { type: 'verification-started', version: 1, tokenReferenceId: 'tok_1', methodId: 'sms', codeLength: 6, codeExpiresAt: 2_000_000_600, resendAfter: 2_000_000_030, attemptsLeft: 5 };
  const ACTIVE = { type: 'token-status', version: 1, tokenReferenceId: 'tok_1', status: 'active', tokenLast4: '0003', tokenExpiry: { month: 12, year: 2030 }, updatedAt: 1 };

  it('startVerification POSTs the verification request with an idempotency key, the same for its retries, and a fresh assertion each attempt', async () => {
    const { privateJwk } = await generateSigningKey({ kid: 'wp-1' });
    const { client: c, seen } = client([problemReply(503, 'store_unavailable'), json(200, STARTED)], {
      auth: { walletProviderId: 'wallet-co', audience: 'token-service', signingKey: privateJwk },
      clock: manualClock(Date.UTC(2026, 10, 28)),
    });
    expect(await c.startVerification('tok_1', { methodId: 'sms' })).toEqual(STARTED);
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'POST https://tokens.example/v1/tokens/tok_1/verification',
      'POST https://tokens.example/v1/tokens/tok_1/verification',
    ]);
    expect(JSON.parse(seen[0]!.body!)).toEqual({ type: 'verification-request', version: 1, methodId: 'sms' });
    expect(seen[0]!.headers['Idempotency-Key']).toMatch(/^idem_[A-Za-z0-9_-]{22}$/);
    expect(seen[1]!.headers['Idempotency-Key']).toBe(seen[0]!.headers['Idempotency-Key']);
    expect(seen[0]!.headers.Authorization).not.toBe(seen[1]!.headers.Authorization);
  });

  it('hands a verification_cooldown back at once, with the Retry-After as retryAfterMs, instead of waiting', async () => {
    const { client: c, seen, delays } = client([problemReply(429, 'verification_cooldown', {}, { 'retry-after': '17' }), json(200, STARTED)]);
    const error = await failure(c.startVerification('tok_1', { methodId: 'sms' }));
    expect(error).toMatchObject({ code: 'verification_cooldown', status: 429, retryable: true, details: { retryAfterMs: 17_000 } });
    expect(seen).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it('activateToken sends the code, reads the status, and carries attemptsLeft of a wrong code', async () => {
    const { client: c, seen } = client([problemReply(422, 'verification_code_invalid', { attemptsLeft: 3 }), json(200, ACTIVE)]);
    const wrong = await failure(c.activateToken('tok_1', { methodId: 'sms', code: '123456' }, { idempotencyKey: 'idem_activation_1' }));
    expect(wrong).toMatchObject({ code: 'verification_code_invalid', status: 422, retryable: false, details: { attemptsLeft: 3 } });
    expect(seen).toHaveLength(1); // not retried
    expect(JSON.stringify(wrong)).not.toContain('123456');
    expect(await c.activateToken('tok_1', { methodId: 'sms', code: '654321' })).toEqual(ACTIVE);
    expect(seen[0]!.url).toBe('https://tokens.example/v1/tokens/tok_1/activation');
    expect(seen[0]!.headers['Idempotency-Key']).toBe('idem_activation_1');
    expect(JSON.parse(seen[1]!.body!)).toEqual({ type: 'activation-request', version: 1, methodId: 'sms', code: '654321' });
    expect(seen[1]!.headers['Idempotency-Key']).not.toBe('idem_activation_1');
  });

  it('refuses a malformed code, token id or key without calling the network, and answers for another token or method', async () => {
    const { client: c, seen } = client([json(200, { ...STARTED, methodId: 'email' }), json(200, { ...ACTIVE, tokenReferenceId: 'tok_2' })]);
    for (const code of ['12345', '123456789', '12 34 56', '١٢٣٤٥٦']) {
      expect(await failure(c.activateToken('tok_1', { methodId: 'sms', code }))).toMatchObject({ code: 'invalid_message' });
    }
    expect(await failure(c.startVerification('..', { methodId: 'sms' }))).toMatchObject({ code: 'invalid_message' });
    expect(await failure(c.startVerification('tok_1', { methodId: 'sms' }, { idempotencyKey: 'bad key' }))).toMatchObject({ code: 'invalid_message' });
    expect(seen).toEqual([]);
    expect(await failure(c.startVerification('tok_1', { methodId: 'sms' }))).toMatchObject({ code: 'invalid_message' });
    expect(await failure(c.activateToken('tok_1', { methodId: 'sms', code: '123456' }))).toMatchObject({ code: 'invalid_message' });
  });

  it('times out and aborts like the submission', async () => {
    const { client: c } = client(['hang', json(200, STARTED)], { timeoutMs: 50 });
    expect(await c.startVerification('tok_1', { methodId: 'sms' })).toEqual(STARTED);
    const { client: c2 } = client(['hang']);
    const controller = new AbortController();
    const pending = failure(c2.activateToken('tok_1', { methodId: 'sms', code: '123456' }, { signal: controller.signal }));
    setTimeout(() => controller.abort(), 20); // while the request hangs
    expect(await pending).toMatchObject({ code: 'aborted' });
  });
});
