// Bad input, issuer backend layer: the issuer SDK's backend handler (the one
// component besides the token service that holds the card) as a Fetch
// handler, with its builder fetching the token service's keys over loopback
// HTTP. Each refusal is problem details with exactly its code, carries no
// canary PAN (nor does anything handed to the logging hook), and builds
// nothing; random bodies never get a 5xx. A valid request built by it is
// accepted by the token service.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ERROR_CATALOG,
  type ErrorCode,
  type Invocation,
  PROBLEM_CONTENT_TYPE,
  type ProvisioningError,
  isErrorCode,
  parseProblemDetails,
  parseProvisioningRequestMessage,
} from '@pushprov/protocol';
import { createIssuerBackendHandler, createProvisioningRequestBuilder } from '@pushprov/issuer-sdk/server';
import { findCanary } from '../src/canary.js';
import { countRows } from '../src/database.js';
import { expectProblem } from '../src/expectations.js';
import { fuzzParameters, guardUnhandled, hostileJson, mutatedJson, mutatedText } from '../src/fuzz.js';
import { type Harness, startHarness } from '../src/harness.js';
import { type HttpResult, postSubmission } from '../src/http.js';
import { CANARY_CARD, ISSUER_ID, NOW_SECONDS, SERVICE_ID, type Sandbox, WALLET, createIdentifiers, createSandbox } from '../src/sandbox.js';

vi.setConfig({ testTimeout: 60_000 });

const guard = guardUnhandled();
let sb: Sandbox;
let h: Harness;
let handler: (request: Request) => Promise<Response>;
const logged: ProvisioningError[] = [];
let builds = 0;

beforeAll(async () => {
  guard.install();
  sb = await createSandbox();
  h = await startHarness(sb);
  const builder = createProvisioningRequestBuilder<string>({
    issuerId: ISSUER_ID,
    signingKey: sb.issuer.privateJwk,
    tokenService: { audience: SERVICE_ID, jwksUrl: `${h.url}/.well-known/jwks.json` },
    walletProviders: [WALLET],
    lookupCard: (accountRef, user) => (accountRef === 'acct-canary' && user === 'alice' ? CANARY_CARD : undefined),
    allowedReplyTo: ['https://bank.example/wallet-return'],
    clock: sb.clock,
  });
  const counting = {
    ...builder,
    buildRequest: (input: Parameters<typeof builder.buildRequest>[0]) => {
      builds++;
      return builder.buildRequest(input);
    },
  };
  handler = createIssuerBackendHandler<string>({
    builder: counting,
    authenticate: (request) => request.headers.get('x-test-user') || null,
    onError: (error) => logged.push(error),
  });
});
afterAll(async () => {
  guard.uninstall();
  await h?.dispose();
  expect(guard.seen).toEqual([]);
});

/** Calls the handler; the answer read whole. */
async function call(body: string | Uint8Array, headers: Record<string, string> = {}, method = 'POST'): Promise<HttpResult> {
  const init: RequestInit = { method, headers: { 'content-type': 'application/json', 'x-test-user': 'alice', ...headers } };
  if (method === 'POST') init.body = body as BodyInit;
  const response = await handler(new Request('https://bank.example/pushprov', init));
  return { status: response.status, headers: response.headers, text: await response.text() };
}

const buildBody = (overrides: Record<string, unknown> = {}) =>
  ({ type: 'build-request', version: 1, accountRef: 'acct-canary', identifiers: createIdentifiers(), ...overrides }) as Record<string, unknown>;

const invocation = (overrides: Partial<Invocation> = {}): Invocation => ({
  type: 'invocation',
  version: 1,
  sessionId: createIdentifiers().sessionId,
  issuerId: ISSUER_ID,
  account: { last4: '8290', network: 'visa' },
  iat: NOW_SECONDS,
  exp: NOW_SECONDS + 300,
  ...overrides,
});
const signBody = (inv: Invocation, accountRef = 'acct-canary') => ({ type: 'sign-invocation', version: 1, accountRef, invocation: inv });

/** Asserts a refusal with `code`: problem details, nothing built, no canary in the answer or in what the logging hook got. */
async function refuse(code: ErrorCode, act: () => Promise<HttpResult>) {
  const before = builds;
  const mark = logged.length;
  const problem = expectProblem(await act(), code);
  expect(builds - before).toBeLessThanOrEqual(1);
  expect(logged.slice(mark).map((e) => e.code)).toEqual([code]);
  expect(findCanary(JSON.stringify(logged.slice(mark)))).toEqual([]);
  return problem;
}

