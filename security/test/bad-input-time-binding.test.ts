// Binding, replay and expiry at their exact boundaries, on the injected
// clock, end to end over loopback HTTP with SQLite: the last accepted
// instant and the first refused one, including the moment a replay record
// expires and is purged.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '@pushprov/token-service';
import { createClientAssertion, createSessionId, parseProvisioningResponse, replayKey } from '@pushprov/protocol';
import { CANARY_PAN_2 } from '../src/canary.js';
import { countRows, readReplayExpiry } from '../src/database.js';
import { expectProblem, expectRefused } from '../src/expectations.js';
import { type Harness, startHarness } from '../src/harness.js';
import { getTokenStatus, postSubmission } from '../src/http.js';
import {
  ISSUER_ID,
  NOW,
  NOW_SECONDS,
  OTHER_API_KEY,
  OTHER_WALLET,
  SERVICE_ID,
  WALLET,
  type Sandbox,
  buildRequest,
  createIdentifiers,
  createSandbox,
} from '../src/sandbox.js';

const SKEW = 60;
let sb: Sandbox;
let h: Harness;

beforeAll(async () => {
  sb = await createSandbox();
  h = await startHarness(sb);
});
afterAll(() => h?.dispose());
beforeEach(() => sb.clock.set(NOW));

/** A request whose claims carry exactly these times. */
const timed = (iat: number, exp: number) => buildRequest(sb, { claims: (c) => ({ ...c, iat, exp }) });

describe('iat, exp and lifetime at their boundaries', () => {
  it('iat = now + skew is accepted', async () => {
    const { body } = await timed(NOW_SECONDS + SKEW, NOW_SECONDS + SKEW + 300);
    expect((await postSubmission(h.url, body)).status).toBe(201);
  });

  it('iat = now + skew + 1 s: not_yet_valid', async () => {
    const { body } = await timed(NOW_SECONDS + SKEW + 1, NOW_SECONDS + SKEW + 301);
    await expectRefused(h, () => postSubmission(h.url, body), 'not_yet_valid');
  });

  it('the last millisecond before exp + skew is accepted', async () => {
    const { body, claims } = await buildRequest(sb, { lifetimeSeconds: 300 });
    sb.clock.set((claims.exp + SKEW) * 1000 - 1);
    expect((await postSubmission(h.url, body)).status).toBe(201);
  });

  it('exactly exp + skew: expired', async () => {
    const { body, claims } = await buildRequest(sb, { lifetimeSeconds: 300 });
    sb.clock.set((claims.exp + SKEW) * 1000);
    await expectRefused(h, () => postSubmission(h.url, body), 'expired');
  });

  it('a lifetime of exactly the maximum (900 s) is accepted', async () => {
    const { body } = await timed(NOW_SECONDS, NOW_SECONDS + 900);
    expect((await postSubmission(h.url, body)).status).toBe(201);
  });

  it('exp = iat (a lifetime of zero): lifetime_exceeded', async () => {
    const { body } = await timed(NOW_SECONDS, NOW_SECONDS);
    await expectRefused(h, () => postSubmission(h.url, body), 'lifetime_exceeded');
  });

  it('exp before iat: lifetime_exceeded', async () => {
    const { body } = await timed(NOW_SECONDS, NOW_SECONDS - 1);
    await expectRefused(h, () => postSubmission(h.url, body), 'lifetime_exceeded');
  });

  it('a card valid through this month is accepted on its last millisecond, and card_expired one millisecond later', async () => {
    const endOfMonth = Date.UTC(2027, 3, 1) - 1; // 31 March 2027, 23:59:59.999 UTC
    sb.clock.set(endOfMonth);
    const card = { pan: CANARY_PAN_2, expiry: { month: 3, year: 2027 } };
    const last = await buildRequest(sb, { card });
    expect((await postSubmission(h.url, last.body)).status).toBe(201);
    sb.clock.set(endOfMonth + 1);
    const late = await buildRequest(sb, { card });
    // The card checks stick: the refused request's jti is burnt.
    await expectRefused(h, () => postSubmission(h.url, late.body), 'card_expired', { replayAdded: 1 });
  });
});

describe('replay, up to and past the moment its record expires', () => {
  it('is replayed until the record expires at exp + skew; from that instant the request is expired, also once the record is purged', async () => {
    const { body, claims } = await buildRequest(sb, { lifetimeSeconds: 300 });
    expect((await postSubmission(h.url, body)).status).toBe(201);
    const key = replayKey(ISSUER_ID, claims.jti);
    const expiresAt = (claims.exp + SKEW) * 1000;
    expect(readReplayExpiry(h.dbPath, key)).toBe(expiresAt);

    sb.clock.set(expiresAt - 1);
    await h.server.service.purgeExpired();
    expect(readReplayExpiry(h.dbPath, key)).toBe(expiresAt);
    await expectRefused(h, () => postSubmission(h.url, body), 'replayed');

    sb.clock.set(expiresAt);
    await expectRefused(h, () => postSubmission(h.url, body), 'expired');
    await h.server.service.purgeExpired();
    expect(readReplayExpiry(h.dbPath, key)).toBeUndefined();
    await expectRefused(h, () => postSubmission(h.url, body), 'expired');
  });

  it('a request refused for its binding is not burnt: the right wallet can still use it once', async () => {
    const { submission } = await buildRequest(sb);
    await expectRefused(h, () => postSubmission(h.url, { ...submission, nonce: createSessionId() }), 'nonce_mismatch');
    expect((await postSubmission(h.url, submission)).status).toBe(201);
    await expectRefused(h, () => postSubmission(h.url, submission), 'replayed');
  });
});

