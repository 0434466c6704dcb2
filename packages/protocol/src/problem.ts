import { ERROR_CATALOG, type ErrorCode, type ProvisioningError, createError, redactPans } from './errors.js';
import { parseProblemDetails } from './schemas/index.js';
import { PROBLEM_TYPE_BASE, type ProblemDetails } from './schemas/z-problem.js';

/** Problem details as servers of this protocol send them: schema failures add their issue paths. */
export type ProblemDetailsBody = ProblemDetails & { issues?: string[] };

/**
 * The RFC 9457 problem details of an error: `type` is {@link PROBLEM_TYPE_BASE}
 * followed by the code; `title` comes from the catalog; `status`, `retryable`
 * and `code` from the error; `correlationId` the error's, when it has one; `detail` is its (redacted) message, except for
 * internal errors, which say nothing beyond their title; schema errors add
 * their issues (paths and reasons, never values); `verification_code_invalid`
 * adds `attemptsLeft` from the error's details.
 *
 * @example
 * ```ts
 * const body = toProblemDetails(createError('device_mismatch'), 'req_123');
 * body.status; // 422
 * ```
 */
export function toProblemDetails(error: ProvisioningError, requestId?: string): ProblemDetailsBody {
  const info = ERROR_CATALOG[error.code];
  const problem: ProblemDetailsBody = {
    type: `${PROBLEM_TYPE_BASE}${error.code}`,
    title: info.title,
    status: error.status >= 400 && error.status <= 599 ? error.status : 500,
    code: error.code,
    retryable: error.retryable,
  };
  if (requestId !== undefined) problem.requestId = requestId;
  if (error.correlationId !== undefined) problem.correlationId = error.correlationId;
  if (info.family !== 'internal') problem.detail = redactPans(error.message).slice(0, 1024);
  const issues = error.details?.issues;
  if (Array.isArray(issues) && info.family === 'schema') problem.issues = issues.slice(0, 8).map((i) => redactPans(String(i)).slice(0, 256));
  const attemptsLeft = error.details?.attemptsLeft;
  if (error.code === 'verification_code_invalid' && typeof attemptsLeft === 'number' && Number.isInteger(attemptsLeft) && attemptsLeft >= 0 && attemptsLeft <= 100) {
    problem.attemptsLeft = attemptsLeft;
  }
  return problem;
}

const CODE_BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'invalid_message',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

/** Input of {@link errorFromHttpResponse}. */
export interface HttpErrorResponse {
  status: number;
  /** The `Content-Type` header, or null. */
  contentType: string | null;
  /** The body text (already size-limited by the caller). */
  body: string;
  /** The `X-Request-Id` header, used when the body has none. */
  requestId?: string | undefined;
  /** The `X-Correlation-Id` header, used when the body has none. */
  correlationId?: string | undefined;
  /** Who answered, for the message: "the token service", "the issuer backend". */
  peer?: string;
}

/**
 * Turns a failed HTTP answer into the typed error it carries: problem details
 * keep their code, detail and request id (and `attemptsLeft`, as
 * `error.details.attemptsLeft`); anything else gets a code by status
 * (5xx → `server_error`, retryable; an unknown 4xx → `invalid_message`).
 *
 * @example
 * ```ts
 * const error = errorFromHttpResponse({ status: res.status, contentType: res.headers.get('content-type'), body: await res.text() });
 * ```
 */
export function errorFromHttpResponse(response: HttpErrorResponse): ProvisioningError {
  const { status } = response;
  if (/^application\/(problem\+)?json\b/i.test(response.contentType ?? '')) {
    try {
      const problem = parseProblemDetails(response.body);
      return createError(problem.code as ErrorCode, problem.detail ?? problem.title, {
        status,
        retryable: problem.retryable,
        requestId: problem.requestId ?? response.requestId,
        correlationId: problem.correlationId ?? response.correlationId,
        ...(problem.attemptsLeft === undefined ? {} : { details: { attemptsLeft: problem.attemptsLeft } }),
      });
    } catch {
      // Not problem details: fall back to the status.
    }
  }
  const code = CODE_BY_STATUS[status] ?? (status >= 500 ? 'server_error' : 'invalid_message');
  return createError(code, `${response.peer ?? 'The server'} answered ${status}`, { status, requestId: response.requestId, correlationId: response.correlationId });
}
