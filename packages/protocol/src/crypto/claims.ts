import { calculateJwkThumbprint } from 'jose';
import { type Clock, epochSeconds, systemClock } from '../clock.js';
import { BindingError, ExpiryError } from '../errors.js';
import { timingSafeEqual } from '../hash.js';
import { type RandomSource, createJti, secureRandom } from '../random.js';
import type { PublicEcJwk } from '../schemas/primitives.js';
import type { Identifiers } from '../schemas/z-identifiers.js';
import type { Card, RequestClaims } from '../schemas/z-request-claims.js';

/** Default tolerated clock skew, seconds. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;
/** Default and maximum lifetime of a provisioning request, seconds (15 minutes). */
export const DEFAULT_MAX_LIFETIME_SECONDS = 900;
/** Default lifetime the issuer gives a request, seconds (5 minutes). */
export const DEFAULT_REQUEST_LIFETIME_SECONDS = 300;

/** Options of {@link checkTimeClaims}. */
export interface TimeClaimOptions {
  audience: string;
  clock?: Clock | undefined;
  clockSkewSeconds?: number | undefined;
  maxLifetimeSeconds?: number | undefined;
}

/**
 * Checks `aud`, `iat`, `exp` and the lifetime. A request is valid while
 * `iat - skew <= now < exp + skew` and `0 < exp - iat <= maxLifetime`.
 * Codes: `audience_mismatch`, `lifetime_exceeded`, `not_yet_valid`, `expired`.
 */
export function checkTimeClaims(claims: Pick<RequestClaims, 'aud' | 'iat' | 'exp'>, options: TimeClaimOptions): void {
  const now = epochSeconds(options.clock ?? systemClock);
  const skew = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  const maxLifetime = options.maxLifetimeSeconds ?? DEFAULT_MAX_LIFETIME_SECONDS;
  if (claims.aud !== options.audience) throw new ExpiryError('audience_mismatch', 'The request is meant for another token service');
  const lifetime = claims.exp - claims.iat;
  if (lifetime <= 0 || lifetime > maxLifetime) {
    throw new ExpiryError('lifetime_exceeded', `The request lifetime must be between 1 and ${maxLifetime} seconds`);
  }
  if (claims.iat - skew > now) throw new ExpiryError('not_yet_valid', 'The request was issued in the future');
  if (now >= claims.exp + skew) throw new ExpiryError('expired', 'The request has expired');
}

/** What the wallet submitted (and the authenticated caller), to match against the claims. */
export interface SubmissionContext {
  sessionId: string;
  /** From the authenticated caller, never from the request body. */
  walletProviderId: string;
  walletAccountId: string;
  deviceId: string;
  nonce: string;
}

/**
 * Checks the binding: every identifier inside the encrypted claims equals
 * what was submitted, in this order: session, wallet provider, wallet
 * account, device, nonce. Codes: `session_mismatch`,
 * `wallet_provider_mismatch`, `wallet_account_mismatch`, `device_mismatch`,
 * `nonce_mismatch`. Step 13 ends with the device key:
 * {@link checkDeviceKeyBinding} (asynchronous), right after this.
 *
 * @example
 * ```ts
 * checkBinding(claims, { sessionId, walletProviderId: caller.id, walletAccountId, deviceId, nonce });
 * ```
 */
export function checkBinding(claims: RequestClaims, context: SubmissionContext): void {
  const pairs = [
    ['session_mismatch', claims.sid, context.sessionId],
    ['wallet_provider_mismatch', claims.walletProviderId, context.walletProviderId],
    ['wallet_account_mismatch', claims.walletAccountId, context.walletAccountId],
    ['device_mismatch', claims.deviceId, context.deviceId],
    ['nonce_mismatch', claims.nonce, context.nonce],
  ] as const;
  for (const [code, inside, submitted] of pairs) {
    if (!timingSafeEqual(inside, submitted)) throw new BindingError(code, `The submitted value does not match the encrypted request (${code})`);
  }
}

/**
 * The RFC 7638 thumbprint (SHA-256, base64url) of a device public key: the
 * `cnf.jkt` of a request bound to that key. Only the required members
 * (`crv`, `kty`, `x`, `y`) count: `kid`, `alg` and `use` do not change it.
 *
 * @example
 * ```ts
 * const jkt = await deviceKeyThumbprint(identifiers.devicePublicKey);
 * ```
 */