describe('the issuer backend handler', () => {
  it('builds a request the token service accepts (the baseline)', async () => {
    const body = buildBody();
    const answer = await call(JSON.stringify(body));
    expect(answer.status).toBe(200);
    expect(findCanary(answer.text)).toEqual([]);
    const message = parseProvisioningRequestMessage(answer.text);
    const identifiers = body.identifiers as ReturnType<typeof createIdentifiers>;
    const submitted = await postSubmission(h.url, {
      type: 'submission',
      version: 1,
      sessionId: identifiers.sessionId,
      walletAccountId: identifiers.walletAccountId,
      deviceId: identifiers.deviceId,
      nonce: identifiers.nonce,
      encryptedRequest: message.encryptedRequest,
    });
    expect(submitted.status).toBe(201);
  });

  it('a byte-order mark before the JSON body: invalid_json', async () => {
    await refuse('invalid_json', () => call(`\ufeff${JSON.stringify(buildBody())}`));
  });

  it('no signed-in user: unauthenticated', async () => {
    await refuse('unauthenticated', () => call(JSON.stringify(buildBody()), { 'x-test-user': '' }));
  });

  it("another user asking for Alice's account: not_found, and no card data in the answer", async () => {
    await refuse('not_found', () => call(JSON.stringify(buildBody()), { 'x-test-user': 'mallory' }));
  });

  it('text/plain (a cross-site form could send it): unsupported_media_type', async () => {
    await refuse('unsupported_media_type', () => call(JSON.stringify(buildBody()), { 'content-type': 'text/plain' }));
  });

  it('a body over 16 KiB: payload_too_large', async () => {
    await refuse('payload_too_large', () => call(JSON.stringify(buildBody({ pad: 'x'.repeat(17_000) }))));
  });

  it('a "__proto__" member: invalid_json', async () => {
    await refuse('invalid_json', () => call(JSON.stringify(buildBody()).replace('{', '{"__proto__":{"user":"admin"},')));
  });

  it('identifiers whose wallet account id holds a bidi override: invalid_message', async () => {
    await refuse('invalid_message', () => call(JSON.stringify(buildBody({ identifiers: createIdentifiers({ walletAccountId: 'user\u202e7' }) }))));
  });

  it('an invocation of another issuer to sign: invalid_message', async () => {
    await refuse('invalid_message', () => call(JSON.stringify(signBody(invocation({ issuerId: 'bank-other' })))));
  });

  it('an invocation showing other last four digits than the account: forbidden', async () => {
    await refuse('forbidden', () => call(JSON.stringify(signBody(invocation({ account: { last4: '1111', network: 'visa' } })))));
  });

  it('an invocation whose replyTo is not allowed: forbidden', async () => {
    await refuse('forbidden', () => call(JSON.stringify(signBody(invocation({ replyTo: 'https://evil.test/return' })))));
  });

  it('an expired invocation to sign: expired', async () => {
    await refuse('expired', () => call(JSON.stringify(signBody(invocation({ iat: NOW_SECONDS - 600, exp: NOW_SECONDS - 1 })))));
  });

  it('GET: method_not_allowed (405, Allow: POST)', async () => {
    const answer = await call('', {}, 'GET');
    expect(answer.status).toBe(405);
    expect(answer.headers.get('allow')).toBe('POST');
    expect(parseProblemDetails(answer.text).code).toBe('method_not_allowed');
  });

  it('random and mutated bodies: never a 5xx, only problem details with a catalog code, the canary nowhere', async () => {
    const tokensBefore = countRows(h.dbPath).tokens;
    const valid = buildBody();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(mutatedJson(valid).map((v) => JSON.stringify(v) ?? ''), mutatedText(JSON.stringify(valid)), mutatedJson(signBody(invocation())).map((v) => JSON.stringify(v) ?? ''), hostileJson.map((v) => JSON.stringify(v) ?? '')),
        async (body) => {
          const answer = await call(body);
          expect(answer.status).toBeLessThan(500);
          expect(findCanary(answer.text)).toEqual([]);
          if (answer.status >= 400) {
            expect(answer.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
            const problem = parseProblemDetails(answer.text);
            expect(isErrorCode(problem.code) && ERROR_CATALOG[problem.code].status).toBe(answer.status);
          }
        },
      ),
      fuzzParameters(300, 10_000),
    );
    expect(findCanary(JSON.stringify(logged))).toEqual([]);
    expect(countRows(h.dbPath).tokens).toBe(tokensBefore);
  });
});
