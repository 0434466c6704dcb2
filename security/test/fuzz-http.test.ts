// Fuzzing every endpoint of the token service with fast-check, over real
// loopback HTTP with SQLite and, for more runs, through the same Hono app as
// a Fetch handler: random methods, paths, headers and bodies, valid
// submissions, and submissions mutated as text, as JSON and inside their JWE.
// Every answer is below 500; every refusal is RFC 9457 problem details with
// a catalog code and its catalog status; a refused POST changes no table; no
// answer, header or log line carries the canary PAN; the service is healthy
// and still issues tokens afterwards.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ERROR_CATALOG,
  isErrorCode,
  PROBLEM_CONTENT_TYPE,
  type Submission,
  createClientAssertion,
  parseProblemDetails,
  parseProvisioningResponse,
  parsePublicJwks,
  parseTokenStatusResponse,
} from '@pushprov/protocol';
import { type LogEvent, createTokenService, createTokenServiceApp, openSqliteStore } from '@pushprov/token-service';
import { findCanary } from '../src/canary.js';
import { countRows } from '../src/database.js';
import { fuzzParameters, guardUnhandled, hostileJson, hostileString, mutatedCompact, mutatedHeader, mutatedJson, mutatedText } from '../src/fuzz.js';
import { type Harness, startHarness } from '../src/harness.js';
import { type HttpResult, postSubmission, send } from '../src/http.js';
import { API_KEY, OTHER_API_KEY, SERVICE_ID, type Sandbox, WALLET, buildRequest, createSandbox } from '../src/sandbox.js';

// Bounded runs, each with its own time limit; the whole test may take longer on a busy CI machine.
vi.setConfig({ testTimeout: 90_000 });

const guard = guardUnhandled();
let sb: Sandbox;
let h: Harness;
/** Valid submissions built ahead (the arbitraries are synchronous); each is used or mutated by the runs. */
let pool: Submission[] = [];
let tokenIds: string[] = [];

beforeAll(async () => {
  guard.install();
  sb = await createSandbox();
  h = await startHarness(sb);
  pool = await Promise.all(Array.from({ length: 24 }, async () => (await buildRequest(sb)).submission));
  const created = await postSubmission(h.url, (await buildRequest(sb)).submission);
  tokenIds = [parseProvisioningResponse(created.text).tokenReferenceId];
});
afterAll(async () => {
  guard.uninstall();
  await h?.dispose();
  expect(guard.seen).toEqual([]);
});

/** Header values a client can send (ByteStrings without CR/LF), from hostile strings. */
const headerValue = hostileString.map((s) => [...s].filter((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) <= 0xff && c !== '\x7f').join(''));

const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'text/plain', 'application/problem+json', 'application/x-www-form-urlencoded', ''];

type Auth = { kind: 'api'; key: string } | { kind: 'assertion' } | { kind: 'raw'; value: string } | { kind: 'none' };
const auth: fc.Arbitrary<Auth> = fc.oneof(
  { arbitrary: fc.constant<Auth>({ kind: 'api', key: API_KEY }), weight: 6 },
  fc.constant<Auth>({ kind: 'api', key: OTHER_API_KEY }),
  fc.constant<Auth>({ kind: 'assertion' }),
  fc.constant<Auth>({ kind: 'none' }),
  headerValue.map<Auth>((value) => ({ kind: 'raw', value })),
  headerValue.map<Auth>((value) => ({ kind: 'raw', value: `Bearer ${value}` })),
);

/** A body: a pool submission (as is, or mutated as JSON, as text, in its JWE), hostile JSON, or random bytes. */
const body: fc.Arbitrary<string | Uint8Array> = fc.nat().chain((n) => {
  const valid = () => pool[n % pool.length]!;
  return fc.oneof(
    fc.constant(null).map(() => JSON.stringify(valid())),
    fc.constant(null).chain(() => mutatedJson(valid())).map((v) => JSON.stringify(v) ?? ''),
    fc.constant(null).chain(() => mutatedText(JSON.stringify(valid()))),
    fc.constant(null).chain(() => fc.oneof(mutatedCompact(valid().encryptedRequest), mutatedHeader(valid().encryptedRequest))).map((jwe) => JSON.stringify({ ...valid(), encryptedRequest: jwe })),
    hostileJson.map((v) => JSON.stringify(v) ?? ''),
    fc.uint8Array({ maxLength: 300 }),
  );
});

