import { compactVerify } from 'jose';
import { type Clock, epochSeconds, systemClock } from '../clock.js';
import { CryptoError, ExpiryError, ReplayError, SchemaError, createError } from '../errors.js';
import { sha256Hex } from '../hash.js';
import { fromUtf8, utf8 } from '../lib/base64url.js';
import { parseStrictJson } from '../lib/strict-json.js';
import { type NotificationDedupStore, createMemoryNotificationDedupStore } from '../notifications/notification-dedup-store.js';
import { parseWith } from '../schemas/parse.js';
import { zCompactJws, zEpochSeconds, zPartyId } from '../schemas/primitives.js';
import { type NotificationEvent, zNotificationEvent } from '../schemas/z-notification.js';
import { checkHeader, decodeHeaderStrict } from './headers.js';
import { type SigningKeyInput, isKeyHandle, signCompact } from './key-handles.js';
import { type Jwks, type KeyJwk, importKeyCached } from './keys.js';
import { type RemoteJwks, createRemoteJwks } from '../jwks/create-remote-jwks.js';

/** The JWS `typ` of a signed notification (spec section 5.7). */
export const NOTIFICATION_JWS_TYP = 'pushprov-event+jwt';
/** The only signature algorithm of a notification. */
export const NOTIFICATION_ALGORITHM = 'ES256' as const;
/** How old a notification's `iat` may be by default, seconds. */
export const DEFAULT_NOTIFICATION_MAX_AGE_SECONDS = 300;
/** How far in the future a notification's `iat` may be by default (clock skew), seconds. */
export const DEFAULT_NOTIFICATION_CLOCK_SKEW_SECONDS = 60;
/** How long a processed event id is remembered by default, seconds (48 hours: longer than the 24 hours of retries). */
export const DEFAULT_NOTIFICATION_DEDUP_RETENTION_SECONDS = 172_800;

/**
 * Options of {@link signNotification}.
 *
 * @example
 * ```ts
 * const options: SignNotificationOptions = { key: signingKeyFromJwk(serviceSigningJwk), issuer: 'ts', audience: 'wallet-co' };
 * ```
 */
export interface SignNotificationOptions {
  /** The token service's ES256 signing key: a private JWK with its `kid`, or a {@link SigningKeyHandle}. */
  key: SigningKeyInput;
  /** The token service id: `iss`. */
  issuer: string;
  /** The receiving party's id (the issuer id or the wallet provider id): `aud`. */
  audience: string;
  /** The clock of `iat`. Default the system clock. */
  clock?: Clock | undefined;
}

/**
 * Signs a notification event for one receiver (spec section 5.7): a compact
 * JWS, header `{ alg: 'ES256', kid, typ: 'pushprov-event+jwt' }`, payload
 * `{ iss, aud, iat, jti: event.eventId, event }`. The event is checked
 * against its schema first (`invalid_message`). Sign afresh at each delivery
 * attempt, so `iat` is fresh. Codes: `invalid_message`, `configuration_invalid`
 * (issuer or audience not a party id), `unknown_key` (not an ES256 key).
 *
 * @example
 * ```ts
 * const jws = await signNotification(event, { key: serviceSigningKey, issuer: 'ts', audience: 'bank-a' });
 * await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/jose', 'x-pushprov-event-id': event.eventId }, body: jws });
 * ```
 */
export async function signNotification(event: NotificationEvent, options: SignNotificationOptions): Promise<string> {
  const checked = parseWith(zNotificationEvent, event, { name: 'notification event' });
  if (!zPartyId.safeParse(options.issuer).success || !zPartyId.safeParse(options.audience).success) {
    throw createError('configuration_invalid', 'issuer and audience must be party ids');
  }
  const alg = isKeyHandle(options.key) ? options.key.alg : (options.key as KeyJwk | undefined)?.alg;
  if (alg !== NOTIFICATION_ALGORITHM) throw new CryptoError('unknown_key', 'A notification is signed with an ES256 key');
  const payload = { iss: options.issuer, aud: options.audience, iat: epochSeconds(options.clock ?? systemClock), jti: checked.eventId, event: checked };
  return signCompact(options.key, utf8(JSON.stringify(payload)), NOTIFICATION_JWS_TYP);
}

