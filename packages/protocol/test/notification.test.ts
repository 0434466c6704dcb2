import { beforeAll, describe, expect, it } from 'vitest';
import {
  type JwkPair,
  NOTIFICATION_JWS_TYP,
  type NotificationEvent,
  ProvisioningError,
  createMemoryNotificationDedupStore,
  createNotificationHandler,
  generateSigningKey,
  manualClock,
  signNotification,
  verifyNotification,
} from '../src/index.js';
import { b64uJson, craftJws, headerOf, textOfSegment } from '../scripts/lib/jose-craft.js';
import { NOW, NOW_MS, fixedId } from './helpers/fixture.js';

let service: JwkPair;
let other: JwkPair;
let edKey: JwkPair;

beforeAll(async () => {
  [service, other, edKey] = await Promise.all([
    generateSigningKey({ kid: 'ts-sig-1' }),
    generateSigningKey({ kid: 'ts-sig-1' }),
    generateSigningKey({ alg: 'EdDSA', kid: 'ts-ed' }),
  ]);
});

const event = (overrides: Partial<NotificationEvent> = {}): NotificationEvent => ({
  eventId: fixedId(7),
  type: 'token.suspended',
  tokenReferenceId: 'tok_abc',
  issuerId: 'bank-a',
  walletProviderId: 'wallet-co',
  status: 'suspended',
  previousStatus: 'active',
  reason: 'card_lost',
  actor: 'cardholder',
  occurredAt: NOW - 1,
  sequence: 2,
  ...overrides,
});

const sign = (e = event(), overrides: Record<string, unknown> = {}) =>
  signNotification(e, { key: service.privateJwk, issuer: 'ts', audience: 'bank-a', clock: manualClock(NOW_MS), ...overrides });

const options = (overrides: Record<string, unknown> = {}) => ({
  jwks: { keys: [service.publicJwk, edKey.publicJwk] },
  issuer: 'ts',
  audience: 'bank-a',
  clock: manualClock(NOW_MS),
  seen: createMemoryNotificationDedupStore(),
  ...overrides,
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(ProvisioningError);
    return (error as ProvisioningError).code;
  }
}

const payloadOf = (jws: string) => JSON.parse(textOfSegment(jws.split('.')[1]!)) as Record<string, unknown>;

describe('signNotification', () => {
  it('signs the contract header and payload', async () => {
    const jws = await sign();
    expect(headerOf(jws)).toEqual({ alg: 'ES256', kid: 'ts-sig-1', typ: NOTIFICATION_JWS_TYP });
    expect(payloadOf(jws)).toEqual({ iss: 'ts', aud: 'bank-a', iat: NOW, jti: fixedId(7), event: event() });
  });

  it('refuses an event outside its schema, a bad party id and a key that is not ES256', async () => {
    expect(await codeOf(sign({ ...event(), status: 'gone' } as unknown as NotificationEvent))).toBe('invalid_message');
    expect(await codeOf(sign(event(), { issuer: 'TS!' }))).toBe('configuration_invalid');
    expect(await codeOf(sign(event(), { key: edKey.privateJwk }))).toBe('unknown_key');
  });
});

