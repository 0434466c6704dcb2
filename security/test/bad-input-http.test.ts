// Bad input, HTTP layer, end to end over loopback with SQLite: size limits at
// their exact boundary, media types, idempotency keys, authentication,
// another wallet's token, and failing issuer hooks. Each refusal: the exact
// code, every table unchanged, no canary PAN in the answer or the logs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Card, createClientAssertion, generateSigningKey, parseProvisioningResponse } from '@pushprov/protocol';
import { CANARY_PAN } from '../src/canary.js';
import { countRows } from '../src/database.js';
import { expectNoCanary, expectProblem, expectRefused } from '../src/expectations.js';
import { type Harness, startHarness } from '../src/harness.js';
import { getTokenStatus, postSubmission, send, sendRaw } from '../src/http.js';
import { signCompact } from '../src/jose-craft.js';
import { API_KEY, OTHER_API_KEY, OTHER_WALLET, SERVICE_ID, WALLET, type Sandbox, buildRequest, createDeviceKey, createSandbox } from '../src/sandbox.js';

let sb: Sandbox;
let h: Harness;

beforeAll(async () => {
  sb = await createSandbox();
  h = await startHarness(sb);
});
afterAll(() => h?.dispose());

/** A valid submission's JSON, padded with spaces after its first `{` to exactly `length` characters. */
function padTo(json: string, length: number): string {
  return `{${' '.repeat(length - json.length)}${json.slice(1)}`;
}

describe('size, at the exact limit', () => {
  it('a submission of exactly 20 000 characters is accepted; one more character: payload_too_large', async () => {
    const ok = await buildRequest(sb);
    const exact = padTo(JSON.stringify(ok.body), 20_000);
    expect(exact).toHaveLength(20_000);
    expect((await postSubmission(h.url, exact)).status).toBe(201);
    const over = await buildRequest(sb);
    await expectRefused(h, () => postSubmission(h.url, padTo(JSON.stringify(over.body), 20_001)), 'payload_too_large');
  });

  it('a body over the byte limit is refused before parsing, whatever it holds: payload_too_large', async () => {
    const { body } = await buildRequest(sb);
    await expectRefused(h, () => postSubmission(h.url, padTo(JSON.stringify(body), 32_769)), 'payload_too_large');
  });
});

describe('a service with a 2 KiB body limit', () => {
  let small: Sandbox;
  let hs: Harness;
  beforeAll(async () => {
    small = await createSandbox({ config: (c) => ({ ...c, limits: { ...c.limits, maxBodyBytes: 2048 } }) });
    hs = await startHarness(small);
  });
  afterAll(() => hs?.dispose());

  it('accepts a body of exactly 2048 bytes and refuses 2049: payload_too_large', async () => {
    const ok = await buildRequest(small);
    expect((await postSubmission(hs.url, padTo(JSON.stringify(ok.body), 2048))).status).toBe(201);
    const over = await buildRequest(small);
    await expectRefused(hs, () => postSubmission(hs.url, padTo(JSON.stringify(over.body), 2049)), 'payload_too_large');
  });

  it('a chunked body that runs on past the limit: payload_too_large at once, and the connection is closed', async () => {
    // 4 KiB in 1 KiB chunks and never the final empty chunk: the server must not wait for the end.
    const chunk = 'x'.repeat(1024);
    const body = Array.from({ length: 4 }, () => `400\r\n${chunk}\r\n`).join('');
    const head = `POST /v1/provisioning-requests HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_KEY}\r\nContent-Type: application/json\r\nIdempotency-Key: run-on\r\nTransfer-Encoding: chunked\r\n\r\n`;
    // sendRaw resolves when the server closes the socket (it fails after 5 s otherwise).
    let closing: string | null = null;
    await expectRefused(
      hs,
      async () => {
        const result = await sendRaw(hs.url, head + body);
        closing = result.headers.get('connection');
        return result;
      },
      'payload_too_large',
    );
    expect(closing).toBe('close');
  });

  it('decodes UTF-8 split across chunks, and refuses invalid UTF-8: invalid_json', async () => {
    // "é" is 0xC3 0xA9: the first chunk ends between the two bytes. Decoded, the body is JSON with
    // an unknown member (a schema failure), which shows the bytes were put back together.
    const first = Buffer.from('{"type":"submission","x":"\u00e9"}', 'utf8');
    const split = first.indexOf(0xa9);
    const chunked = (parts: Buffer[]) => Buffer.concat([...parts.flatMap((p) => [Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from('\r\n')]), Buffer.from('0\r\n\r\n')]).toString('latin1');
    const head = (key: string) =>
      `POST /v1/provisioning-requests HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_KEY}\r\nContent-Type: application/json\r\nIdempotency-Key: ${key}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`;
    await expectRefused(hs, () => sendRaw(hs.url, head('utf8-split') + chunked([first.subarray(0, split), first.subarray(split)])), 'invalid_message');
    const broken = Buffer.from([...Buffer.from('{"type":"submission","x":"'), 0xc3, 0x28, ...Buffer.from('"}')]);
    await expectRefused(hs, () => sendRaw(hs.url, head('utf8-broken') + chunked([broken])), 'invalid_json');
  });

  it('counts bytes, not characters: 1 100 two-byte characters are refused: payload_too_large', async () => {
    const text = `{"type":"submission","x":"${'é'.repeat(1100)}"}`;
    expect(text.length).toBeLessThan(2048);
    await expectRefused(hs, () => postSubmission(hs.url, text), 'payload_too_large');
  });
});

