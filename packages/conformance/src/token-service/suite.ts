/**
 * `pushprov-conformance token-service`: a token service under test, over
 * HTTP. The runner sets nothing up on the server: it reads the service's
 * JWKS, builds every request itself from the profile (issuer key, wallet
 * provider credentials, test card) and checks the answers against protocol
 * sections 6 and 7.
 */
import {
  type AccessData,
  type KeyJwk,
  type PublicEcJwk,
  checkAccessData,
  createClientAssertion,
  decryptAccessData,
  deviceKeyThumbprint,
  generateEncryptionKey,
  isProvisioningError,
  parseProvisioningResponse,
  parseTokenStatusResponse,
} from '@pushprov/protocol';
import { type CaseSpec, CheckFailure, check, checkEqual, runCase } from '../lib/check.js';
import { type HttpAnswer, type OriginClient, createOriginClient, jsonOf } from '../lib/http.js';
import { type TokenServiceProfile, type TokenServiceProfileInput, parseTokenServiceProfile } from '../profile.js';
import { type CaseResult, DEFAULT_DOCS_BASE, type Report, makeReport } from '../report.js';
import { loadVectors } from '../vectors/load.js';
import {
  type TokenServiceContext,
  type WalletIds,
  checkEveryAnswer,
  checkProblem,
  checkProblemShape,
  createTokenServiceContext,
  describe,
  randomHex,
  where,
} from './context.js';
import { NOT_RESEALABLE, RECIPES, createKit } from './resealed-vectors.js';
import { buildYellowPathCases } from './yellow-path.js';

/** Options of {@link runTokenServiceConformance}. */
export interface TokenServiceRunOptions {
  /** The service's base URL (its origin, optionally with a path prefix). Nothing else is contacted. */
  baseUrl: string;
  /** The profile: parsed, or as read from its file. */
  profile: TokenServiceProfile | TokenServiceProfileInput;
  /** Timeout of every HTTP call, ms. Default 10 000. */
  timeoutMs?: number;
  /** Another vector file than the one @pushprov/protocol ships. */
  vectorsPath?: string;
  /** Where troubleshooting links point. Default `docs/troubleshooting.md`. */
  docsBase?: string;
  /** Run only the cases whose id this accepts (the others are left out of the report). */
  filter?: (id: string) => boolean;
  /** Called with each result as it is known. */
  onResult?: (result: CaseResult) => void;
  /** The fetch the runner uses (tests). Default `globalThis.fetch`. */
  fetch?: typeof fetch;
}

interface Device {
  privateJwk: KeyJwk;
  publicKey: PublicEcJwk;
}

async function newDevice(): Promise<Device> {
  const pair = await generateEncryptionKey({ kid: `conformance-device-${randomHex(4)}` });
  return { privateJwk: pair.privateJwk, publicKey: { kty: 'EC', crv: 'P-256', x: pair.publicJwk.x!, y: pair.publicJwk.y!, kid: pair.publicJwk.kid } };
}

/** The first provisioning, which later flows (replays, already provisioned, status) build on. */
interface Provisioned {
  ids: WalletIds;
  device: Device;
  jwe: string;
  key: string;
  answer: HttpAnswer;
  tokenReferenceId: string;
  accessData: AccessData;
}

const last4 = (digits: string) => digits.slice(-4);

function checkStatus(answer: HttpAnswer, status: number, what: string): void {
  if (answer.status !== status) throw new CheckFailure(`${status} ${what} (${where(answer)})`, describe(answer), (jsonOf(answer) as { code?: string } | undefined)?.code);
}

function checkNoStore(answer: HttpAnswer): void {
  check(/(^|,)\s*no-store\s*(,|$)/i.test(answer.headers.get('cache-control') ?? ''), `Cache-Control: no-store on ${where(answer)}`, `Cache-Control ${answer.headers.get('cache-control') ?? 'none'}`);
}

