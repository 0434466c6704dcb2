import {
  AuthError,
  HttpError,
  type ProvisioningError,
  type RandomSource,
  createCorrelationId,
  createError,
  createId,
  readBodyWithLimit,
  secureRandom,
  toProvisioningError,
  zCorrelationId,
} from '@pushprov/protocol';
import { createJsonResponse, createProblemResponse } from './problem-response.js';

/** What every JSON POST endpoint of the issuer backend shares. */
export interface JsonPostOptions<User> {
  authenticate: (request: Request) => User | null | undefined | Promise<User | null | undefined>;
  maxBodyBytes?: number | undefined;
  onError?: ((error: ProvisioningError, context: { requestId: string; correlationId: string }) => void) | undefined;
  /** Called once per request when it is answered (see `IssuerBackendLogEvent`). */
  log?(event: JsonPostLogEvent): void;
  random?: RandomSource | undefined;
  wwwAuthenticate?: string | undefined;
  /** The message of a `401` (what the user should do). */
  signInMessage: string;
}

/** One answered request, for the `log` hook. */
export interface JsonPostLogEvent {
  msg: 'request';
  requestId: string;
  correlationId: string;
  type?: string | undefined;
  sessionId?: string | undefined;
  status: number;
  code?: string | undefined;
  durationMs: number;
}

/** What `serve` may note for the request's log line. */
export interface JsonPostSeen {
  type?: string | undefined;
  sessionId?: string | undefined;
}

const JSON_TYPE = /^application\/json\s*(;\s*charset="?utf-8"?\s*)?$/i;

/**
 * The common part of the issuer backend's Fetch handlers, in order: method
 * (`405`), `authenticate` (`401`, before the body is read), content type
 * (`415`), size (`413`), then `serve` with the body text and the user. Every
 * error is problem details with its code, `no-store`; a `401` carries
 * `WWW-Authenticate`, a retryable `409`/`429`/`503` `Retry-After: 1`. The
 * correlation id: a valid `X-Correlation-Id` of the caller, or a new one; echoed
 * in the answer's header, in `onError` and `log`, and (the caller's only) in
 * problem details.
 */
export function serveJsonPost<User>(
  options: JsonPostOptions<User>,
  serve: (input: { text: string; maxBytes: number; user: User; request: Request; callerCorrelationId: string | undefined; seen: JsonPostSeen }) => Promise<unknown>,
): (request: Request) => Promise<Response> {
  const maxBytes = options.maxBodyBytes ?? 16_384;
  if (!Number.isInteger(maxBytes) || maxBytes < 1024 || maxBytes > 1_048_576) {
    throw createError('configuration_invalid', 'maxBodyBytes must be an integer from 1 024 to 1 048 576');
  }
  if (typeof options.authenticate !== 'function') throw createError('configuration_invalid', 'authenticate is required');
  const random = options.random ?? secureRandom;
  const challenge = options.wwwAuthenticate ?? 'Bearer';
  if (typeof challenge !== 'string' || !/^[\x21-\x7e][\x20-\x7e]{0,511}$/.test(challenge)) {
    throw createError('configuration_invalid', 'wwwAuthenticate must be a printable ASCII challenge such as Bearer');
  }
  const problemHeaders = (error: ProvisioningError): Record<string, string> => {
    const status = error.status >= 400 && error.status <= 599 ? error.status : 500;
    if (status === 401) return { 'www-authenticate': challenge };
    if (error.retryable && (status === 409 || status === 429 || status === 503)) return { 'retry-after': '1' };
    return {};
  };

  return async (request) => {
    const started = Date.now();
    const requestId = createId('req', random);
    const supplied = request.headers.get('x-correlation-id') ?? undefined;
    const callerCorrelationId = zCorrelationId.safeParse(supplied).success ? supplied : undefined;
    const correlationId = callerCorrelationId ?? createCorrelationId(random);
    const seen: JsonPostSeen = {};
    const answer = (response: Response, code?: string): Response => {
      response.headers.set('x-correlation-id', correlationId);
      try {
        options.log?.({ msg: 'request', requestId, correlationId, ...seen, status: response.status, code, durationMs: Math.max(0, Date.now() - started) });
      } catch {
        // A logging hook must not change the answer.
      }
      return response;
    };
    try {
      if (request.method !== 'POST') {
        const error = new HttpError('method_not_allowed', 'Only POST is served here');
        return answer(createProblemResponse(error, requestId, { allow: 'POST' }, callerCorrelationId), error.code);
      }
      let user: User | null | undefined;
      try {
        user = await options.authenticate(request);
      } catch (cause) {
        throw toProvisioningError(cause);
      }
      if (user === null || user === undefined) throw new AuthError('unauthenticated', options.signInMessage);
      if (!JSON_TYPE.test(request.headers.get('content-type') ?? '')) {
        throw new HttpError('unsupported_media_type', 'The body must be application/json');
      }
      const text = await readBodyWithLimit(request, maxBytes);
      return answer(createJsonResponse(await serve({ text, maxBytes, user, request, callerCorrelationId, seen }), requestId));
    } catch (thrown) {
      const error = toProvisioningError(thrown);
      try {
        options.onError?.(error, { requestId, correlationId });
      } catch {
        // A logging hook must not change the answer.
      }
      // The caller's correlation id in the problem details (a generated one is in the header only, as the token service does).
      return answer(createProblemResponse(error, requestId, problemHeaders(error), callerCorrelationId), error.code);
    }
  };
}
