/**
 * The checks on answers both HTTP suites share: `X-Request-Id`, and the
 * problem details rules of protocol sections 4.10 and 7.
 */
import { ERROR_CATALOG, type ErrorCode, isErrorCode, parseProblemDetails } from '@pushprov/protocol';
import { CheckFailure, check } from './check.js';
import { type HttpAnswer, jsonOf } from './http.js';

/** `METHOD path` of an answer, for messages. */
export const where = (answer: HttpAnswer): string => `${answer.method} ${new URL(answer.url).pathname}`;

/** A short account of an answer: status, code and the headers that matter. */
export function describe(answer: HttpAnswer): string {
  const body = jsonOf(answer) as { code?: unknown } | undefined;
  const code = typeof body?.code === 'string' ? ` ${body.code}` : '';
  return `${answer.status}${code} (${where(answer)}, content-type ${answer.headers.get('content-type') ?? 'none'})`;
}

/** What every answer carries: `X-Request-Id` (protocol section 7). */
export function checkEveryAnswer(answer: HttpAnswer): void {
  check(!!answer.headers.get('x-request-id'), `an X-Request-Id header on the answer to ${where(answer)}`, 'no X-Request-Id header');
}

/**
 * An error answer with `code`: the catalog's status, RFC 9457 problem
 * details (`application/problem+json`, the code, the status, `requestId`
 * equal to `X-Request-Id`), `Cache-Control: no-store`, `WWW-Authenticate` on
 * a 401, `Retry-After` on a retryable 409/429/503.
 */
export function checkProblem(answer: HttpAnswer, code: ErrorCode): void {
  const status = ERROR_CATALOG[code].status;
  const body = jsonOf(answer) as Record<string, unknown> | undefined;
  const gotCode = typeof body?.code === 'string' ? body.code : undefined;
  if (answer.status !== status || gotCode !== code) {
    throw new CheckFailure(`${status} ${code} (${where(answer)})`, `${answer.status} ${gotCode ?? `(no code; body ${JSON.stringify(answer.text.slice(0, 200))})`}`, code);
  }
  checkProblemShape(answer);
}

/** The problem details rules every error answer follows, whatever its code. */
export function checkProblemShape(answer: HttpAnswer): void {
  checkEveryAnswer(answer);
  const type = answer.headers.get('content-type') ?? '';
  const body = jsonOf(answer) as Record<string, unknown> | undefined;
  const code = typeof body?.code === 'string' ? body.code : undefined;
  check(/^application\/problem\+json\s*(;|$)/i.test(type), `Content-Type application/problem+json on ${where(answer)}`, `Content-Type ${type || 'none'}`, code);
  try {
    parseProblemDetails(answer.text);
  } catch (error) {
    throw new CheckFailure('RFC 9457 problem details with a catalog code (protocol section 4.10)', `${(error as Error).message}: ${answer.text.slice(0, 300)}`, code);
  }
  check(code !== undefined && isErrorCode(code), 'a problem code of the catalog (protocol section 8)', String(code), code);
  check(body?.status === answer.status, `the problem's status ${answer.status} (the HTTP status)`, String(body?.status), code);
  const requestId = answer.headers.get('x-request-id');
  check(typeof body?.requestId === 'string' && body.requestId === requestId, `the problem's requestId equal to X-Request-Id (${requestId})`, String(body?.requestId), code);
  check(/(^|,)\s*no-store\s*(,|$)/i.test(answer.headers.get('cache-control') ?? ''), `Cache-Control: no-store on the error answer to ${where(answer)}`, `Cache-Control ${answer.headers.get('cache-control') ?? 'none'}`, code);
  if (answer.status === 401) {
    check(!!answer.headers.get('www-authenticate'), 'a WWW-Authenticate header on a 401 (protocol section 7)', 'no WWW-Authenticate header', code);
  }
  if (code !== undefined && isErrorCode(code) && ERROR_CATALOG[code].retryable && [409, 429, 503].includes(answer.status)) {
    check(/^\d+$/.test(answer.headers.get('retry-after') ?? ''), `a Retry-After header (seconds) on a retryable ${answer.status}`, `Retry-After ${answer.headers.get('retry-after') ?? 'none'}`, code);
  }
}
