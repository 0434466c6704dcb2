// The HTTP API over real loopback with SQLite: idempotency, concurrency,
// restart, authentication, media types, token status, JWKS.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ErrorCode,
  ERROR_CATALOG,
  PROBLEM_CONTENT_TYPE,
  createClientAssertion,
  generateSigningKey,
  parsePublicJwks,
  parseProblemDetails,
  parseProvisioningResponse,
  parseTokenStatusResponse,
} from '@pushprov/protocol';
import { type RunningTokenServer, type StartTokenServerOptions, startTokenServer } from '../src/server.js';
import { silentLogger } from '../src/index.js';
import {
  API_KEY,
  type Fixture,
  OTHER_API_KEY,
  OTHER_WALLET,
  SERVICE_ID,
  WALLET,
  buildSubmission,
  countRows,
  createFixture,
  createIdentifiers,
  createTempDir,
  postSubmission,
 publishedSigningKeys } from './helpers.js';

let fx: Fixture;
let temp: ReturnType<typeof createTempDir>;
const servers: RunningTokenServer[] = [];

beforeAll(async () => {
  fx = await createFixture();
  temp = createTempDir();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(() => temp?.remove());

let dbCounter = 0;
async function start(options: Partial<StartTokenServerOptions> = {}) {
  const dbPath = options.dbPath ?? join(temp.dir, `db-${++dbCounter}.sqlite`);
  const server = await startTokenServer({ config: fx.config, dbPath, clock: fx.clock, logger: silentLogger, purgeIntervalMs: 0, ...options });
  servers.push(server);
  return { server, dbPath, url: server.url };
}

async function expectCode(response: Response, code: ErrorCode) {
  expect(response.status).toBe(ERROR_CATALOG[code].status);
  expect(response.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
  const problem = parseProblemDetails(await response.text());
  expect(problem.code).toBe(code);
  expect(problem.requestId).toBe(response.headers.get('x-request-id'));
  return problem;
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('idempotency', () => {
  it('replays the same status and body for the same key and body, with Idempotent-Replayed', async () => {
    const { url, dbPath } = await start();
    const { submission } = await buildSubmission(fx);
    const first = await postSubmission(url, submission, { idempotencyKey: 'idem-1' });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const firstBody = await first.text();
    const rows = countRows(dbPath);
    // The same body with other whitespace and member order is the same request.
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(submission).reverse()), null, 2);
    const second = await postSubmission(url, reordered, { idempotencyKey: 'idem-1' });
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await second.text()).toBe(firstBody);
    expect(countRows(dbPath)).toEqual(rows);
  });

  it('refuses the same key with another body (422 idempotency_key_reused), database unchanged', async () => {
    const { url, dbPath } = await start();
    const a = await buildSubmission(fx);
    const b = await buildSubmission(fx);
    expect((await postSubmission(url, a.submission, { idempotencyKey: 'idem-2' })).status).toBe(201);
    const rows = countRows(dbPath);
    await expectCode(await postSubmission(url, b.submission, { idempotencyKey: 'idem-2' }), 'idempotency_key_reused');
    expect(countRows(dbPath)).toEqual(rows);
    // The refused body is still usable under its own key.
    expect((await postSubmission(url, b.submission, { idempotencyKey: 'idem-3' })).status).toBe(201);
  });

  it('scopes keys per wallet provider', async () => {
    const { url } = await start();
    const a = await buildSubmission(fx);
    expect((await postSubmission(url, a.submission, { idempotencyKey: 'shared-key' })).status).toBe(201);
    // Another provider may use the same key for its own request: neither 422 nor a replay of the first answer.
    const b = await buildSubmission(fx, { identifiers: createIdentifiers({ walletProviderId: OTHER_WALLET }) });
    const other = await postSubmission(url, b.submission, { idempotencyKey: 'shared-key', apiKey: OTHER_API_KEY });
    expect(other.status).toBe(201);
    expect(other.headers.get('idempotent-replayed')).toBeNull();
    expect(parseProvisioningResponse(await other.text()).sessionId).toBe(b.submission.sessionId);
  });

  it('answers 409 idempotency_in_flight while the first request with the key is still running, 422 for another body', async () => {
    const entered = deferred();
    const release = deferred();
    const { url, dbPath } = await start({
      decide: async () => {
        entered.resolve();
        await release.promise;
        return 'approve' as const;
      },
    });
    const { submission } = await buildSubmission(fx);
    const other = await buildSubmission(fx);
    const first = postSubmission(url, submission, { idempotencyKey: 'slow-1' });
    await entered.promise;
    const rows = countRows(dbPath);
    const inFlight = await postSubmission(url, submission, { idempotencyKey: 'slow-1' });
    const problem = await expectCode(inFlight, 'idempotency_in_flight');
    expect(problem.retryable).toBe(true);
    expect(inFlight.headers.get('retry-after')).toBe('1');
    // Another body while the first is in flight: its fate is not known yet, so 409 (retryable), not a final 422.
    await expectCode(await postSubmission(url, other.submission, { idempotencyKey: 'slow-1' }), 'idempotency_in_flight');
    expect(countRows(dbPath)).toEqual(rows);
    release.resolve();
    const done = await first;
    expect(done.status).toBe(201);
    const replay = await postSubmission(url, submission, { idempotencyKey: 'slow-1' });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
  });
});

describe('concurrency', () => {
  it('50 identical submissions in parallel with the same idempotency key issue exactly one token', async () => {
    const { url, dbPath } = await start();
    const { submission } = await buildSubmission(fx);
    const responses = await Promise.all(Array.from({ length: 50 }, () => postSubmission(url, submission, { idempotencyKey: 'parallel-same' })));
    const results = await Promise.all(responses.map(async (r) => ({ status: r.status, replayed: r.headers.get('idempotent-replayed'), text: await r.text() })));
    const created = results.filter((r) => r.status === 201);
    expect(created.filter((r) => r.replayed === null)).toHaveLength(1);
    expect(new Set(created.map((r) => r.text)).size).toBe(1);
    for (const r of results.filter((x) => x.status !== 201)) {
      expect(r.status).toBe(409);
      expect(parseProblemDetails(r.text).code).toBe('idempotency_in_flight');
    }
    expect(countRows(dbPath)).toMatchObject({ tokens: 1, vault: 1, replay: 1, idempotency: 1 });
  });

  it('50 identical submissions in parallel with different idempotency keys issue exactly one token', async () => {
    const { url, dbPath } = await start();
    const { submission } = await buildSubmission(fx);
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => postSubmission(url, submission, { idempotencyKey: `parallel-${i}` })));
    const results = await Promise.all(responses.map(async (r) => ({ status: r.status, text: await r.text() })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    const refused = results.filter((r) => r.status !== 201);
    expect(refused).toHaveLength(49);
    for (const r of refused) expect(parseProblemDetails(r.text).code).toBe('replayed');
    expect(countRows(dbPath)).toMatchObject({ tokens: 1, vault: 1, replay: 1, idempotency: 1 });
  });
});

describe('restart', () => {
  it('keeps every token, replay record and idempotency record across close and reopen of the same database', async () => {
    const dbPath = join(temp.dir, 'restart.sqlite');
    const first = await start({ dbPath });
    const requests = await Promise.all([buildSubmission(fx), buildSubmission(fx), buildSubmission(fx)]);
    const answers: string[] = [];
    for (const [i, r] of requests.entries()) {
      const response = await postSubmission(first.url, r.submission, { idempotencyKey: `restart-${i}` });
      expect(response.status).toBe(201);
      answers.push(await response.text());
    }
    await first.server.close();
    servers.splice(servers.indexOf(first.server), 1);
    const rows = countRows(dbPath);
    expect(rows).toEqual({ tokens: 3, vault: 3, replay: 3, idempotency: 3 });

    const second = await start({ dbPath });
    for (const [i, r] of requests.entries()) {
      // Idempotency record: same answer.
      const replay = await postSubmission(second.url, r.submission, { idempotencyKey: `restart-${i}` });
      expect(replay.status).toBe(201);
      expect(await replay.text()).toBe(answers[i]);
      // Replay record: a new key does not get a second token.
      await expectCode(await postSubmission(second.url, r.submission, { idempotencyKey: `restart-new-${i}` }), 'replayed');
      // Token: still there.
      const tokenReferenceId = parseProvisioningResponse(answers[i]!).tokenReferenceId;
      const status = await fetch(`${second.url}/v1/tokens/${tokenReferenceId}`, { headers: { authorization: `Bearer ${API_KEY}` } });
      expect(status.status).toBe(200);
      expect(parseTokenStatusResponse(await status.text()).tokenReferenceId).toBe(tokenReferenceId);
    }
    expect(countRows(dbPath)).toEqual(rows);
  });
});

describe('authentication', () => {
  it('refuses a request without credentials (401 with WWW-Authenticate), database unchanged', async () => {
    const { url, dbPath } = await start();
    const { submission } = await buildSubmission(fx);
    const rows = countRows(dbPath);
    const response = await postSubmission(url, submission, { authorization: '' });
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    await expectCode(response, 'unauthenticated');
    await expectCode(await postSubmission(url, submission, { authorization: `Basic ${btoa(`${WALLET}:${API_KEY}`)}` }), 'unauthenticated');
    expect(countRows(dbPath)).toEqual(rows);
  });

  it('refuses an unknown API key', async () => {
    const { url } = await start();
    const { submission } = await buildSubmission(fx);
    await expectCode(await postSubmission(url, submission, { apiKey: `${API_KEY}x` }), 'unauthenticated');
  });

  it('authenticates before anything else: no 415 or 400 hints to an unauthenticated caller', async () => {
    const { url } = await start();
    await expectCode(await postSubmission(url, 'x', { authorization: 'Bearer nope', contentType: 'text/plain', idempotencyKey: null }), 'unauthenticated');
  });

  it('accepts a client assertion once, and refuses its reuse', async () => {
    const { url } = await start();
    const assertion = await createClientAssertion({ walletProviderId: WALLET, audience: SERVICE_ID, signingKey: fx.walletSigning.privateJwk, clock: fx.clock });
    const a = await buildSubmission(fx);
    const ok = await postSubmission(url, a.submission, { authorization: `Bearer ${assertion}` });
    expect(ok.status).toBe(201);
    const b = await buildSubmission(fx);
    await expectCode(await postSubmission(url, b.submission, { authorization: `Bearer ${assertion}` }), 'unauthenticated');
  });

  it('refuses a reused client assertion after a restart (its jti was stored with the provisioning)', async () => {
    const dbPath = join(temp.dir, 'assertion-restart.sqlite');
    const first = await start({ dbPath });
    const assertion = await createClientAssertion({ walletProviderId: WALLET, audience: SERVICE_ID, signingKey: fx.walletSigning.privateJwk, clock: fx.clock });
    expect((await postSubmission(first.url, (await buildSubmission(fx)).submission, { authorization: `Bearer ${assertion}` })).status).toBe(201);
    await first.server.close();
    servers.splice(servers.indexOf(first.server), 1);
    const second = await start({ dbPath });
    await expectCode(await postSubmission(second.url, (await buildSubmission(fx)).submission, { authorization: `Bearer ${assertion}` }), 'unauthenticated');
  });

  it('refuses client assertions for another audience, by an unknown provider, by a provider without keys, or with a foreign key', async () => {
    const { url } = await start();
    const { submission } = await buildSubmission(fx);
    const rogue = await generateSigningKey({ alg: 'EdDSA', kid: 'wallet-sig-1' });
    const assertions = await Promise.all([
      createClientAssertion({ walletProviderId: WALLET, audience: 'another-service', signingKey: fx.walletSigning.privateJwk, clock: fx.clock }),
      createClientAssertion({ walletProviderId: 'wallet-unknown', audience: SERVICE_ID, signingKey: fx.walletSigning.privateJwk, clock: fx.clock }),
      createClientAssertion({ walletProviderId: 'wallet-two', audience: SERVICE_ID, signingKey: fx.walletSigning.privateJwk, clock: fx.clock }),
      createClientAssertion({ walletProviderId: WALLET, audience: SERVICE_ID, signingKey: rogue.privateJwk, clock: fx.clock }),
    ]);
    for (const assertion of assertions) {
      await expectCode(await postSubmission(url, submission, { authorization: `Bearer ${assertion}` }), 'unauthenticated');
    }
  });

  it('refuses an expired client assertion', async () => {
    const { url } = await start();
    const old = { now: () => fx.clock.now() - 10 * 60_000 };
    const assertion = await createClientAssertion({ walletProviderId: WALLET, audience: SERVICE_ID, signingKey: fx.walletSigning.privateJwk, clock: old });
    await expectCode(await postSubmission(url, (await buildSubmission(fx)).submission, { authorization: `Bearer ${assertion}` }), 'unauthenticated');
  });
});

describe('HTTP rules', () => {
  it('refuses other media types with 415, database unchanged', async () => {
    const { url, dbPath } = await start();
    const { submission } = await buildSubmission(fx);
    const rows = countRows(dbPath);
    await expectCode(await postSubmission(url, submission, { contentType: 'text/plain' }), 'unsupported_media_type');
    await expectCode(await postSubmission(url, submission, { contentType: 'application/json; charset=latin1' }), 'unsupported_media_type');
    await expectCode(await postSubmission(url, submission, { contentType: 'application/x-www-form-urlencoded' }), 'unsupported_media_type');
    expect(countRows(dbPath)).toEqual(rows);
    expect((await postSubmission(url, submission, { contentType: 'application/json; charset=utf-8' })).status).toBe(201);
  });

  it('requires an Idempotency-Key of 1-255 printable ASCII characters', async () => {
    const { url, dbPath } = await start();
    const { submission } = await buildSubmission(fx);
    const rows = countRows(dbPath);
    await expectCode(await postSubmission(url, submission, { idempotencyKey: null }), 'missing_idempotency_key');
    await expectCode(await postSubmission(url, submission, { idempotencyKey: 'k'.repeat(256) }), 'invalid_idempotency_key');
    expect(countRows(dbPath)).toEqual(rows);
    expect((await postSubmission(url, submission, { idempotencyKey: 'k'.repeat(255) })).status).toBe(201);
  });

  it('answers unknown routes with a 404 problem carrying X-Request-Id', async () => {
    const { url } = await start();
    await expectCode(await fetch(`${url}/v1/nothing`), 'not_found');
    await expectCode(await fetch(`${url}/v1/provisioning-requests/extra`, { method: 'POST' }), 'not_found');
  });

  it('answers a method a known path does not serve with 405 method_not_allowed and Allow', async () => {
    const { url, dbPath } = await start();
    const rows = countRows(dbPath);
    for (const [path, method, allow] of [
      ['/v1/provisioning-requests', 'GET', 'POST'],
      ['/v1/provisioning-requests', 'PUT', 'POST'],
      ['/v1/tokens/tok_AAAAAAAAAAAAAAAAAAAAAA', 'DELETE', 'GET, HEAD'],
      ['/v1/tokens/tok_AAAAAAAAAAAAAAAAAAAAAA', 'POST', 'GET, HEAD'],
      ['/.well-known/jwks.json', 'POST', 'GET, HEAD'],
      ['/health', 'PATCH', 'GET, HEAD'],
      ['/openapi.json', 'DELETE', 'GET, HEAD'],
    ] as const) {
      const response = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${API_KEY}` } });
      expect(response.headers.get('allow'), `${method} ${path}`).toBe(allow);
      await expectCode(response, 'method_not_allowed');
    }
    expect(countRows(dbPath)).toEqual(rows);
    // HEAD is served wherever GET is.
    expect((await fetch(`${url}/health`, { method: 'HEAD' })).status).toBe(200);
  });

  it('serves health, the OpenAPI document and the public JWKS (no private members)', async () => {
    const { url } = await start();
    const health = await fetch(`${url}/health`);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(health.headers.get('x-request-id')).toMatch(/^req_/);
    const openapi = (await (await fetch(`${url}/openapi.json`)).json()) as { openapi: string };
    expect(openapi.openapi).toBe('3.1.0');
    const jwksText = await (await fetch(`${url}/.well-known/jwks.json`)).text();
    expect(jwksText).not.toContain('"d"');
    const jwks = parsePublicJwks(JSON.parse(jwksText));
    // The encryption key, then the notification signing key (use sig).
    expect(jwks.keys.map((k) => k.kid)).toEqual(['svc-1', ...publishedSigningKeys(fx.keySet).map((k) => k.kid)]);
    expect(jwks.keys[1]).toEqual(publishedSigningKeys(fx.keySet)[0]);
    expect(jwks.keys[1]).toMatchObject({ alg: 'ES256', use: 'sig' });
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ECDH-ES+A256KW', x: fx.serviceEncryptionKey.x, y: fx.serviceEncryptionKey.y });
  });
});

describe('GET /v1/tokens/:tokenReferenceId', () => {
  it('returns the status to the owning wallet provider, never the number; 404 to any other provider; 401 without credentials', async () => {
    const { url } = await start();
    const response = await postSubmission(url, (await buildSubmission(fx)).submission);
    const body = parseProvisioningResponse(await response.text());
    const own = await fetch(`${url}/v1/tokens/${body.tokenReferenceId}`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(own.status).toBe(200);
    const ownText = await own.text();
    expect(ownText).not.toContain(body.accessData!.tokenNumber);
    expect(parseTokenStatusResponse(ownText)).toEqual({
      type: 'token-status',
      version: 1,
      tokenReferenceId: body.tokenReferenceId,
      status: 'active',
      tokenLast4: body.accessData!.tokenNumber.slice(-4),
      tokenExpiry: body.accessData!.tokenExpiry,
      updatedAt: body.accessData!.issuedAt,
    });
    const other = await fetch(`${url}/v1/tokens/${body.tokenReferenceId}`, { headers: { authorization: `Bearer ${OTHER_API_KEY}` } });
    const unknown = await fetch(`${url}/v1/tokens/tok_doesnotexist`, { headers: { authorization: `Bearer ${API_KEY}` } });
    const otherProblem = await expectCode(other, 'not_found');
    const unknownProblem = await expectCode(unknown, 'not_found');
    expect(otherProblem.detail).toBe(unknownProblem.detail);
    await expectCode(await fetch(`${url}/v1/tokens/${body.tokenReferenceId}`), 'unauthenticated');
    await expectCode(await fetch(`${url}/v1/tokens/${'%E2%80%AE'.repeat(3)}`, { headers: { authorization: `Bearer ${API_KEY}` } }), 'not_found');
  });
});
