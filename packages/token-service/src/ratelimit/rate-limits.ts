// The service's own rate limits (docs/protocol.md sections 6 and 7), over
// the store's atomic counter (`store.limits.hit`), so they hold in total
// across every instance sharing the store:
//
//   wallet provider  walletProviders[].rateLimit.perMinute   right after step 1 (authentication), before any decryption
//   issuer           issuers[].rateLimit.perMinute           after step 12 (the issuer is known and the request authentic and fresh)
//   card             issuers[].rateLimit.perCardPerDay       at the end of step 14 (the card is known), by its fingerprint
//
// A refusal is `429 rate_limited` (retryable) with `Retry-After`, and writes
// nothing else: the request's idempotency entry is released, its `jti` stays
// unused. Windows are fixed: minutes since the epoch, UTC days.
import { type Clock, HttpError } from '@pushprov/protocol';
import type { IssuerConfig, WalletProviderConfig } from '../config/parse-config.js';
import { sha256Hex } from '../lib/hash.js';
import type { TokenServiceStore } from '../store/types.js';

/** A minute, ms: the window of the per-minute limits. */
export const MINUTE_MS = 60_000;
/** A day, ms: the window of the per-card limit (00:00 to 24:00 UTC). */
export const DAY_MS = 86_400_000;

/** The codes the rate limits answer with. */
export const RATE_LIMIT_CODES = ['rate_limited'] as const;

/**
 * `429 rate_limited`, carrying how long until the window ends: the HTTP
 * layer sends it as `Retry-After` (whole seconds, rounded up).
 *
 * @example
 * ```ts
 * if (error instanceof RateLimitedError) response.headers.set('retry-after', String(error.retryAfterSeconds));
 * ```
 */
export class RateLimitedError extends HttpError {
  /** Whole seconds until the limit's window ends (at least 1). */
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterMs: number) {
    super('rate_limited', message);
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  }
}

/** The counter key of a wallet provider (party ids never hold `:`). */
export const walletProviderLimitKey = (walletProviderId: string): string => `wp:${walletProviderId}`;
/** The counter key of an issuer. */
export const issuerLimitKey = (issuerId: string): string => `issuer:${issuerId}`;
/**
 * The counter key of a card: a SHA-256 of its PAN fingerprint (itself an
 * HMAC under the service's fingerprint key), so the counters hold neither
 * the PAN nor a value that matches the vault's fingerprint column.
 */
export const cardLimitKey = (panFingerprint: string): string => `card:${sha256Hex(`pushprov/rate-limit/card/v1\u0000${panFingerprint}`)}`;

async function hit(store: TokenServiceStore, clock: Clock, key: string, windowMs: number, limit: number, message: string): Promise<void> {
  const outcome = await store.limits.hit({ key, windowMs, limit, nowMs: Math.floor(clock.now()) });
  if (!outcome.allowed) throw new RateLimitedError(message, outcome.retryAfterMs);
}

/** The wallet provider's limit (none configured: no store call). */
export async function checkWalletProviderLimit(store: TokenServiceStore, clock: Clock, provider: WalletProviderConfig | undefined): Promise<void> {
  const perMinute = provider?.rateLimit?.perMinute;
  if (provider === undefined || perMinute === undefined) return;
  await hit(store, clock, walletProviderLimitKey(provider.id), MINUTE_MS, perMinute, 'Too many provisioning requests from this wallet provider; retry after the time given');
}

/** The issuer's limit (none configured: no store call). */
export async function checkIssuerLimit(store: TokenServiceStore, clock: Clock, issuer: IssuerConfig): Promise<void> {
  const perMinute = issuer.rateLimit?.perMinute;
  if (perMinute === undefined) return;
  await hit(store, clock, issuerLimitKey(issuer.id), MINUTE_MS, perMinute, "Too many provisioning requests for this issuer's cards; retry after the time given");
}

/** The per-card limit of the card's issuer (none configured: no store call). */
export async function checkCardLimit(store: TokenServiceStore, clock: Clock, issuer: IssuerConfig, panFingerprint: string): Promise<void> {
  const perDay = issuer.rateLimit?.perCardPerDay;
  if (perDay === undefined) return;
  await hit(store, clock, cardLimitKey(panFingerprint), DAY_MS, perDay, 'Too many provisioning attempts for this card today; retry after the time given');
}
