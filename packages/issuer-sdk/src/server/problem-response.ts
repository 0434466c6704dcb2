import { ERROR_CATALOG, PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE, type ProblemDetails, type ProvisioningError } from '@pushprov/protocol';

/** Headers every answer of the issuer backend carries. */
export function baseHeaders(requestId: string, contentType: string): Headers {
  return new Headers({ 'content-type': contentType, 'cache-control': 'no-store', 'x-request-id': requestId });
}

/** An RFC 9457 problem details response carrying the error's code, never its cause. */
export function createProblemResponse(error: ProvisioningError, requestId: string, extraHeaders: Record<string, string> = {}): Response {
  const problem: ProblemDetails = {
    type: `${PROBLEM_TYPE_BASE}${error.code}`,
    title: ERROR_CATALOG[error.code].title,
    status: error.status,
    detail: error.message,
    code: error.code,
    retryable: error.retryable,
    requestId,
  };
  const headers = baseHeaders(requestId, PROBLEM_CONTENT_TYPE);
  for (const [name, value] of Object.entries(extraHeaders)) headers.set(name, value);
  return new Response(JSON.stringify(problem), { status: error.status, headers });
}

/** A JSON success response. */
export function createJsonResponse(body: unknown, requestId: string): Response {
  return new Response(JSON.stringify(body), { status: 200, headers: baseHeaders(requestId, 'application/json') });
}