/**
 * Finds the token service's public key for a notification's `kid` (an ES256
 * public JWK), or `undefined` when there is none. A resolver over a remote
 * key set may fetch it again when the `kid` is missing (key rotation).
 *
 * @example
 * ```ts
 * const keyResolver: NotificationKeyResolver = async ({ kid }) => (await remoteJwks.getKeys()).keys.find((k) => k.kid === kid);
 * ```
 */
export type NotificationKeyResolver = (
  header: { kid: string; alg: typeof NOTIFICATION_ALGORITHM },
  options: { signal?: AbortSignal | undefined },
) => KeyJwk | undefined | Promise<KeyJwk | undefined>;

/**
 * Options of {@link verifyNotification}.
 *
 * @example
 * ```ts
 * const options: VerifyNotificationOptions = {
 *   jwks: 'https://ts.example/.well-known/jwks.json',
 *   issuer: 'ts',
 *   audience: 'bank-a',
 *   seen: createMemoryNotificationDedupStore(),
 * };
 * ```
 */
export interface VerifyNotificationOptions {
  /**
   * The token service's public keys. Give this or `keyResolver`: the URL of
   * its `/.well-known/jwks.json` (fetched, cached, fetched again when a
   * `kid` is missing; one cache per URL in this process), a
   * {@link RemoteJwks} made by {@link createRemoteJwks} (your own fetch,
   * cache times), or a JWK set object.
   */
  jwks?: string | RemoteJwks | Jwks | undefined;
  /** Finds the key by `kid` (for example from a fetched, cached JWK set). Give this or `jwks`. */
  keyResolver?: NotificationKeyResolver | undefined;
  /** The token service id expected in `iss`. */
  issuer: string;
  /** The receiver's own party id expected in `aud` (the issuer id or the wallet provider id). */
  audience: string;
  /** How old `iat` may be, seconds. Default 300. */
  maxAgeSeconds?: number | undefined;
  /** How far in the future `iat` may be, seconds. Default 60. */
  clockSkewSeconds?: number | undefined;
  /** The clock of the window and of the store entries. Default the system clock. */
  clock?: Clock | undefined;
  /**
   * Where processed event ids are remembered. Default one in-memory store
   * shared by every call in this process (see {@link createMemoryNotificationDedupStore}).
   */
  seen?: NotificationDedupStore | undefined;
  /** How long a processed event id is remembered, seconds; never less than the acceptance window. Default 172 800 (48 hours). */
  dedupRetentionSeconds?: number | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * What {@link verifyNotification} returns.
 *
 * @example
 * ```ts
 * const { event, duplicate }: VerifiedNotification = await verifyNotification(body, options);
 * ```
 */
export interface VerifiedNotification {
  /** The event, checked against its schema. */
  event: NotificationEvent;
  /** True when this event id was already processed (or is being processed): do not process it again, answer 2xx. */
  duplicate: boolean;
}

/** A notification whose signature, claims and event are valid, not yet deduplicated. Internal. */
export interface OpenedNotification {
  event: NotificationEvent;
  /** The store key of this very JWS (its signature's hash): presented twice, it is a replay. */
  jwsKey: string;
  /** The store key of its event. */
  eventKey: string;
  /** Until when this JWS is acceptable, epoch ms. */
  acceptableUntilMs: number;
}

const HEADER_RULES = {
  allowed: ['alg', 'kid', 'typ'],
  required: ['alg', 'kid', 'typ'],
  equals: { typ: NOTIFICATION_JWS_TYP },
  algorithms: [NOTIFICATION_ALGORITHM],
} as const;

const seconds = (value: number | undefined, fallback: number, name: string): number => {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 0) throw createError('configuration_invalid', `${name} must be a non-negative integer`);
  return v;
};

/**
 * Checks a signed notification up to, not including, deduplication: the
 * steps of spec section 13 in order. Internal: {@link verifyNotification}
 * and the notification handler build on it.
 */