describe('requests the HTTP parser refuses still get problem details', () => {
  it('headers over 16 KiB: payload_too_large', async () => {
    await expectRefused(h, () => sendRaw(h.url, `POST /v1/provisioning-requests HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_KEY}\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`), 'payload_too_large');
  });

  it('both Content-Length and Transfer-Encoding (request smuggling): invalid_message', async () => {
    const body = '0\r\n\r\nGET /v1/tokens/x HTTP/1.1\r\nHost: x\r\n\r\n';
    await expectRefused(
      h,
      () => sendRaw(h.url, `POST /v1/provisioning-requests HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n${body}`),
      'invalid_message',
    );
  });

  it('a request line that is not HTTP: invalid_message', async () => {
    await expectRefused(h, () => sendRaw(h.url, 'HELLO THERE\r\n\r\n'), 'invalid_message');
  });
});

describe('media type', () => {
  it.each([
    ['text/plain'],
    ['application/x-www-form-urlencoded'],
    ['multipart/form-data; boundary=x'],
    ['application/json-patch+json'],
    ['application/jsonx'],
    ['application/json; charset=utf-16'],
    ['application/json, text/plain'],
  ])('Content-Type %s: unsupported_media_type', async (contentType) => {
    const { body } = await buildRequest(sb);
    await expectRefused(h, () => postSubmission(h.url, body, { contentType }), 'unsupported_media_type');
  });

  it('no Content-Type at all (fetch then says text/plain): unsupported_media_type', async () => {
    const { body } = await buildRequest(sb);
    await expectRefused(h, () => postSubmission(h.url, JSON.stringify(body), { contentType: null }), 'unsupported_media_type');
  });
});

describe('idempotency keys', () => {
  it('the same key with the device key swapped (to read the access data): idempotency_key_reused', async () => {
    const device = await createDeviceKey();
    const attacker = await createDeviceKey();
    const { submission } = await buildRequest(sb, { devicePublicKey: device.publicJwk });
    expect((await postSubmission(h.url, submission, { idempotencyKey: 'idem-device-swap' })).status).toBe(201);
    const swapped = { ...submission, devicePublicKey: attacker.publicJwk };
    await expectRefused(h, () => postSubmission(h.url, swapped, { idempotencyKey: 'idem-device-swap' }), 'idempotency_key_reused');
  });

  it('the same key with the same body reformatted (members reordered, spaces) gets the stored answer, byte for byte', async () => {
    const { submission } = await buildRequest(sb);
    const first = await postSubmission(h.url, submission, { idempotencyKey: 'idem-reformat' });
    expect(first.status).toBe(201);
    const before = countRows(h.dbPath);
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(submission).reverse()), null, 2);
    const again = await postSubmission(h.url, reordered, { idempotencyKey: 'idem-reformat' });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.text).toBe(first.text);
    expect(countRows(h.dbPath)).toEqual(before);
  });

  it('a key of 256 characters: invalid_idempotency_key', async () => {
    const { body } = await buildRequest(sb);
    await expectRefused(h, () => postSubmission(h.url, body, { idempotencyKey: 'k'.repeat(256) }), 'invalid_idempotency_key');
  });

  it('a key with a Latin-1 byte: invalid_idempotency_key', async () => {
    const { body } = await buildRequest(sb);
    await expectRefused(h, () => postSubmission(h.url, body, { idempotencyKey: 'clé-1' }), 'invalid_idempotency_key');
  });
});