/** A 200/201 provisioning answer: headers, body schema, and the access data (decrypted with the device key when there is one). */
async function checkProvisioningAnswer(ctx: TokenServiceContext, answer: HttpAnswer, expect: { status: 200 | 201; ids: WalletIds; device?: Device | undefined }): Promise<{ tokenReferenceId: string; accessData: AccessData }> {
  checkStatus(answer, expect.status, expect.status === 201 ? 'Created (a new token)' : 'OK (the token already issued)');
  checkEveryAnswer(answer);
  checkNoStore(answer);
  check(/^application\/json\s*(;|$)/i.test(answer.headers.get('content-type') ?? ''), 'Content-Type application/json', answer.headers.get('content-type') ?? 'none');
  let response;
  try {
    response = parseProvisioningResponse(answer.text);
  } catch (error) {
    throw new CheckFailure('a provisioning response (protocol section 4.7)', `${(error as Error).message}: ${answer.text.slice(0, 300)}`, isProvisioningError(error) ? error.code : undefined);
  }
  checkEqual('sessionId', expect.ids.sessionId, response.sessionId);
  if (expect.status === 201) {
    const location = answer.headers.get('location');
    const expected = new URL(`v1/tokens/${encodeURIComponent(response.tokenReferenceId)}`, ctx.http.origin + '/').pathname;
    check(location !== null && new URL(location, answer.url).pathname.endsWith(expected), `Location: /v1/tokens/${response.tokenReferenceId} on a 201`, `Location ${location ?? 'none'}`);
  }
  let accessData: AccessData;
  if (expect.device) {
    check(response.encryptedAccessData !== undefined && response.accessData === undefined, 'encryptedAccessData (and no accessData) for a submission with a device key', Object.keys(response).join(', '));
    try {
      accessData = await decryptAccessData(response.encryptedAccessData, expect.device.privateJwk);
    } catch (error) {
      throw new CheckFailure('access data that decrypts with the device key (protocol section 5.4)', String((error as Error).message), isProvisioningError(error) ? error.code : 'decryption_failed');
    }
  } else {
    check(response.accessData !== undefined && response.encryptedAccessData === undefined, 'accessData in the clear (and no encryptedAccessData) without a device key', Object.keys(response).join(', '));
    accessData = response.accessData;
  }
  try {
    checkAccessData(accessData, { issuerId: ctx.profile.issuer.id, panLast4: last4(ctx.profile.card.pan), tokenReferenceId: response.tokenReferenceId, status: response.status });
  } catch (error) {
    throw new CheckFailure(
      `access data for issuer ${ctx.profile.issuer.id}, card •••• ${last4(ctx.profile.card.pan)}, token ${response.tokenReferenceId}, status ${response.status}`,
      `issuer ${accessData.issuerId}, card •••• ${accessData.panLast4}, token ${accessData.tokenReferenceId}, status ${accessData.status}`,
      'access_data_mismatch',
    );
  }
  check(accessData.tokenNumber !== ctx.profile.card.pan, 'a token number that is not the PAN', 'the PAN itself');
  return { tokenReferenceId: response.tokenReferenceId, accessData };
}