export function deviceKeyThumbprint(devicePublicKey: Pick<PublicEcJwk, 'kty' | 'crv' | 'x' | 'y'>): Promise<string> {
  const { kty, crv, x, y } = devicePublicKey;
  return calculateJwkThumbprint({ kty, crv, x, y }, 'sha256');
}

/**
 * Checks the device key binding (the end of step 13, after
 * {@link checkBinding}): the submission's `devicePublicKey` must be the key
 * the issuer bound into the claims as `cnf.jkt`. A key without `cnf`, a
 * `cnf` without a key, or a key of another thumbprint is refused with
 * `device_key_mismatch`, so access data (a new token, or one already issued
 * to this account and device) is only ever encrypted to the key the issuer
 * signed for. Asynchronous (the thumbprint is a SHA-256): await it.
 *
 * @example
 * ```ts
 * checkBinding(claims, context);
 * await checkDeviceKeyBinding(claims, submission.devicePublicKey);
 * ```
 */
export async function checkDeviceKeyBinding(claims: Pick<RequestClaims, 'cnf'>, devicePublicKey: PublicEcJwk | undefined): Promise<void> {
  const jkt = claims.cnf?.jkt;
  if (jkt === undefined && devicePublicKey === undefined) return;
  if (jkt === undefined) throw new BindingError('device_key_mismatch', 'The submission carries a device key the encrypted request does not name (device_key_mismatch)');
  if (devicePublicKey === undefined) throw new BindingError('device_key_mismatch', 'The encrypted request names a device key the submission does not carry (device_key_mismatch)');
  if (!timingSafeEqual(await deviceKeyThumbprint(devicePublicKey), jkt)) {
    throw new BindingError('device_key_mismatch', 'The submitted device key is not the one in the encrypted request (device_key_mismatch)');
  }
}

/** Input of {@link createRequestClaims}. */
export interface CreateRequestClaimsInput {
  issuerId: string;
  /** The token service id (`aud`). */
  audience: string;
  /** The session's identifiers as the wallet sent them. */
  identifiers: Pick<Identifiers, 'sessionId' | 'walletProviderId' | 'walletAccountId' | 'deviceId' | 'nonce'>;
  /**
   * The {@link deviceKeyThumbprint} of the identifiers' `devicePublicKey`,
   * when the wallet sent one: it becomes `cnf.jkt`. A request without it is
   * refused for a submission that carries a device key.
   */
  deviceKeyThumbprint?: string | undefined;
  card?: Card | undefined;
  accountRef?: string | undefined;
  /** The issuer's stable id of the card account: the claim `accountId`. */
  accountId?: string | undefined;
  cardArtUrl?: string | undefined;
  lifetimeSeconds?: number | undefined;
  clock?: Clock | undefined;
  random?: RandomSource | undefined;
}

/**
 * Builds the claims of a provisioning request, bound to the wallet's
 * identifiers (and, with `deviceKeyThumbprint`, its device key), with a
 * fresh `jti` and a short lifetime.
 *
 * @example
 * ```ts
 * const jkt = identifiers.devicePublicKey && (await deviceKeyThumbprint(identifiers.devicePublicKey));
 * const claims = createRequestClaims({ issuerId: 'bank-a', audience: 'ts', identifiers, deviceKeyThumbprint: jkt, card });
 * ```
 */
export function createRequestClaims(input: CreateRequestClaimsInput): RequestClaims {
  const iat = epochSeconds(input.clock ?? systemClock);
  const claims: RequestClaims = {
    iss: input.issuerId,
    aud: input.audience,
    iat,
    exp: iat + (input.lifetimeSeconds ?? DEFAULT_REQUEST_LIFETIME_SECONDS),
    jti: createJti(input.random ?? secureRandom),
    sid: input.identifiers.sessionId,
    walletProviderId: input.identifiers.walletProviderId,
    walletAccountId: input.identifiers.walletAccountId,
    deviceId: input.identifiers.deviceId,
    nonce: input.identifiers.nonce,
  };
  if (input.deviceKeyThumbprint !== undefined) claims.cnf = { jkt: input.deviceKeyThumbprint };
  if (input.card !== undefined) claims.card = input.card;
  if (input.accountRef !== undefined) claims.accountRef = input.accountRef;
  if (input.accountId !== undefined) claims.accountId = input.accountId;
  if (input.cardArtUrl !== undefined) claims.cardArtUrl = input.cardArtUrl;
  return claims;
}