describe('verifyNotification', () => {
  it('returns the event once, then as a duplicate when a fresh JWS of the same event comes', async () => {
    const opts = options();
    expect(await verifyNotification(await sign(), opts)).toEqual({ event: event(), duplicate: false });
    const later = await sign(event(), { clock: manualClock(NOW_MS + 5_000) });
    expect(await verifyNotification(later, { ...opts, clock: manualClock(NOW_MS + 5_000) })).toEqual({ event: event(), duplicate: true });
  });

  it('takes a second JWS of the same event signed in the same second (a quick retry) for a duplicate, not a replay', async () => {
    const opts = options();
    const [first, second] = [await sign(), await sign()];
    expect(first.split('.').slice(0, 2)).toEqual(second.split('.').slice(0, 2));
    expect(first).not.toBe(second);
    expect((await verifyNotification(first, opts)).duplicate).toBe(false);
    expect((await verifyNotification(second, opts)).duplicate).toBe(true);
  });

  it('refuses the same JWS presented twice as a replay', async () => {
    const opts = options();
    const jws = await sign();
    await verifyNotification(jws, opts);
    expect(await codeOf(verifyNotification(jws, opts))).toBe('replayed');
  });

  it('holds the iat window: 300 s back, 60 s ahead by default', async () => {
    const jws = await sign();
    expect(await codeOf(verifyNotification(jws, options({ clock: manualClock(NOW_MS + 300_000) })))).toBe('ok');
    expect(await codeOf(verifyNotification(jws, options({ clock: manualClock(NOW_MS + 301_000) })))).toBe('expired');
    expect(await codeOf(verifyNotification(jws, options({ clock: manualClock(NOW_MS - 60_000) })))).toBe('ok');
    expect(await codeOf(verifyNotification(jws, options({ clock: manualClock(NOW_MS - 61_000) })))).toBe('not_yet_valid');
    expect(await codeOf(verifyNotification(jws, options({ clock: manualClock(NOW_MS + 20_000), maxAgeSeconds: 10 })))).toBe('expired');
  });

  it('refuses another key with the same kid, an altered payload, another issuer or audience', async () => {
    const jws = await sign();
    const forged = await sign(event(), { key: other.privateJwk });
    expect(await codeOf(verifyNotification(forged, options()))).toBe('signature_invalid');
    const [h, , s] = jws.split('.');
    const altered = `${h}.${b64uJson({ ...payloadOf(jws), event: event({ status: 'active' }) })}.${s}`;
    expect(await codeOf(verifyNotification(altered, options()))).toBe('signature_invalid');
    expect(await codeOf(verifyNotification(jws, options({ issuer: 'other-ts' })))).toBe('unknown_issuer');
    expect(await codeOf(verifyNotification(jws, options({ audience: 'wallet-co' })))).toBe('audience_mismatch');
  });

  it('refuses an unknown kid, a wrong typ, another alg and extra header members', async () => {
    const payload = JSON.stringify(payloadOf(await sign()));
    const craft = (header: Record<string, unknown>, key: JwkPair['privateJwk'] | null = service.privateJwk) =>
      craftJws(key === null ? { header, payload, signature: 'AAAA' } : { header, payload, key });
    expect(await codeOf(verifyNotification(await craft({ alg: 'ES256', kid: 'nope', typ: NOTIFICATION_JWS_TYP }), options()))).toBe('unknown_key');
    expect(await codeOf(verifyNotification(await craft({ alg: 'ES256', kid: 'ts-sig-1', typ: 'JWT' }), options()))).toBe('jws_header_rejected');
    expect(await codeOf(verifyNotification(await craft({ alg: 'EdDSA', kid: 'ts-ed', typ: NOTIFICATION_JWS_TYP }, edKey.privateJwk), options()))).toBe(
      'jws_header_rejected',
    );
    expect(await codeOf(verifyNotification(await craft({ alg: 'ES256', kid: 'ts-sig-1', typ: NOTIFICATION_JWS_TYP, jku: 'https://x' }), options()))).toBe(
      'jws_header_rejected',
    );
    expect(await codeOf(verifyNotification(await craft({ alg: 'none', kid: 'ts-sig-1', typ: NOTIFICATION_JWS_TYP }, null), options()))).toBe(
      'jws_header_rejected',
    );
  });

  it('refuses claims and events outside the schema even when signed', async () => {
    const base = payloadOf(await sign());
    const craft = (payload: unknown) =>
      craftJws({ header: { alg: 'ES256', kid: 'ts-sig-1', typ: NOTIFICATION_JWS_TYP }, payload: JSON.stringify(payload), key: service.privateJwk });
    expect(await codeOf(verifyNotification(await craft({ ...base, extra: 1 }), options()))).toBe('invalid_claims');
    expect(await codeOf(verifyNotification(await craft({ ...base, jti: fixedId(8) }), options()))).toBe('invalid_claims');
    expect(await codeOf(verifyNotification(await craft({ ...base, event: { ...event(), pan: '4111111111111111' } }), options()))).toBe('invalid_claims');
    expect(await codeOf(verifyNotification(await craft({ ...base, event: { ...event(), sequence: 0 } }), options()))).toBe('invalid_claims');
    expect(await codeOf(verifyNotification(await craft({ ...base, iat: 'now' }), options()))).toBe('invalid_claims');
    expect(await codeOf(verifyNotification('not a jws', options()))).toBe('invalid_message');
  });

  it('resolves keys through a keyResolver, and takes exactly one key source', async () => {
    const asked: string[] = [];
    const keyResolver = ({ kid }: { kid: string }) => {
      asked.push(kid);
      return kid === service.publicJwk.kid ? service.publicJwk : undefined;
    };
    expect((await verifyNotification(await sign(), options({ jwks: undefined, keyResolver }))).duplicate).toBe(false);
    expect(asked).toEqual(['ts-sig-1']);
    expect(await codeOf(verifyNotification(await sign(), options({ keyResolver })))).toBe('configuration_invalid');
  });
});

