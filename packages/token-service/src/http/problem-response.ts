import { ERROR_CATALOG, PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE, type ProblemDetails, type ProvisioningError, redactPans } from '@pushprov/protocol';

/**
 * The RFC 9457 problem details of an error: `type` is the problem type base
 * followed by the code; `title`, and by default `status` and `retryable`,
 * come from the error catalog; `detail` is the error's (already redacted)
 * message; schema issues (paths and reasons, never values) are added as
 * `issues`.
 *
 * @example
 * ```ts
 * toProblemDetails(createError('device_mismatch'), 'req_123'); // { type: '…/device_mismatch', status: 422, … }
 * ```
 */
export function toProblemDetails(error: ProvisioningError, requestId: string): ProblemDetails & { issues?: string[] } {
  const info = ERROR_CATALOG[error.code];
  const problem: ProblemDetails & { issues?: string[] } = {
    type: `${PROBLEM_TYPE_BASE}${error.code}`,
    title: info.title,
    status: error.status >= 400 && error.status <= 599 ? error.status : 500,
    code: error.code,
    retryable: error.retryable,
    requestId,
  };
  // Internal errors say nothing beyond their title.
  if (info.family !== 'internal') problem.detail = redactPans(error.message).slice(0, 1024);
  const issues = error.details?.issues;
  if (Array.isArray(issues) && info.family === 'schema') problem.issues = issues.slice(0, 8).map((i) => redactPans(String(i)).slice(0, 256));
  return problem;
}

/**
 * A `Response` carrying {@link toProblemDetails} as `application/problem+json`,
 * with `X-Request-Id`, and `WWW-Authenticate` on 401 and `Retry-After` on
 * retryable 409/429/503.
 *
 * @example
 * ```ts
 * return toProblemResponse(createError('not_found'), requestId);
 * ```
 */
export function toProblemResponse(error: ProvisioningError, requestId: string): Response {
  const problem = toProblemDetails(error, requestId);
  const headers = new Headers({ 'content-type': PROBLEM_CONTENT_TYPE, 'x-request-id': requestId, 'cache-control': 'no-store' });
  if (problem.status === 401) headers.set('www-authenticate', 'Bearer');
  if (problem.retryable && (problem.status === 409 || problem.status === 429 || problem.status === 503)) headers.set('retry-after', '1');
  return new Response(JSON.stringify(problem), { status: problem.status, headers });
}