const requestShape = fc.record({
  method: fc.oneof({ arbitrary: fc.constant('POST'), weight: 6 }, fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD')),
  path: fc.oneof(
    { arbitrary: fc.constant('/v1/provisioning-requests'), weight: 8 },
    fc.constantFrom('/health', '/openapi.json', '/.well-known/jwks.json', '/v1/tokens/', '/v1/provisioning-requests/', '/V1/PROVISIONING-REQUESTS', '//v1/provisioning-requests'),
    fc.nat().map((i) => `/v1/tokens/${tokenIds[i % tokenIds.length] ?? 'tok_x'}`),
    hostileString.map((s) => `/v1/tokens/${encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd'))}`),
    fc.webPath(),
  ),
  contentType: fc.oneof({ arbitrary: fc.constant('application/json'), weight: 6 }, fc.constantFrom(...CONTENT_TYPES), headerValue),
  idempotencyKey: fc.option(fc.oneof({ arbitrary: fc.uuid(), weight: 5 }, headerValue), { nil: undefined, freq: 8 }),
  auth,
  body,
});

type RequestShape = typeof requestShape extends fc.Arbitrary<infer T> ? T : never;

async function headersOf(shape: RequestShape): Promise<Record<string, string>> {
  const headers: Record<string, string> = {};
  if (shape.contentType !== '') headers['content-type'] = shape.contentType;
  if (shape.idempotencyKey !== undefined && shape.idempotencyKey !== '') headers['idempotency-key'] = shape.idempotencyKey;
  if (shape.auth.kind === 'api') headers.authorization = `Bearer ${shape.auth.key}`;
  if (shape.auth.kind === 'raw' && shape.auth.value.trim() !== '') headers.authorization = shape.auth.value;
  if (shape.auth.kind === 'assertion') {
    headers.authorization = `Bearer ${await createClientAssertion({ walletProviderId: WALLET, audience: SERVICE_ID, signingKey: sb.walletSigning.privateJwk, clock: sb.clock })}`;
  }
  return headers;
}

/** Checks one answer; returns whether it was a success. */
function checkAnswer(shape: RequestShape, result: HttpResult): boolean {
  expect(result.status, result.text.slice(0, 300)).toBeLessThan(500);
  expect(findCanary(result.text)).toEqual([]);
  expect(findCanary([...result.headers].join('\n'))).toEqual([]);
  expect(result.headers.get('x-request-id')).toMatch(/^req_/);
  if (result.status >= 400) {
    expect(result.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
    if (shape.method === 'HEAD') return false;
    const problem = parseProblemDetails(result.text);
    expect(problem.status).toBe(result.status);
    expect(isErrorCode(problem.code) && ERROR_CATALOG[problem.code].status).toBe(result.status);
    return false;
  }
  if (shape.method === 'HEAD' || shape.method === 'OPTIONS') return true;
  if (shape.path === '/v1/provisioning-requests') parseProvisioningResponse(result.text);
  else if (shape.path.startsWith('/v1/tokens/')) parseTokenStatusResponse(result.text);
  else if (shape.path === '/.well-known/jwks.json') parsePublicJwks(JSON.parse(result.text));
  return true;
}

/** The refusals that burn their request's jti. */
const STICKY = new Set(['card_invalid', 'card_expired', 'card_not_eligible', 'declined']);

describe('every endpoint over loopback HTTP', () => {
  it('random and mutated requests: never 5xx, only problem details with a catalog code, nothing stored by a refusal', async () => {
    let successes = 0;
    let refusals = 0;
    await fc.assert(
      fc.asyncProperty(requestShape, async (shape) => {
        const headers = await headersOf(shape);
        const before = shape.method === 'POST' ? countRows(h.dbPath) : undefined;
        const init: RequestInit = { method: shape.method, headers };
        if (shape.method !== 'GET' && shape.method !== 'HEAD') init.body = shape.body as BodyInit;
        const result = await send(`${h.url}${shape.path}`, init);
        const ok = checkAnswer(shape, result);
        if (ok) successes++;
        else refusals++;
        if (before && !ok) {
          // A refusal stores nothing but, on purpose: the claim of a client assertion it presented
          // (used up when presented), and the jti of a refusal that sticks (the card checks, the decision).
          const after = countRows(h.dbPath);
          const code = shape.method === 'HEAD' ? undefined : (JSON.parse(result.text) as { code?: string }).code;
          const allowed = (shape.auth.kind === 'assertion' ? 1 : 0) + (code !== undefined && STICKY.has(code) ? 1 : 0);
          expect({ ...after, replay: before.replay }).toEqual(before);
          const added = (after.replay ?? 0) - (before.replay ?? 0);
          expect(added).toBeGreaterThanOrEqual(0);
          expect(added).toBeLessThanOrEqual(allowed);
        }
      }),
      fuzzParameters(400, 10_000),
    );
    expect(refusals).toBeGreaterThan(100);
    expect(successes).toBeGreaterThan(0);
  });

  it('is healthy afterwards, still issues tokens, logged no internal error, and never logged the canary', async () => {
    expect((await send(`${h.url}/health`)).status).toBe(200);
    const fresh = await postSubmission(h.url, (await buildRequest(sb)).submission);
    expect(fresh.status).toBe(201);
    expect(h.logs.filter((l: LogEvent) => l.level === 'error')).toEqual([]);
    expect(findCanary(JSON.stringify(h.logs))).toEqual([]);
  });
});

describe('the same app as a Fetch handler (more runs)', () => {
  it('random and mutated requests: never 5xx, only problem details with a catalog code', async () => {
    const dbPath = `${h.dir}/in-process.db`;
    const service = createTokenService(sb.config, openSqliteStore(dbPath), { clock: sb.clock });
    const logs: LogEvent[] = [];
    const app = createTokenServiceApp(service, { logger: { info: (e) => logs.push(e), error: (e) => logs.push({ ...e, level: 'error' }) } });
    try {
      await fc.assert(
        fc.asyncProperty(requestShape, async (shape) => {
          const headers = await headersOf(shape);
          const init: RequestInit = { method: shape.method, headers };
          if (shape.method !== 'GET' && shape.method !== 'HEAD') init.body = shape.body as BodyInit;
          const response = await app.fetch(new Request(`http://127.0.0.1${shape.path.startsWith('/') ? '' : '/'}${shape.path}`, init));
          checkAnswer(shape, { status: response.status, headers: response.headers, text: await response.text() });
        }),
        fuzzParameters(1000, 10_000),
      );
      expect(logs.filter((l) => l.level === 'error')).toEqual([]);
      expect(findCanary(JSON.stringify(logs))).toEqual([]);
    } finally {
      await service.close();
    }
  });
});