export async function openNotification(jws: unknown, options: VerifyNotificationOptions): Promise<OpenedNotification> {
  const maxAge = seconds(options.maxAgeSeconds, DEFAULT_NOTIFICATION_MAX_AGE_SECONDS, 'maxAgeSeconds');
  const skew = seconds(options.clockSkewSeconds, DEFAULT_NOTIFICATION_CLOCK_SKEW_SECONDS, 'clockSkewSeconds');
  if ((options.jwks === undefined) === (options.keyResolver === undefined)) {
    throw createError('configuration_invalid', 'Give exactly one of jwks and keyResolver');
  }
  // 1. A compact JWS, bounded.
  if (typeof jws !== 'string' || !zCompactJws.safeParse(jws).success) throw new SchemaError('invalid_message', 'The notification is not a compact JWS');
  // 2. The header: exactly alg ES256, kid, typ pushprov-event+jwt.
  const header = decodeHeaderStrict(jws, 'jws_header_rejected');
  checkHeader(header, HEADER_RULES, 'jws_header_rejected');
  const kid = header.kid as string;
  // 3. The token service's key with that kid.
  const jwk = await resolveKey(options, kid);
  if (!jwk || jwk.alg !== NOTIFICATION_ALGORITHM || jwk.kid !== kid) throw new CryptoError('unknown_key', 'No key of the token service has that kid');
  // 4. The signature.
  let payloadBytes: Uint8Array;
  try {
    const key = await importKeyCached(jwk, NOTIFICATION_ALGORITHM);
    payloadBytes = (await compactVerify(jws, key, { algorithms: [NOTIFICATION_ALGORITHM] })).payload;
  } catch (cause) {
    throw new CryptoError('signature_invalid', 'The notification signature does not verify', { cause });
  }
  // 5. The claims: exactly iss, aud, iat, jti, event.
  let payload: unknown;
  try {
    payload = parseStrictJson(fromUtf8(payloadBytes), { maxLength: 4096, maxDepth: 3 });
  } catch (cause) {
    throw createError('invalid_claims', 'The notification payload is not strict JSON', { cause });
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload) || Object.keys(payload).sort().join(',') !== 'aud,event,iat,iss,jti') {
    throw createError('invalid_claims', 'The notification payload must hold exactly iss, aud, iat, jti and event');
  }
  const claims = payload as Record<string, unknown>;
  if (claims.iss !== options.issuer) throw new CryptoError('unknown_issuer', 'The notification is not from the expected token service');
  if (claims.aud !== options.audience) throw new ExpiryError('audience_mismatch', 'The notification is meant for another receiver');
  if (!zEpochSeconds.safeParse(claims.iat).success) throw createError('invalid_claims', 'The notification iat must be a NumericDate');
  // 6. The window: now - maxAge <= iat <= now + skew.
  const iat = claims.iat as number;
  const now = epochSeconds(options.clock ?? systemClock);
  if (iat > now + skew) throw new ExpiryError('not_yet_valid', 'The notification was signed in the future');
  if (iat < now - maxAge) throw new ExpiryError('expired', `The notification is older than ${maxAge} seconds`);
  // 7. The event's schema, and jti = eventId.
  const event = parseWith(zNotificationEvent, claims.event, { name: 'notification event', code: 'invalid_claims' });
  if (claims.jti !== event.eventId) throw createError('invalid_claims', 'The notification jti must be its eventId');
  // The whole JWS: a retry the service signs within the same second has the same header and payload
  // (iat is in seconds) but a fresh ECDSA signature, and must not pass for a replay. A re-encoded
  // signature (s or n - s) of a captured JWS is then not caught here, but its event id is: a duplicate.
  return {
    event,
    jwsKey: `jws:${sha256Hex(jws)}`,
    eventKey: `event:${event.eventId}`,
    acceptableUntilMs: (iat + maxAge + skew + 1) * 1000,
  };
}

const remoteByUrl = new Map<string, RemoteJwks>();

/** The remote key set of a URL: one per URL in this process (at most 16 URLs; the oldest is dropped). */
function remoteFor(url: string): RemoteJwks {
  let remote = remoteByUrl.get(url);
  if (!remote) {
    remote = createRemoteJwks({ url });
    if (remoteByUrl.size >= 16) remoteByUrl.delete(remoteByUrl.keys().next().value as string);
    remoteByUrl.set(url, remote);
  }
  return remote;
}

const isRemote = (jwks: unknown): jwks is RemoteJwks => typeof (jwks as RemoteJwks | undefined)?.getSigningKey === 'function';

/**
 * A key source as a resolver: a URL becomes (or reuses) a remote key set, a
 * remote key set is asked by `kid`. Internal: the handler resolves it once.
 */