/** Runs the token service suite and returns its report. */
export async function runTokenServiceConformance(options: TokenServiceRunOptions): Promise<Report> {
  const started = Date.now();
  const profile = parseTokenServiceProfile(options.profile);
  const http = createOriginClient(options.baseUrl, { ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }), ...(options.fetch ? { fetch: options.fetch } : {}) });
  const vectors = loadVectors(options.vectorsPath).cases.filter((c) => c.kind === 'provisioning-request' && c.expected.outcome === 'error');
  const filter = options.filter ?? (() => true);
  const results: CaseResult[] = [];
  const record = (result: CaseResult) => {
    results.push(result);
    options.onResult?.(result);
  };

  // The JWKS first: every other case encrypts to it.
  let ctx: TokenServiceContext | undefined;
  let jwksFailure: string | undefined;
  const jwksCase: CaseSpec = {
    id: 'ts-jwks',
    title: 'GET /.well-known/jwks.json: the public encryption keys, cacheable (section 7.4)',
    run: async () => {
      const answer = await http.request('/.well-known/jwks.json');
      checkEveryAnswer(answer);
      ctx = createTokenServiceContext({ http, profile, jwksAnswer: answer });
      check(/max-age=\d+/.test(answer.headers.get('cache-control') ?? ''), 'Cache-Control: public, max-age=… on the JWKS', `Cache-Control ${answer.headers.get('cache-control') ?? 'none'}`);
    },
  };
  const jwksResult = await runCase(jwksCase);
  if (ctx === undefined) jwksFailure = `the service's JWKS could not be used (ts-jwks: ${jwksResult.actual ?? jwksResult.reason ?? ''})`;
  if (filter(jwksCase.id)) record(jwksResult);

  const specs = ctx ? buildCases(ctx, http, profile, vectors) : buildCases(undefined, http, profile, vectors);
  for (const spec of specs) {
    if (!filter(spec.id)) continue;
    if (jwksFailure !== undefined && spec.notApplicable === undefined) {
      record({ id: spec.id, title: spec.title, status: 'failed', expected: 'the service’s JWKS, to encrypt to', actual: jwksFailure, code: 'unknown_key', durationMs: 0 });
      continue;
    }
    record(await runCase(spec));
  }
  return makeReport('token-service', http.origin + new URL(options.baseUrl).pathname.replace(/\/$/, ''), started, results, options.docsBase ?? DEFAULT_DOCS_BASE);
}