describe('idempotency records outlive the requests they answer', () => {
  it('a configuration whose idempotency records would expire before its requests is refused', async () => {
    const risky = await createSandbox({ config: (c) => ({ ...c, lifetimes: { ...c.lifetimes, idempotencySeconds: 60 } }) });
    expect(() => parseConfig(risky.config)).toThrow(/idempotencySeconds/);
  });

  it('at the shortest allowed window, a retry after the record is purged finds its request expired, never issued twice', async () => {
    const short = await createSandbox({
      config: (c) => ({ ...c, lifetimes: { ...c.lifetimes, maxRequestSeconds: 60, clockSkewSeconds: 0, idempotencySeconds: 60 } }),
    });
    const hs = await startHarness(short);
    try {
      const { body } = await buildRequest(short, { lifetimeSeconds: 60 });
      const first = await postSubmission(hs.url, body, { idempotencyKey: 'retry-key-1' });
      expect(first.status).toBe(201);
      short.clock.set(NOW + 60_000 - 1);
      const again = await postSubmission(hs.url, body, { idempotencyKey: 'retry-key-1' });
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.text).toBe(first.text);
      short.clock.set(NOW + 60_000);
      expect((await hs.server.service.purgeExpired()).idempotency).toBe(1);
      await expectRefused(hs, () => postSubmission(hs.url, body, { idempotencyKey: 'retry-key-1' }), 'expired');
      expect(countRows(hs.dbPath).tokens).toBe(1);
    } finally {
      await hs.dispose();
    }
  });
});

describe('binding: what the wallet submits must equal what the issuer encrypted, exactly', () => {
  it('the wallet account id in another case: wallet_account_mismatch', async () => {
    const { submission } = await buildRequest(sb, { identifiers: createIdentifiers({ walletAccountId: 'user-Seven' }) });
    await expectRefused(h, () => postSubmission(h.url, { ...submission, walletAccountId: 'user-seven' }), 'wallet_account_mismatch');
  });

  it('a device id that is a prefix of the bound one: device_mismatch', async () => {
    const { submission } = await buildRequest(sb);
    await expectRefused(h, () => postSubmission(h.url, { ...submission, deviceId: submission.deviceId.slice(0, -1) }), 'device_mismatch');
  });

  it('session id and nonce swapped: session_mismatch', async () => {
    const { submission } = await buildRequest(sb);
    await expectRefused(h, () => postSubmission(h.url, { ...submission, sessionId: submission.nonce, nonce: submission.sessionId }), 'session_mismatch');
  });

  it('the nonce of an earlier session of the same wallet: nonce_mismatch', async () => {
    const earlier = await buildRequest(sb);
    const { submission } = await buildRequest(sb, { identifiers: createIdentifiers({ deviceId: earlier.submission.deviceId }) });
    await expectRefused(h, () => postSubmission(h.url, { ...submission, nonce: earlier.submission.nonce }), 'nonce_mismatch');
  });

  it('a request the issuer bound to another wallet provider, submitted by this one: wallet_provider_mismatch', async () => {
    const { submission } = await buildRequest(sb, { identifiers: createIdentifiers({ walletProviderId: OTHER_WALLET }) });
    await expectRefused(h, () => postSubmission(h.url, submission), 'wallet_provider_mismatch');
  });

  it("a rival wallet replaying a captured submission with the victim's idempotency key gets neither the victim's answer nor a token", async () => {
    const { submission } = await buildRequest(sb);
    const victimKey = 'victim-key-0001';
    await expectRefused(h, () => postSubmission(h.url, submission, { apiKey: OTHER_API_KEY, idempotencyKey: victimKey }), 'wallet_provider_mismatch');
    const victim = await postSubmission(h.url, submission, { idempotencyKey: victimKey });
    expect(victim.status).toBe(201);
    const token = parseProvisioningResponse(victim.text).tokenReferenceId;
    const rival = await expectRefused(h, () => postSubmission(h.url, submission, { apiKey: OTHER_API_KEY, idempotencyKey: victimKey }), 'replayed');
    expect(JSON.stringify(rival)).not.toContain(token);
    expectProblem(await getTokenStatus(h.url, token, `Bearer ${OTHER_API_KEY}`), 'not_found');
  });
});

describe('client assertions at their time boundaries', () => {
  const assertionAt = (ms: number) =>
    createClientAssertion({ walletProviderId: WALLET, audience: SERVICE_ID, signingKey: sb.walletSigning.privateJwk, lifetimeSeconds: 60, clock: { now: () => ms } });

  it('accepted with iat = now + skew; refused (unauthenticated) with iat = now + skew + 1 s', async () => {
    const ok = await buildRequest(sb);
    expect((await postSubmission(h.url, ok.body, { authorization: `Bearer ${await assertionAt(NOW + SKEW * 1000)}` })).status).toBe(201);
    const late = await buildRequest(sb);
    await expectRefused(h, async () => postSubmission(h.url, late.body, { authorization: `Bearer ${await assertionAt(NOW + (SKEW + 1) * 1000)}` }), 'unauthenticated');
  });

  it('accepted on the last millisecond before exp + skew; refused at exp + skew', async () => {
    const assertion = await assertionAt(NOW);
    const expiresAt = (NOW_SECONDS + 60 + SKEW) * 1000;
    sb.clock.set(expiresAt - 1);
    const ok = await buildRequest(sb);
    expect((await postSubmission(h.url, ok.body, { authorization: `Bearer ${assertion}` })).status).toBe(201);
    const stale = await assertionAt(NOW + 1000);
    sb.clock.set(expiresAt + 1000);
    const late = await buildRequest(sb);
    await expectRefused(h, () => postSubmission(h.url, late.body, { authorization: `Bearer ${stale}` }), 'unauthenticated');
  });
});
