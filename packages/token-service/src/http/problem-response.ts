import { PROBLEM_CONTENT_TYPE, type ProvisioningError, toProblemDetails } from '@pushprov/protocol';
import { VerificationCooldownError } from '../activation/otp.js';
import { RateLimitedError } from '../ratelimit/rate-limits.js';

export { toProblemDetails };


/**
 * A `Response` carrying {@link toProblemDetails} as `application/problem+json`,
 * with `X-Request-Id`, any `extraHeaders` (such as `Allow` on 405), and `WWW-Authenticate` on 401 and `Retry-After` on
 * retryable 409/429/503: 1 second, or for a {@link RateLimitedError} the seconds until its window ends
 * (for a `VerificationCooldownError`, until the method's `resendAfter`).
 *
 * @example
 * ```ts
 * return toProblemResponse(createError('not_found'), requestId);
 * ```
 */
export function toProblemResponse(error: ProvisioningError, requestId: string, extraHeaders: Record<string, string> = {}): Response {
  const problem = toProblemDetails(error, requestId);
  const headers = new Headers({ ...extraHeaders, 'content-type': PROBLEM_CONTENT_TYPE, 'x-request-id': requestId, 'cache-control': 'no-store' });
  if (problem.status === 401) headers.set('www-authenticate', 'Bearer');
  if (problem.retryable && (problem.status === 409 || problem.status === 429 || problem.status === 503)) {
    const seconds = error instanceof RateLimitedError || error instanceof VerificationCooldownError ? error.retryAfterSeconds : 1;
    headers.set('retry-after', String(seconds));
  }
  return new Response(JSON.stringify(problem), { status: problem.status, headers });
}