function buildCases(maybeCtx: TokenServiceContext | undefined, http: OriginClient, profile: TokenServiceProfile, vectors: ReturnType<typeof loadVectors>['cases']): CaseSpec[] {
  const ctx = () => {
    if (!maybeCtx) throw new Error('no context');
    return maybeCtx;
  };
  const hasAssertion = profile.walletProvider.assertionKey !== undefined;
  const noAssertion = hasAssertion ? undefined : 'the profile gives no client assertion key for the wallet provider (walletProvider.assertionKey)';
  const noStatus = profile.statusEndpoint ? undefined : 'the profile does not let the runner use the token status endpoint (statusEndpoint: false)';

  let first: Promise<Provisioned> | undefined;
  /** The first provisioning (with a device key), made once; later flows build on it. */
  const provisioned = (): Promise<Provisioned> =>
    (first ??= (async () => {
      const c = ctx();
      const ids = c.freshIds();
      const device = await newDevice();
      const jwe = await c.seal(c.claims(ids, { cnf: { jkt: await deviceKeyThumbprint(device.publicKey) } }));
      const key = c.freshKey();
      const answer = await c.submit({ jwe, ids, devicePublicKey: device.publicKey, idempotencyKey: key });
      const { tokenReferenceId, accessData } = await checkProvisioningAnswer(c, answer, { status: 201, ids, device });
      return { ids, device, jwe, key, answer, tokenReferenceId, accessData };
    })());
  /** A valid submission body, for the HTTP rule cases (the rule, not the body, is at fault). */
  const validBody = async () => {
    const c = ctx();
    const ids = c.freshIds();
    return c.submissionBody({ jwe: await c.seal(c.claims(ids)), ids });
  };
  const post = async (headers: Record<string, string>, body: string) => http.request('/v1/provisioning-requests', { method: 'POST', headers, body });
  const auth = () => ctx().authorization();

  const cases: CaseSpec[] = [
    // ---------------------------------------------------------------- positive flows
    {
      id: 'ts-provision-device-key',
      title: 'A valid request bound to a device key: 201, Location, no-store, access data encrypted to the device key, for the card and issuer',
      run: async () => void (await provisioned()),
    },
    {
      id: 'ts-provision-clear',
      title: 'A valid request without a device key: 201 with the access data in the clear',
      run: async () => {
        const c = ctx();
        const ids = c.freshIds();
        const answer = await c.submit({ jwe: await c.seal(c.claims(ids)), ids });
        await checkProvisioningAnswer(c, answer, { status: 201, ids });
      },
    },
    {
      id: 'ts-idempotent-replay',
      title: 'The same Idempotency-Key and body again: the same answer, byte for byte, with Idempotent-Replayed: true (section 7.2)',
      code: 'idempotency_key_reused',
      run: async () => {
        const c = ctx();
        const p = await provisioned();
        const again = await c.submit({ jwe: p.jwe, ids: p.ids, devicePublicKey: p.device.publicKey, idempotencyKey: p.key });
        checkStatus(again, p.answer.status, 'the stored answer');
        checkEveryAnswer(again);
        check(again.text === p.answer.text, 'the stored answer’s body, byte for byte', `another body (${again.text.length} characters, first answer ${p.answer.text.length})`);
        check(again.headers.get('idempotent-replayed') === 'true', 'Idempotent-Replayed: true', `Idempotent-Replayed ${again.headers.get('idempotent-replayed') ?? 'absent'}`);
      },
    },
    {
      id: 'ts-idempotency-key-reused',
      title: 'The same Idempotency-Key with another body: 422 idempotency_key_reused',
      run: async () => {
        const c = ctx();
        const p = await provisioned();
        const answer = await c.submit({ jwe: p.jwe, ids: { ...p.ids, walletAccountId: `${p.ids.walletAccountId}-other` }, devicePublicKey: p.device.publicKey, idempotencyKey: p.key });
        checkProblem(answer, 'idempotency_key_reused');
      },
    },
    {
      id: 'ts-replayed',
      title: 'The same accepted request under a new Idempotency-Key: 409 replayed',
      run: async () => {
        const c = ctx();
        const p = await provisioned();
        checkProblem(await c.submit({ jwe: p.jwe, ids: p.ids, devicePublicKey: p.device.publicKey }), 'replayed');
      },
    },
    {
      id: 'ts-already-provisioned',
      title: 'A new request for the same card, wallet account, device and device key: 200 with the same token',
      run: async () => {
        const c = ctx();
        const p = await provisioned();
        const ids = { ...c.freshIds(), walletAccountId: p.ids.walletAccountId, deviceId: p.ids.deviceId };
        const jwe = await c.seal(c.claims(ids, { cnf: { jkt: await deviceKeyThumbprint(p.device.publicKey) } }));
        const answer = await c.submit({ jwe, ids, devicePublicKey: p.device.publicKey });
        const { tokenReferenceId, accessData } = await checkProvisioningAnswer(c, answer, { status: 200, ids, device: p.device });
        checkEqual('tokenReferenceId', p.tokenReferenceId, tokenReferenceId);
        checkEqual('tokenNumber last 4', last4(p.accessData.tokenNumber), last4(accessData.tokenNumber));
        check(answer.headers.get('idempotent-replayed') === null, 'no Idempotent-Replayed header (a new request, not a replay)', `Idempotent-Replayed ${answer.headers.get('idempotent-replayed')}`);
      },
    },
    {
      id: 'ts-token-status',
      title: 'GET /v1/tokens/{id}: the stored token’s status, for its wallet provider (section 7.3)',
      notApplicable: noStatus,
      run: async () => {
        const p = await provisioned();
        const answer = await http.request(`/v1/tokens/${encodeURIComponent(p.tokenReferenceId)}`, { headers: { authorization: await auth() } });
        checkStatus(answer, 200, 'with the token status');
        checkEveryAnswer(answer);
        checkNoStore(answer);
        let status;
        try {
          status = parseTokenStatusResponse(answer.text);
        } catch (error) {
          throw new CheckFailure('a token status (protocol section 4.9)', `${(error as Error).message}: ${answer.text.slice(0, 300)}`, isProvisioningError(error) ? error.code : undefined);
        }
        checkEqual('tokenReferenceId', p.tokenReferenceId, status.tokenReferenceId);
        checkEqual('tokenLast4', last4(p.accessData.tokenNumber), status.tokenLast4);
        checkEqual('status', p.accessData.status, status.status);
        checkEqual('tokenExpiry', p.accessData.tokenExpiry, status.tokenExpiry);
      },
    },
    {
      id: 'ts-refusal-burns-nothing',
      title: 'A request refused at the binding step can be submitted again correctly: 201 (section 6, what the steps write)',
      run: async () => {
        const c = ctx();
        const ids = c.freshIds();
        const jwe = await c.seal(c.claims(ids));
        checkProblem(await c.submit({ jwe, ids: { ...ids, deviceId: `${ids.deviceId}-tampered` } }), 'device_mismatch');
        await checkProvisioningAnswer(c, await c.submit({ jwe, ids }), { status: 201, ids });
      },
    },
    {
      id: 'ts-idempotency-concurrent',
      title: 'Concurrent submissions under one Idempotency-Key: one token; the others 409 idempotency_in_flight (Retry-After) or the same answer',
      run: async () => {
        const c = ctx();
        // Up to four rounds of 8 at once, each with its own request and key, ending at the first round in which the
        // service answered one of them 409: on a busy machine the 8 may reach the service one after the other, and the
        // in-flight answer (with its Retry-After) is only checked when one is seen. A service that never answers 409
        // (it queues instead) passes on the same-answer rule alone.
        for (let round = 0; round < 4; round += 1) {
          const ids = c.freshIds();
          const jwe = await c.seal(c.claims(ids));
          const key = c.freshKey();
          const answers = await Promise.all(Array.from({ length: 8 }, () => c.submit({ jwe, ids, idempotencyKey: key })));
          const created = answers.filter((a) => a.status === 201);
          check(created.length >= 1, 'at least one 201 among 8 concurrent submissions', answers.map((a) => describe(a)).join('; '));
          for (const answer of answers) {
            if (answer.status === 201) check(answer.text === created[0]!.text, 'every 201 the same answer, byte for byte (one token)', 'two different 201 bodies');
            else checkProblem(answer, 'idempotency_in_flight');
          }
          const after = await c.submit({ jwe, ids, idempotencyKey: key });
          checkStatus(after, 201, 'the stored answer');
          check(after.text === created[0]!.text && after.headers.get('idempotent-replayed') === 'true', 'the stored answer, byte for byte, Idempotent-Replayed: true', `${describe(after)}, Idempotent-Replayed ${after.headers.get('idempotent-replayed') ?? 'absent'}`);
          if (created.length < answers.length) return;
        }
      },
    },
    {
      id: 'ts-auth-client-assertion',
      title: 'A submission authenticated with a client assertion (section 5.6): 201',
      notApplicable: noAssertion,
      run: async () => {
        const c = ctx();
        const ids = c.freshIds();
        await checkProvisioningAnswer(c, await c.submit({ jwe: await c.seal(c.claims(ids)), ids, useAssertion: true }), { status: 201, ids });
      },
    },
    {
      id: 'ts-auth-assertion-single-use',
      title: 'A client assertion presented twice: the second time 401 unauthenticated',
      notApplicable: noAssertion ?? noStatus,
      run: async () => {
        const assertion = await createClientAssertion({ walletProviderId: profile.walletProvider.id, audience: profile.serviceId, signingKey: profile.walletProvider.assertionKey as KeyJwk });
        const path = `/v1/tokens/conformance-unknown-${randomHex(8)}`;
        checkProblem(await http.request(path, { headers: { authorization: `Bearer ${assertion}` } }), 'not_found');
        checkProblem(await http.request(path, { headers: { authorization: `Bearer ${assertion}` } }), 'unauthenticated');
      },
    },
    {
      id: 'ts-auth-assertion-other-audience',
      title: 'A client assertion for another token service: 401 unauthenticated',
      notApplicable: noAssertion,
      run: async () => {
        const assertion = await createClientAssertion({ walletProviderId: profile.walletProvider.id, audience: `${profile.serviceId}-other`.slice(0, 64), signingKey: profile.walletProvider.assertionKey as KeyJwk });
        checkProblem(await post({ authorization: `Bearer ${assertion}`, 'content-type': 'application/json', 'idempotency-key': ctx().freshKey() }, await validBody()), 'unauthenticated');
      },
    },

    // ---------------------------------------------------------------- HTTP rules (section 7)
    {
      id: 'ts-http-no-credential',
      title: 'No Authorization header: 401 unauthenticated with WWW-Authenticate',
      run: async () => checkProblem(await post({ 'content-type': 'application/json', 'idempotency-key': ctx().freshKey() }, await validBody()), 'unauthenticated'),
    },
    {
      id: 'ts-http-bad-credential',
      title: 'An unknown API key: 401 unauthenticated with WWW-Authenticate',
      run: async () =>
        checkProblem(await post({ authorization: `Bearer conformance-not-a-key-${randomHex(16)}`, 'content-type': 'application/json', 'idempotency-key': ctx().freshKey() }, await validBody()), 'unauthenticated'),
    },
    {
      id: 'ts-http-media-type',
      title: 'Content-Type text/plain: 415 unsupported_media_type',
      run: async () => checkProblem(await post({ authorization: await auth(), 'content-type': 'text/plain', 'idempotency-key': ctx().freshKey() }, await validBody()), 'unsupported_media_type'),
    },
    {
      id: 'ts-http-missing-idempotency-key',
      title: 'No Idempotency-Key: 400 missing_idempotency_key',
      run: async () => checkProblem(await post({ authorization: await auth(), 'content-type': 'application/json' }, await validBody()), 'missing_idempotency_key'),
    },
    {
      id: 'ts-http-invalid-idempotency-key',
      title: 'An Idempotency-Key of 256 characters: 400 invalid_idempotency_key',
      run: async () => checkProblem(await post({ authorization: await auth(), 'content-type': 'application/json', 'idempotency-key': 'k'.repeat(256) }, await validBody()), 'invalid_idempotency_key'),
    },
    {
      id: 'ts-http-payload-too-large',
      title: 'A body one byte over the limit: 413 payload_too_large',
      run: async () => {
        const body = JSON.stringify({ type: 'submission', padding: '' });
        const padded = body.replace('""', `"${'x'.repeat(profile.maxBodyBytes + 1 - body.length + 2)}"`);
        checkProblem(await post({ authorization: await auth(), 'content-type': 'application/json', 'idempotency-key': ctx().freshKey() }, padded), 'payload_too_large');
      },
    },
    {
      id: 'ts-http-invalid-json',
      title: 'A body with a duplicate member: 400 invalid_json',
      run: async () => {
        const body = (await validBody()).replace('{"type":"submission",', '{"type":"submission","type":"submission",');
        checkProblem(await post({ authorization: await auth(), 'content-type': 'application/json', 'idempotency-key': ctx().freshKey() }, body), 'invalid_json');
      },
    },
    {
      id: 'ts-http-invalid-message',
      title: 'A submission naming walletProviderId in its body: 400 invalid_message',
      run: async () => {
        const body = JSON.stringify({ ...(JSON.parse(await validBody()) as object), walletProviderId: profile.walletProvider.id });
        checkProblem(await post({ authorization: await auth(), 'content-type': 'application/json', 'idempotency-key': ctx().freshKey() }, body), 'invalid_message');
      },
    },
    {
      id: 'ts-http-unsupported-version',
      title: 'A submission of version 2: 400 unsupported_version',
      run: async () => {
        const body = JSON.stringify({ ...(JSON.parse(await validBody()) as object), version: 2 });
        checkProblem(await post({ authorization: await auth(), 'content-type': 'application/json', 'idempotency-key': ctx().freshKey() }, body), 'unsupported_version');
      },
    },
    {
      id: 'ts-http-method-not-allowed',
      title: 'A method a path does not serve: 405 method_not_allowed with Allow',
      run: async () => {
        for (const [method, path, allowed] of [
          ['GET', '/v1/provisioning-requests', 'POST'],
          ['DELETE', `/v1/tokens/conformance-unknown-${randomHex(8)}`, 'GET'],
          ['POST', '/.well-known/jwks.json', 'GET'],
        ] as const) {
          const answer = await http.request(path, { method, headers: { authorization: await auth() } });
          checkProblem(answer, 'method_not_allowed');
          const allow = (answer.headers.get('allow') ?? '').split(',').map((m) => m.trim().toUpperCase());
          check(allow.includes(allowed), `Allow naming ${allowed} on ${method} ${path.replace(/conformance-unknown-\w+/, '{id}')}`, `Allow ${answer.headers.get('allow') ?? 'absent'}`, 'method_not_allowed');
        }
      },
    },
    {
      id: 'ts-http-not-found',
      title: 'A path the service does not have: 404 not_found problem details',
      run: async () => checkProblem(await http.request(`/v1/conformance-no-such-path-${randomHex(4)}`, { headers: { authorization: await auth() } }), 'not_found'),
    },
    {
      id: 'ts-http-token-unknown',
      title: 'GET /v1/tokens/{id} of no token: 404 not_found',
      notApplicable: noStatus,
      run: async () => checkProblem(await http.request(`/v1/tokens/conformance-unknown-${randomHex(8)}`, { headers: { authorization: await auth() } }), 'not_found'),
    },
    {
      id: 'ts-http-token-other-provider',
      title: 'GET /v1/tokens/{id} of another wallet provider’s token: 404 not_found',
      notApplicable: noStatus ?? (profile.otherWalletProvider === undefined ? 'needs a second registered wallet provider (profile otherWalletProvider)' : undefined),
      run: async () => {
        const p = await provisioned();
        checkProblem(await http.request(`/v1/tokens/${encodeURIComponent(p.tokenReferenceId)}`, { headers: { authorization: await ctx().authorization('other') } }), 'not_found');
      },
    },
    {
      id: 'ts-http-request-id',
      title: 'X-Request-Id on every answer: JWKS, success, every kind of error',
      run: async () => {
        const answers = [
          await http.request('/.well-known/jwks.json'),
          (await provisioned()).answer,
          await http.request(`/v1/conformance-no-such-path-${randomHex(4)}`),
          await http.request('/v1/provisioning-requests'),
          await post({ 'content-type': 'application/json', 'idempotency-key': ctx().freshKey() }, '{}'),
        ];
        for (const answer of answers) checkEveryAnswer(answer);
        for (const answer of answers.slice(2)) checkProblemShape(answer);
      },
    },

    // ---------------------------------------------------------------- the yellow path (section 11)
    ...buildYellowPathCases(ctx, http, profile),
  ];

  // ---------------------------------------------------------------- the negative vectors, re-sealed
  for (const vector of vectors) {
    const expected = vector.expected as { outcome: 'error'; code: string };
    const recipe = RECIPES[vector.id];
    const reason = NOT_RESEALABLE[vector.id] ?? (recipe ? recipe.notApplicable?.(profile) : 'this runner version has no recipe to re-seal this vector for a live service');
    cases.push({
      id: vector.id,
      title: `${vector.title} → ${expected.code}${recipe?.note ? ` (rebuilt: ${recipe.note})` : ''}`,
      code: expected.code,
      notApplicable: reason,
      run: async () => {
        const c = ctx();
        const kit = await createKit(c);
        const request = await recipe!.build(kit);
        await request.before?.();
        const answer = await c.submit({ jwe: request.jwe, ids: request.submitted ?? kit.ids, devicePublicKey: request.devicePublicKey, ...(request.provider ? { provider: request.provider } : {}) });
        checkProblem(answer, expected.code as Parameters<typeof checkProblem>[1]);
      },
    });
  }
  return cases;
}

