import { type Clock, epochSeconds, systemClock } from '../clock.js';
import { BindingError, ExpiryError } from '../errors.js';
import { timingSafeEqual } from '../hash.js';
import { type RandomSource, createJti, secureRandom } from '../random.js';
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
  clock?: Clock;
  clockSkewSeconds?: number;
  maxLifetimeSeconds?: number;
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
 * `nonce_mismatch`.
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

/** Input of {@link createRequestClaims}. */
export interface CreateRequestClaimsInput {
  issuerId: string;
  /** The token service id (`aud`). */
  audience: string;
  /** The session's identifiers as the wallet sent them. */
  identifiers: Pick<Identifiers, 'sessionId' | 'walletProviderId' | 'walletAccountId' | 'deviceId' | 'nonce'>;
  card?: Card;
  accountRef?: string;
  cardArtUrl?: string;
  lifetimeSeconds?: number;
  clock?: Clock;
  random?: RandomSource;
}

/**
 * Builds the claims of a provisioning request, bound to the wallet's
 * identifiers, with a fresh `jti` and a short lifetime.
 *
 * @example
 * ```ts
 * const claims = createRequestClaims({ issuerId: 'bank-a', audience: 'ts', identifiers, card });
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
  if (input.card !== undefined) claims.card = input.card;
  if (input.accountRef !== undefined) claims.accountRef = input.accountRef;
  if (input.cardArtUrl !== undefined) claims.cardArtUrl = input.cardArtUrl;
  return claims;
}
