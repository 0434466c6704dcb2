import { PROBLEM_CONTENT_TYPE, type ProvisioningError, toProblemDetails } from '@pushprov/protocol';

/** Headers every answer of the issuer backend carries. */
export function baseHeaders(requestId: string, contentType: string): Headers {
  return new Headers({ 'content-type': contentType, 'cache-control': 'no-store', 'x-request-id': requestId });
}

/** An RFC 9457 problem details response carrying the error's code, never its cause; with the caller's correlation id when given. */
export function createProblemResponse(error: ProvisioningError, requestId: string, extraHeaders: Record<string, string> = {}, correlationId?: string): Response {
  const problem = toProblemDetails(error, requestId);
  if (correlationId === undefined) delete problem.correlationId;
  else problem.correlationId = correlationId;
  const headers = baseHeaders(requestId, PROBLEM_CONTENT_TYPE);
  for (const [name, value] of Object.entries(extraHeaders)) headers.set(name, value);
  return new Response(JSON.stringify(problem), { status: problem.status, headers });
}

/** A JSON success response. */
export function createJsonResponse(body: unknown, requestId: string): Response {
  return new Response(JSON.stringify(body), { status: 200, headers: baseHeaders(requestId, 'application/json') });
}