describe('authentication', () => {
  it("no credentials, with the body and idempotency key of a provisioned request: unauthenticated, and the stored answer is not given away", async () => {
    const { submission } = await buildRequest(sb);
    const first = await postSubmission(h.url, submission, { idempotencyKey: 'idem-stolen' });
    expect(first.status).toBe(201);
    const token = parseProvisioningResponse(first.text).accessData!.tokenNumber;
    const problem = await expectRefused(h, () => postSubmission(h.url, submission, { idempotencyKey: 'idem-stolen', authorization: null }), 'unauthenticated');
    expect(JSON.stringify(problem)).not.toContain(token);
  });

  it('the API key under the Basic scheme: unauthenticated', async () => {
    const { body } = await buildRequest(sb);
    await expectRefused(h, () => postSubmission(h.url, body, { authorization: `Basic ${Buffer.from(`${WALLET}:${API_KEY}`).toString('base64')}` }), 'unauthenticated');
  });

  it('the API key missing its last character: unauthenticated', async () => {
    const { body } = await buildRequest(sb);
    await expectRefused(h, () => postSubmission(h.url, body, { authorization: `Bearer ${API_KEY.slice(0, -1)}` }), 'unauthenticated');
  });

  it('two bearer credentials in one header: unauthenticated', async () => {
    const { body } = await buildRequest(sb);
    await expectRefused(h, () => postSubmission(h.url, body, { authorization: `Bearer ${API_KEY}, Bearer ${OTHER_API_KEY}` }), 'unauthenticated');
  });

  it('a client assertion with alg none: unauthenticated', async () => {
    const { body } = await buildRequest(sb);
    const now = Math.floor(sb.clock.now() / 1000);
    const claims = JSON.stringify({ iss: WALLET, sub: WALLET, aud: SERVICE_ID, iat: now, exp: now + 60, jti: 'AAAAAAAAAAAAAAAAAAAAAA' });
    const assertion = await signCompact({ alg: 'none', kid: sb.walletSigning.publicJwk.kid, typ: 'pushprov-client+jwt' }, claims, undefined, { signature: () => new Uint8Array([1]) });
    await expectRefused(h, () => postSubmission(h.url, body, { authorization: `Bearer ${assertion}` }), 'unauthenticated');
  });

  it('a client assertion HS256-keyed with the provider public key: unauthenticated', async () => {
    const { body } = await buildRequest(sb);
    const now = Math.floor(sb.clock.now() / 1000);
    const claims = JSON.stringify({ iss: WALLET, sub: WALLET, aud: SERVICE_ID, iat: now, exp: now + 60, jti: 'BBBBBBBBBBBBBBBBBBBBBB' });
    const assertion = await signCompact({ alg: 'HS256', kid: sb.walletSigning.publicJwk.kid, typ: 'pushprov-client+jwt' }, claims, undefined, {
      hmacSecret: Buffer.from(JSON.stringify(sb.walletSigning.publicJwk)),
    });
    await expectRefused(h, () => postSubmission(h.url, body, { authorization: `Bearer ${assertion}` }), 'unauthenticated');
  });

  it('a client assertion signed by an attacker key carried in its header (jwk): unauthenticated', async () => {
    const { body } = await buildRequest(sb);
    const attacker = await generateSigningKey({ alg: 'EdDSA', kid: sb.walletSigning.publicJwk.kid });
    const now = Math.floor(sb.clock.now() / 1000);
    const claims = JSON.stringify({ iss: WALLET, sub: WALLET, aud: SERVICE_ID, iat: now, exp: now + 60, jti: 'CCCCCCCCCCCCCCCCCCCCCC' });
    const assertion = await signCompact({ alg: 'EdDSA', kid: attacker.publicJwk.kid, typ: 'pushprov-client+jwt', jwk: attacker.publicJwk }, claims, attacker.privateJwk);
    await expectRefused(h, () => postSubmission(h.url, body, { authorization: `Bearer ${assertion}` }), 'unauthenticated');
  });

  it('a genuine client assertion of this provider claiming to be the rival provider: unauthenticated', async () => {
    const { body } = await buildRequest(sb);
    const now = Math.floor(sb.clock.now() / 1000);
    const claims = JSON.stringify({ iss: OTHER_WALLET, sub: OTHER_WALLET, aud: SERVICE_ID, iat: now, exp: now + 60, jti: 'DDDDDDDDDDDDDDDDDDDDDD' });
    const assertion = await signCompact({ alg: 'EdDSA', kid: sb.walletSigning.publicJwk.kid, typ: 'pushprov-client+jwt' }, claims, sb.walletSigning.privateJwk);
    await expectRefused(h, () => postSubmission(h.url, body, { authorization: `Bearer ${assertion}` }), 'unauthenticated');
  });

  it('a client assertion whose sub differs from its iss: unauthenticated', async () => {
    const { body } = await buildRequest(sb);
    const now = Math.floor(sb.clock.now() / 1000);
    const claims = JSON.stringify({ iss: WALLET, sub: OTHER_WALLET, aud: SERVICE_ID, iat: now, exp: now + 60, jti: 'EEEEEEEEEEEEEEEEEEEEEE' });
    const assertion = await signCompact({ alg: 'EdDSA', kid: sb.walletSigning.publicJwk.kid, typ: 'pushprov-client+jwt' }, claims, sb.walletSigning.privateJwk);
    await expectRefused(h, () => postSubmission(h.url, body, { authorization: `Bearer ${assertion}` }), 'unauthenticated');
  });

  it('a client assertion used for a refused request cannot be used again: unauthenticated', async () => {
    const assertion = await createClientAssertion({ walletProviderId: WALLET, audience: SERVICE_ID, signingKey: sb.walletSigning.privateJwk, clock: sb.clock });
    const bad = await buildRequest(sb, { submission: (s) => ({ ...s, deviceId: 'device-elsewhere' }) });
    // Presented, the assertion is used up, whatever happens to the request: the refusal stores its claim and nothing else.
    await expectRefused(h, () => postSubmission(h.url, bad.body, { authorization: `Bearer ${assertion}` }), 'device_mismatch', { replayAdded: 1 });
    const good = await buildRequest(sb);
    await expectRefused(h, () => postSubmission(h.url, good.body, { authorization: `Bearer ${assertion}` }), 'unauthenticated');
  });
});

