// The validation pipeline over real HTTP on loopback with the SQLite store:
// one test per step, each failing exactly that step, getting its code, and
// leaving the database unchanged.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ErrorCode,
  PROBLEM_CONTENT_TYPE,
  PROBLEM_TYPE_BASE,
  ERROR_CATALOG,
  createSessionId,
  decryptAccessData,
  generateSigningKey,
  luhnValid,
  parseProblemDetails,
  parseProvisioningResponse,
  parseTokenStatusResponse,
  toBase64Url,
  fromBase64Url,
} from '@pushprov/protocol';
import { type RunningTokenServer, startTokenServer } from '../src/server.js';
import type { LogEvent } from '../src/index.js';
import {
  API_KEY,
  CARD,
  type Fixture,
  ISSUER_ID,
  NOW,
  OTHER_API_KEY,
  PAN,
  PAN_DECLINE,
  PAN_STEP_UP,
  TOKEN_BIN,
  buildSubmission,
  countRows,
  createDeviceKey,
  createFixture,
  createTempDir,
  dumpDatabase,
  postSubmission,
  sealRaw,
} from './helpers.js';

let fx: Fixture;
let temp: ReturnType<typeof createTempDir>;
let dbPath: string;
let server: RunningTokenServer;
const logs: LogEvent[] = [];
const logText = () => JSON.stringify(logs);

beforeAll(async () => {
  fx = await createFixture();
  temp = createTempDir();
  dbPath = join(temp.dir, 'tokens.db');
  server = await startTokenServer({
    config: fx.config,
    dbPath,
    clock: fx.clock,
    purgeIntervalMs: 0,
    logger: { info: (e) => logs.push(e), error: (e) => logs.push(e) },
  });
});

afterAll(async () => {
  await server?.close();
  temp?.remove();
});

/** Replaces the protected header of a compact JWE (the rest is left as is). */
function rewriteJweHeader(jwe: string, change: (header: Record<string, unknown>) => Record<string, unknown>): string {
  const [head, ...rest] = jwe.split('.');
  const header = JSON.parse(new TextDecoder().decode(fromBase64Url(head!))) as Record<string, unknown>;
  return [toBase64Url(new TextEncoder().encode(JSON.stringify(change(header)))), ...rest].join('.');
}

/** Flips one character of segment `index` of a compact serialisation. */
function flipSegment(compact: string, index: number): string {
  const parts = compact.split('.');
  const segment = parts[index]!;
  const i = Math.floor(segment.length / 2);
  parts[index] = segment.slice(0, i) + (segment[i] === 'A' ? 'B' : 'A') + segment.slice(i + 1);
  return parts.join('.');
}