export function toNotificationKeyResolver(jwks: string | RemoteJwks): NotificationKeyResolver {
  const remote = typeof jwks === 'string' ? remoteFor(jwks) : jwks;
  return async ({ kid, alg }, { signal }) => {
    try {
      return await remote.getSigningKey({ kid, alg, signal });
    } catch (error) {
      if (error instanceof CryptoError && error.code === 'unknown_key') return undefined;
      throw error;
    }
  };
}

async function resolveKey(options: VerifyNotificationOptions, kid: string): Promise<KeyJwk | undefined> {
  const { jwks } = options;
  if (jwks === undefined) return options.keyResolver!({ kid, alg: NOTIFICATION_ALGORITHM }, { signal: options.signal });
  if (typeof jwks === 'string' || isRemote(jwks)) return toNotificationKeyResolver(jwks)({ kid, alg: NOTIFICATION_ALGORITHM }, { signal: options.signal });
  return jwks.keys.find((k) => k.kid === kid);
}

let sharedSeen: NotificationDedupStore | undefined;

/** The default store: one per process, made on first use. Internal. */
export function defaultNotificationDedupStore(): NotificationDedupStore {
  sharedSeen ??= createMemoryNotificationDedupStore();
  return sharedSeen;
}

/** A claim on an opened notification's event. Internal. */
export interface NotificationClaim {
  /** `new`: process it, then `complete()` (or `release()` when processing failed). Otherwise a duplicate. */
  state: 'new' | 'in_progress' | 'seen';
  complete(): Promise<void>;
  release(): Promise<void>;
}

/**
 * Deduplicates an opened notification (spec section 13, step 8): the same JWS
 * presented twice is a replay (`replayed`); the same event id in a fresh JWS
 * is a duplicate delivery (state `seen` or `in_progress`). Internal.
 */
export async function claimNotification(opened: OpenedNotification, options: VerifyNotificationOptions): Promise<NotificationClaim> {
  const seen = options.seen ?? defaultNotificationDedupStore();
  const clock = options.clock ?? systemClock;
  const retention = seconds(options.dedupRetentionSeconds, DEFAULT_NOTIFICATION_DEDUP_RETENTION_SECONDS, 'dedupRetentionSeconds');
  const eventUntil = () => Math.max(opened.acceptableUntilMs, clock.now() + retention * 1000);
  if ((await seen.claim(opened.jwsKey, opened.acceptableUntilMs)) !== 'new') {
    throw new ReplayError('replayed', 'This signed notification was already presented');
  }
  await seen.complete(opened.jwsKey, opened.acceptableUntilMs);
  const state = await seen.claim(opened.eventKey, eventUntil());
  return {
    state,
    complete: async () => {
      if (state === 'new') await seen.complete(opened.eventKey, eventUntil());
    },
    release: async () => {
      if (state === 'new') await seen.release(opened.eventKey);
    },
  };
}

/**
 * Verifies a signed notification (spec sections 5.7 and 13): the header
 * (`typ: pushprov-event+jwt`, `alg: ES256`, a `kid`), the token service's key
 * by `kid` (from `jwks` or `keyResolver`), the signature, `iss`, `aud`, the
 * `iat` window (`maxAgeSeconds`, default 300), the event's strict schema, and
 * then deduplication by event id in `seen`: a duplicate comes back with
 * `duplicate: true` (process it no more, answer 2xx); the same JWS presented
 * again is refused as a replay. The event id is recorded as processed when
 * this returns: a receiver that must retry after a failure uses the
 * notification handler of its SDK, which records it only once processed.
 * Codes: `invalid_message`, `jws_header_rejected`, `unknown_key`,
 * `signature_invalid`, `invalid_claims`, `unknown_issuer`,
 * `audience_mismatch`, `not_yet_valid`, `expired`, `replayed`.
 *
 * @example
 * ```ts
 * const { event, duplicate } = await verifyNotification(body, { jwks: tokenServiceJwks, issuer: 'ts', audience: 'bank-a' });
 * if (!duplicate) await applyTokenChange(event);
 * ```
 */
export async function verifyNotification(jws: string, options: VerifyNotificationOptions): Promise<VerifiedNotification> {
  const opened = await openNotification(jws, options);
  const claim = await claimNotification(opened, options);
  await claim.complete();
  return { event: opened.event, duplicate: claim.state !== 'new' };
}