describe("another wallet's token", () => {
  it('is not_found for the rival wallet, with the very answer an unknown id gets', async () => {
    const { submission } = await buildRequest(sb);
    const created = await postSubmission(h.url, submission);
    const token = parseProvisioningResponse(created.text).tokenReferenceId;
    expect((await getTokenStatus(h.url, token)).status).toBe(200);
    const rival = expectProblem(await getTokenStatus(h.url, token, `Bearer ${OTHER_API_KEY}`), 'not_found');
    const unknown = expectProblem(await getTokenStatus(h.url, 'tok_AAAAAAAAAAAAAAAAAAAAAA', `Bearer ${OTHER_API_KEY}`), 'not_found');
    expect({ ...rival, requestId: '' }).toEqual({ ...unknown, requestId: '' });
  });

  it('a token path with encoded traversal: not_found', async () => {
    await expectRefused(h, () => send(`${h.url}/v1/tokens/..%2F..%2Fvault`, { headers: { authorization: `Bearer ${API_KEY}` } }), 'not_found');
  });

  it('DELETE on a token the caller owns (no such operation): method_not_allowed', async () => {
    const { submission } = await buildRequest(sb);
    const token = parseProvisioningResponse((await postSubmission(h.url, submission)).text).tokenReferenceId;
    await expectRefused(h, () => send(`${h.url}/v1/tokens/${token}`, { method: 'DELETE', headers: { authorization: `Bearer ${API_KEY}` } }), 'method_not_allowed');
    expect((await getTokenStatus(h.url, token)).status).toBe(200);
  });
});

describe('issuer hooks that fail', () => {
  let hooks: Sandbox;
  let hh: Harness;
  let resolver: () => Promise<Card | undefined> = async () => undefined;
  let decider: () => Promise<'approve' | 'decline' | 'step_up'> = async () => 'approve';
  beforeAll(async () => {
    hooks = await createSandbox({ config: (c) => ({ ...c, limits: { ...c.limits, hookTimeoutMs: 50 } }) });
    hh = await startHarness(hooks, { resolveAccount: () => resolver(), decide: () => decider() });
  });
  afterAll(() => hh?.dispose());
  const accountRefRequest = () => buildRequest(hooks, { claims: (c) => ({ ...c, card: undefined, accountRef: 'acct-canary' }) });

  it('an account resolver failing with the PAN in its error: internal_error, nothing stored, the PAN nowhere', async () => {
    resolver = async () => {
      throw new Error(`core banking lookup failed for ${CANARY_PAN}`);
    };
    const { body } = await accountRefRequest();
    const problem = await expectRefused(hh, () => postSubmission(hh.url, body), 'internal_error');
    expect(problem.detail).toBeUndefined();
    expectNoCanary(JSON.stringify(hh.logs), 'the logs');
  });

  it('an account resolver returning a card with an impossible expiry: card_invalid, the PAN nowhere', async () => {
    resolver = async () => ({ pan: CANARY_PAN, expiry: { month: 14, year: 2031 } });
    const { body } = await accountRefRequest();
    // A card refusal sticks: the request's jti is burnt, nothing else is stored.
    await expectRefused(hh, () => postSubmission(hh.url, body), 'card_invalid', { replayAdded: 1 });
  });

  it('a decision hook that never answers: timeout, nothing stored', async () => {
    decider = () => new Promise(() => {});
    const { body } = await buildRequest(hooks);
    await expectRefused(hh, () => postSubmission(hh.url, body), 'timeout');
  });

  it('a decision hook answering something else than approve, decline or step_up: internal_error, nothing stored', async () => {
    decider = async () => 'maybe' as 'approve';
    const { body } = await buildRequest(hooks);
    await expectRefused(hh, () => postSubmission(hh.url, body), 'internal_error');
  });
});