async function expectProblem(response: Response, code: ErrorCode, status = ERROR_CATALOG[code].status) {
  const text = await response.text();
  expect({ status: response.status, text }).toMatchObject({ status });
  expect(response.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
  const problem = parseProblemDetails(text);
  expect(problem.code).toBe(code);
  expect(problem.type).toBe(`${PROBLEM_TYPE_BASE}${code}`);
  expect(problem.title).toBe(ERROR_CATALOG[code].title);
  expect(problem.retryable).toBe(ERROR_CATALOG[code].retryable);
  expect(problem.requestId).toBe(response.headers.get('x-request-id'));
  expect(text).not.toContain(PAN);
  return problem;
}

type Case = {
  step: string;
  code: ErrorCode;
  build: () => Promise<{ body: unknown; apiKey?: string }>;
};

const now = Math.floor(NOW / 1000);

const cases: Case[] = [
  { step: 'body is strict JSON', code: 'invalid_json', build: async () => ({ body: '{"type":"submission",' }) },
  {
    step: 'body has no duplicate keys',
    code: 'invalid_json',
    build: async () => {
      const { submission } = await buildSubmission(fx);
      return { body: JSON.stringify(submission).replace('{', '{"deviceId":"x",') };
    },
  },
  {
    step: 'body matches the Submission schema',
    code: 'invalid_message',
    build: async () => {
      const { submission } = await buildSubmission(fx);
      const { nonce: _, ...rest } = submission;
      return { body: rest };
    },
  },
  {
    step: 'body speaks protocol version 1',
    code: 'unsupported_version',
    build: async () => ({ body: { ...(await buildSubmission(fx)).submission, version: 2 } }),
  },
  {
    step: 'JWE header allow-list (zip)',
    code: 'jwe_header_rejected',
    build: async () => {
      const { submission } = await buildSubmission(fx);
      return { body: { ...submission, encryptedRequest: rewriteJweHeader(submission.encryptedRequest, (h) => ({ ...h, zip: 'DEF' })) } };
    },
  },
  {
    step: 'JWE header allow-list (alg)',
    code: 'jwe_header_rejected',
    build: async () => {
      const { submission } = await buildSubmission(fx);
      return { body: { ...submission, encryptedRequest: rewriteJweHeader(submission.encryptedRequest, (h) => ({ ...h, alg: 'RSA-OAEP' })) } };
    },
  },
  {
    step: 'JWE kid is a service key',
    code: 'unknown_key',
    build: async () => {
      const { submission } = await buildSubmission(fx);
      return { body: { ...submission, encryptedRequest: rewriteJweHeader(submission.encryptedRequest, (h) => ({ ...h, kid: 'svc-unknown' })) } };
    },
  },
  {
    step: 'decrypt (tampered ciphertext)',
    code: 'decryption_failed',
    build: async () => {
      const { submission } = await buildSubmission(fx);
      return { body: { ...submission, encryptedRequest: flipSegment(submission.encryptedRequest, 3) } };
    },
  },
  {
    step: 'decrypt (tampered tag)',
    code: 'decryption_failed',
    build: async () => {
      const { submission } = await buildSubmission(fx);
      return { body: { ...submission, encryptedRequest: flipSegment(submission.encryptedRequest, 4) } };
    },
  },
  {
    step: 'JWS header allow-list (typ)',
    code: 'jws_header_rejected',
    build: async () => {
      const { submission, claims } = await buildSubmission(fx);
      const encryptedRequest = await sealRaw({ payload: claims, signingKey: fx.issuer.privateJwk, encryptionKey: fx.serviceEncryptionKey, jwsHeader: { typ: 'JWT' } });
      return { body: { ...submission, encryptedRequest } };
    },
  },
  {
    step: 'JWS header allow-list (alg none)',
    code: 'jws_header_rejected',
    build: async () => {
      const { submission, claims } = await buildSubmission(fx);
      const enc = (v: unknown) => toBase64Url(new TextEncoder().encode(JSON.stringify(v)));
      const jws = `${enc({ alg: 'none', typ: 'pushprov-request+jwt', kid: 'issuer-1' })}.${enc(claims)}.`;
      const encryptedRequest = await sealRaw({ payload: null, jws, signingKey: fx.issuer.privateJwk, encryptionKey: fx.serviceEncryptionKey });
      return { body: { ...submission, encryptedRequest } };
    },
  },
  {
    step: 'issuer key by iss (unknown issuer)',
    code: 'unknown_issuer',
    build: async () => {
      const { submission, claims } = await buildSubmission(fx);
      const encryptedRequest = await sealRaw({ payload: { ...claims, iss: 'bank-z' }, signingKey: fx.issuer.privateJwk, encryptionKey: fx.serviceEncryptionKey });
      return { body: { ...submission, encryptedRequest } };
    },
  },
  {
    step: 'issuer key by kid (unknown kid)',
    code: 'unknown_issuer',
    build: async () => {
      const { submission, claims } = await buildSubmission(fx);
      const rogue = await generateSigningKey({ alg: 'ES256', kid: 'issuer-9' });
      const encryptedRequest = await sealRaw({ payload: claims, signingKey: rogue.privateJwk, encryptionKey: fx.serviceEncryptionKey });
      return { body: { ...submission, encryptedRequest } };
    },
  },
  {
    step: 'signature (another key with the issuer kid)',
    code: 'signature_invalid',
    build: async () => {
      const { submission, claims } = await buildSubmission(fx);
      const rogue = await generateSigningKey({ alg: 'ES256', kid: 'issuer-1' });
      const encryptedRequest = await sealRaw({ payload: claims, signingKey: rogue.privateJwk, encryptionKey: fx.serviceEncryptionKey });
      return { body: { ...submission, encryptedRequest } };
    },
  },
  {
    step: 'claims schema (unknown member)',
    code: 'invalid_claims',
    build: async () => {
      const { submission } = await buildSubmission(fx, { claims: (c) => ({ ...c, admin: true }) });
      return { body: submission };
    },
  },
  {
    step: 'claims schema (PAN fails Luhn)',
    code: 'card_invalid',
    build: async () => {
      const { submission } = await buildSubmission(fx, { claims: (c) => ({ ...c, card: { ...CARD, pan: '4111111111111112' } }) });
      return { body: submission };
    },
  },
  {
    step: 'aud',
    code: 'audience_mismatch',
    build: async () => ({ body: (await buildSubmission(fx, { claims: (c) => ({ ...c, aud: 'another-service' }) })).submission }),
  },
  {
    step: 'maximum lifetime',
    code: 'lifetime_exceeded',
    build: async () => ({ body: (await buildSubmission(fx, { claims: (c) => ({ ...c, exp: c.iat + 901 }) })).submission }),
  },
  {
    step: 'iat with clock skew',
    code: 'not_yet_valid',
    build: async () => ({ body: (await buildSubmission(fx, { claims: (c) => ({ ...c, iat: now + 61, exp: now + 361 }) })).submission }),
  },
  {
    step: 'exp with clock skew',
    code: 'expired',
    build: async () => ({ body: (await buildSubmission(fx, { claims: (c) => ({ ...c, iat: now - 360, exp: now - 60 }) })).submission }),
  },
  {
    step: 'binding: session id',
    code: 'session_mismatch',
    build: async () => ({ body: (await buildSubmission(fx, { submission: (s) => ({ ...s, sessionId: createSessionId() }) })).submission }),
  },
  {
    step: 'binding: wallet provider (another wallet submits a captured request)',
    code: 'wallet_provider_mismatch',
    build: async () => ({ body: (await buildSubmission(fx)).submission, apiKey: OTHER_API_KEY }),
  },
  {
    step: 'binding: wallet account',
    code: 'wallet_account_mismatch',
    build: async () => ({ body: (await buildSubmission(fx, { submission: (s) => ({ ...s, walletAccountId: 'user-43' }) })).submission }),
  },
  {
    step: 'binding: device',
    code: 'device_mismatch',
    build: async () => ({ body: (await buildSubmission(fx, { submission: (s) => ({ ...s, deviceId: 'device-8' }) })).submission }),
  },
  {
    step: 'binding: nonce',
    code: 'nonce_mismatch',
    build: async () => ({ body: (await buildSubmission(fx, { submission: (s) => ({ ...s, nonce: createSessionId() }) })).submission }),
  },
  {
    step: 'card: account reference without a resolver',
    code: 'card_invalid',
    build: async () => ({ body: (await buildSubmission(fx, { accountRef: 'acct-123' })).submission }),
  },
  {
    step: 'card: not expired',
    code: 'card_expired',
    build: async () => ({ body: (await buildSubmission(fx, { card: { pan: PAN, expiry: { month: 10, year: 2026 } } })).submission }),
  },
  {
    step: 'card: inside the issuer BIN ranges',
    code: 'card_not_eligible',
    build: async () => ({ body: (await buildSubmission(fx, { card: { pan: '5555555555554444', expiry: { month: 1, year: 2030 } } })).submission }),
  },
  {
    step: 'issuer decision: decline',
    code: 'declined',
    build: async () => ({ body: (await buildSubmission(fx, { card: { pan: PAN_DECLINE, expiry: { month: 1, year: 2030 } } })).submission }),
  },
];

describe('POST /v1/provisioning-requests over HTTP with SQLite', () => {
  it('accepts a valid request: 201 with access data, stored whole, no PAN or token number stored in the clear', async () => {
    const before = countRows(dbPath);
    const { submission } = await buildSubmission(fx);
    const response = await postSubmission(server.url, submission);
    expect(response.status).toBe(201);
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    const body = parseProvisioningResponse(await response.text());
    expect(body.sessionId).toBe(submission.sessionId);
    expect(body.status).toBe('active');
    const access = body.accessData!;
    expect(access.tokenReferenceId).toBe(body.tokenReferenceId);
    expect(access.tokenNumber).toMatch(new RegExp(`^${TOKEN_BIN}[0-9]{10}$`));
    expect(luhnValid(access.tokenNumber)).toBe(true);
    expect(access.tokenNumber).not.toBe(PAN);
    expect(access).toMatchObject({ panLast4: '1111', status: 'active', network: 'visa', tokenExpiry: { month: 11, year: 2029 }, issuedAt: Math.floor(NOW / 1000) });
    expect(response.headers.get('location')).toBe(`/v1/tokens/${body.tokenReferenceId}`);
    const after = countRows(dbPath);
    expect(after).toEqual({ tokens: before.tokens + 1, vault: before.vault + 1, replay: before.replay + 1, idempotency: before.idempotency + 1 });
    const dump = dumpDatabase(dbPath);
    expect(dump).not.toContain(PAN);
    expect(dump).not.toContain(access.tokenNumber);
    expect(logText()).not.toContain(PAN);
    expect(logText()).not.toContain(access.tokenNumber);
  });

  it('encrypts the access data to the device key when the submission carries one', async () => {
    const device = await createDeviceKey();
    const { submission } = await buildSubmission(fx, { devicePublicKey: device.publicJwk });
    const response = await postSubmission(server.url, submission);
    expect(response.status).toBe(201);
    const body = parseProvisioningResponse(await response.text());
    expect(body.accessData).toBeUndefined();
    const access = await decryptAccessData(body.encryptedAccessData!, device.privateJwk);
    expect(access.tokenReferenceId).toBe(body.tokenReferenceId);
    expect(luhnValid(access.tokenNumber)).toBe(true);
    expect(access.panLast4).toBe('1111');
  });

  it('issues a token pending activation when the issuer asks for step-up, and reports that status', async () => {
    const { submission } = await buildSubmission(fx, { card: { pan: PAN_STEP_UP, expiry: { month: 1, year: 2030 } } });
    const response = await postSubmission(server.url, submission);
    expect(response.status).toBe(201);
    const body = parseProvisioningResponse(await response.text());
    expect(body.status).toBe('pending_activation');
    expect(body.accessData?.status).toBe('pending_activation');
    const status = await fetch(`${server.url}/v1/tokens/${body.tokenReferenceId}`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(parseTokenStatusResponse(await status.text()).status).toBe('pending_activation');
  });

  it('answers a card already provisioned to the same wallet account and device with the existing token (200), not a second one', async () => {
    const card = { pan: '4111110000091129', expiry: { month: 3, year: 2031 } };
    const first = await buildSubmission(fx, { card });
    const r1 = await postSubmission(server.url, first.submission);
    expect(r1.status).toBe(201);
    const b1 = parseProvisioningResponse(await r1.text());
    const before = countRows(dbPath);
    // A new request (new session, nonce, jti) for the same card, wallet account and device.
    const second = await buildSubmission(fx, { card, identifiers: { ...first.identifiers, sessionId: createSessionId(), nonce: createSessionId() } });
    const r2 = await postSubmission(server.url, second.submission);
    expect(r2.status).toBe(200);
    const b2 = parseProvisioningResponse(await r2.text());
    expect(b2.tokenReferenceId).toBe(b1.tokenReferenceId);
    expect(b2.accessData?.tokenNumber).toBe(b1.accessData?.tokenNumber);
    expect(b2.sessionId).toBe(second.submission.sessionId);
    const after = countRows(dbPath);
    expect(after).toEqual({ ...before, replay: before.replay + 1, idempotency: before.idempotency + 1 });
    // On another device it is a new token.
    const third = await buildSubmission(fx, { card, identifiers: { ...second.identifiers, sessionId: createSessionId(), nonce: createSessionId(), deviceId: 'device-9' } });
    const r3 = await postSubmission(server.url, third.submission);
    expect(r3.status).toBe(201);
    expect(parseProvisioningResponse(await r3.text()).tokenReferenceId).not.toBe(b1.tokenReferenceId);
  });

  describe('each validation step refuses with its code and leaves the database unchanged', () => {
    it.each(cases)('$step → $code', async ({ step, code, build }) => {
      const { body, apiKey } = await build();
      const before = countRows(dbPath);
      const response = await postSubmission(server.url, body, apiKey ? { apiKey } : {});
      await expectProblem(response, code);
      // The card (step 14) and the decision (step 15) stick: their refusal burns the jti and nothing else.
      const sticks = step.startsWith('card:') || step.startsWith('issuer decision');
      expect(countRows(dbPath)).toEqual(sticks ? { ...before, replay: before.replay + 1 } : before);
      if (sticks) {
        // The same request under a new idempotency key stays refused.
        await expectProblem(await postSubmission(server.url, body, { ...(apiKey ? { apiKey } : {}), idempotencyKey: `again-${code}` }), 'replayed');
      }
    });

    it('payload size: 413 before parsing, database unchanged', async () => {
      const before = countRows(dbPath);
      const response = await postSubmission(server.url, `{"pad":"${'x'.repeat(40_000)}"}`);
      await expectProblem(response, 'payload_too_large');
      expect(countRows(dbPath)).toEqual(before);
    });

    it('payload size: 413 for a streamed body without Content-Length', async () => {
      const chunk = new TextEncoder().encode('x'.repeat(8192));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 8) controller.enqueue(chunk);
          else controller.close();
        },
      });
      const response = await fetch(`${server.url}/v1/provisioning-requests`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, 'idempotency-key': 'stream-1' },
        body: stream,
        duplex: 'half',
      } as RequestInit);
      await expectProblem(response, 'payload_too_large');
    });

    it('jti never seen: a used request is refused with replayed under a new idempotency key, database unchanged', async () => {
      const { submission } = await buildSubmission(fx);
      const first = await postSubmission(server.url, submission);
      expect(first.status).toBe(201);
      const before = countRows(dbPath);
      await expectProblem(await postSubmission(server.url, submission), 'replayed');
      expect(countRows(dbPath)).toEqual(before);
    });

    it('a request refused by its binding (step 13) does not burn its jti: tampering cannot use up someone else\'s request', async () => {
      const { submission } = await buildSubmission(fx);
      await expectProblem(await postSubmission(server.url, { ...submission, deviceId: 'device-evil' }), 'device_mismatch');
      await expectProblem(await postSubmission(server.url, submission, { apiKey: OTHER_API_KEY }), 'wallet_provider_mismatch');
      const ok = await postSubmission(server.url, submission);
      expect(ok.status).toBe(201);
    });
  });

  it('checks the steps in the documented order: a replayed request with a wrong device is "replayed", not "device_mismatch"', async () => {
    const { submission } = await buildSubmission(fx);
    expect((await postSubmission(server.url, submission)).status).toBe(201);
    await expectProblem(await postSubmission(server.url, { ...submission, deviceId: 'device-other' }), 'replayed');
  });

  it('never logs a PAN or a token number, and logs one line per request', async () => {
    const count = logs.filter((l) => l.msg === 'request').length;
    await fetch(`${server.url}/health`);
    const requestLogs = logs.filter((l) => l.msg === 'request');
    expect(requestLogs).toHaveLength(count + 1);
    expect(requestLogs.at(-1)).toMatchObject({ method: 'GET', path: '/health', status: 200 });
    expect(typeof requestLogs.at(-1)!.durationMs).toBe('number');
    expect(requestLogs.at(-1)!.requestId).toMatch(/^req_/);
    expect(logText()).not.toContain(PAN);
    expect(logText()).not.toMatch(new RegExp(`${TOKEN_BIN}[0-9]{10}`));
    const refused = requestLogs.filter((l) => l.code === 'device_mismatch');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]).toMatchObject({ method: 'POST', path: '/v1/provisioning-requests', status: 422, walletProviderId: 'wallet-co' });
  });

  it('masks a PAN put in the URL before any logger sees it', async () => {
    await fetch(`${server.url}/v1/tokens/${PAN}`, { headers: { authorization: `Bearer ${API_KEY}` } });
    const last = logs.filter((l) => l.msg === 'request').at(-1)!;
    expect(last.path).toBe('/v1/tokens/•••• 1111');
    expect(last.status).toBe(404);
    expect(logText()).not.toContain(PAN);
  });

  it('uses the issuer id from the signed request, never from the body', async () => {
    const { submission } = await buildSubmission(fx);
    const response = await postSubmission(server.url, { ...submission, issuerId: ISSUER_ID });
    await expectProblem(response, 'invalid_message');
  });
});