describe('createMemoryNotificationDedupStore', () => {
  it('claims once, keeps entries until their time, and refuses to forget live entries when full', () => {
    const clock = manualClock(1_000);
    const store = createMemoryNotificationDedupStore({ maxEntries: 2, now: clock.now });
    expect(store.claim('a', 2_000)).toBe('new');
    expect(store.claim('a', 2_000)).toBe('in_progress');
    store.complete('a', 2_000);
    expect(store.claim('a', 2_000)).toBe('seen');
    expect(store.claim('b', 5_000)).toBe('new');
    store.release('b');
    expect(store.claim('b', 5_000)).toBe('new');
    expect(() => store.claim('c', 5_000)).toThrow(expect.objectContaining({ code: 'rate_limited' }));
    clock.set(2_000);
    expect(store.claim('c', 5_000)).toBe('new');
    store.release('c');
    expect(store.claim('a', 5_000)).toBe('new');
  });
});

describe('createNotificationHandler', () => {
  const post = (body: string, headers: Record<string, string> = {}) =>
    new Request('http://127.0.0.1/hooks/pushprov', { method: 'POST', headers: { 'content-type': 'application/jose', ...headers }, body });

  it('processes each event once: 200, then 200 duplicate; 500 when onEvent throws, and the retry is processed', async () => {
    const processed: string[] = [];
    let fail = true;
    const handler = createNotificationHandler({
      ...options({ seen: undefined }),
      onEvent: (e) => {
        if (fail) {
          fail = false;
          throw new Error('database down');
        }
        processed.push(e.eventId);
      },
    });
    const first = await handler(post(await sign(), { 'x-pushprov-event-id': fixedId(7) }));
    expect(first.status).toBe(500);
    expect(((await first.json()) as { code: string }).code).toBe('internal_error');
    const retry = await handler(post(await sign(event(), { clock: manualClock(NOW_MS + 1_000) })));
    expect(retry.status).toBe(200);
    expect(await retry.json()).toEqual({ eventId: fixedId(7), duplicate: false });
    const again = await handler(post(await sign(event(), { clock: manualClock(NOW_MS + 2_000) })));
    expect(await again.json()).toEqual({ eventId: fixedId(7), duplicate: true });
    expect(processed).toEqual([fixedId(7)]);
  });

  it('answers 409 while the same event is being processed elsewhere', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const handler = createNotificationHandler({ ...options({ seen: undefined }), onEvent: () => gate });
    const slow = handler(post(await sign()));
    await new Promise((resolve) => setTimeout(resolve, 10));
    const concurrent = await handler(post(await sign(event(), { clock: manualClock(NOW_MS + 1_000) })));
    expect(concurrent.status).toBe(409);
    release();
    expect((await slow).status).toBe(200);
  });

  it('refuses with problem details: 401 forged or replayed, 400 not a notification or a wrong event id header, 415, 405', async () => {
    const errors: string[] = [];
    const handler = createNotificationHandler({ ...options({ seen: undefined }), onEvent: () => {}, onError: (e) => errors.push(e.code) });
    const forged = await handler(post(await sign(event(), { key: other.privateJwk })));
    expect(forged.status).toBe(401);
    expect(forged.headers.get('content-type')).toBe('application/problem+json');
    expect(((await forged.json()) as { code: string }).code).toBe('signature_invalid');
    const jws = await sign();
    expect((await handler(post(jws, { 'x-pushprov-event-id': fixedId(9) }))).status).toBe(400);
    expect((await handler(post(jws))).status).toBe(200);
    expect((await handler(post(jws))).status).toBe(401);
    expect((await handler(post('{}'))).status).toBe(400);
    expect((await handler(new Request('http://127.0.0.1/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: jws }))).status).toBe(415);
    expect((await handler(new Request('http://127.0.0.1/'))).status).toBe(405);
    expect(errors).toEqual(['signature_invalid', 'invalid_message', 'replayed', 'invalid_message']);
  });
});
