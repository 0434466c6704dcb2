import {
  AuthError,
  HttpError,
  type ProvisioningError,
  type RandomSource,
  readBodyWithLimit,
  createCorrelationId,
  createError,
  createId,
  parseInvocation,
  parseProvisioningRequestMessage,
  parseWith,
  secureRandom,
  toProvisioningError,
  zCorrelationId,
} from '@pushprov/protocol';
import { zIssuerBackendRequest } from '../request/z-backend-request.js';
import type { ProvisioningRequestBuilder } from './create-provisioning-request-builder.js';
import { createJsonResponse, createProblemResponse } from './problem-response.js';

/**
 * Options of {@link createIssuerBackendHandler}.
 *
 * @example
 * ```ts
 * const options: IssuerBackendHandlerOptions<User> = {
 *   builder,
 *   authenticate: async (request) => sessions.userFrom(request.headers.get('cookie')),
 *   onError: (error, { requestId }) => logger.warn({ code: error.code, requestId }),
 * };
 * ```
 */
export interface IssuerBackendHandlerOptions<User> {
  /** Builds the requests (see `createProvisioningRequestBuilder`). */
  builder: ProvisioningRequestBuilder<User>;
  /**
   * Authenticates the app's user from the request (session cookie, bearer
   * token, …). Return null or undefined when there is none: the answer is
   * `401 unauthenticated`. Runs before the body is read, and must not read
   * it (use headers and cookies).
   */
  authenticate: (request: Request) => User | null | undefined | Promise<User | null | undefined>;
  /** Largest request body, bytes. Default 16 384. */
  maxBodyBytes?: number;
  /** Serve `sign-invocation` bodies. Default true. */
  allowInvocationSigning?: boolean;
  /** Called with every error answered, for logs. The error is safe to log: its message and details never hold card data. */
  onError?: (error: ProvisioningError, context: { requestId: string; correlationId: string }) => void;
  /**
   * Called once per request when it is answered, with one log event (see
   * {@link IssuerBackendLogEvent}): hand it to your logger. It never holds
   * card data, an account reference or a credential.
   */
  log?: (event: IssuerBackendLogEvent) => void;
  /** The randomness of request ids. */
  random?: RandomSource;
  /**
   * The `WWW-Authenticate` challenge of `401 unauthenticated` answers (RFC 9110
   * 11.6.1 requires one), naming how `authenticate` expects the app to sign
   * in. Default `Bearer`.
   */
  wwwAuthenticate?: string;
}

/**
 * One request the issuer backend handler answered, for its `log` hook.
 *
 * @example
 * ```ts
 * const log = (event: IssuerBackendLogEvent) => logger.info(event);
 * // { msg: 'request', requestId: 'req_…', correlationId: 'cor_…', type: 'build-request', status: 200, durationMs: 12 }
 * ```
 */
export interface IssuerBackendLogEvent {
  msg: 'request';
  requestId: string;
  /** The caller's `X-Correlation-Id` when valid (the issuer SDK's session sends it), else a new `cor_…`. */
  correlationId: string;
  /** The body's type, once it parsed. */
  type?: 'build-request' | 'sign-invocation' | undefined;
  /** The session the body is for, once it parsed. */
  sessionId?: string | undefined;
  status: number;
  /** The protocol error code of an error answer. */
  code?: string | undefined;
  durationMs: number;
}

/**
 * A Fetch API handler: mounts in Hono, Next.js route handlers, Deno, Bun, workers, or Node through an adapter.
 *
 * @example
 * ```ts
 * const handler: FetchHandler = createIssuerBackendHandler({ builder, authenticate });
 * export const POST = handler; // a Next.js route handler
 * ```
 */
export type FetchHandler = (request: Request) => Promise<Response>;

const JSON_TYPE = /^application\/json\s*(;\s*charset="?utf-8"?\s*)?$/i;
/**
 * The issuer backend endpoint the app's `createBackendRequestSource` calls,
 * as a Fetch API handler `(Request) => Promise<Response>`.
 *
 * `POST` with `content-type: application/json` and one of:
 * - `{ type: 'build-request', version: 1, accountRef, identifiers }` →
 *   `200 { type: 'provisioning-request', version: 1, sessionId, encryptedRequest }`
 * - `{ type: 'sign-invocation', version: 1, accountRef, invocation }` →
 *   `200` the invocation, signed.
 *
 * In order: method (`405 method_not_allowed`), `authenticate` (`401 unauthenticated`), content
 * type (`415`), size (`413`), strict JSON and schema (`400`), then the
 * builder's checks. Every error is `application/problem+json` with the
 * protocol code; answers never hold card data and are `no-store`. As the
 * token service does, a `401` carries `WWW-Authenticate` (`wwwAuthenticate`,
 * default `Bearer`), and a retryable `409`, `429` or `503` (the token
 * service's keys could not be fetched: `network_error`) carries
 * `Retry-After: 1`.
 *
 * The correlation id: a valid `X-Correlation-Id` of the caller (1-128 of
 * `[A-Za-z0-9._-]`, no run of 12 digits; the issuer SDK's session sends
 * one) is echoed in the answer's `X-Correlation-Id`, passed to `onError`
 * and `log`, and put in problem details as `correlationId`; otherwise a
 * new `cor_…` one is made for the header and the hooks.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { createIssuerBackendHandler } from '@pushprov/issuer-sdk/server';
 *
 * const handler = createIssuerBackendHandler({ builder, authenticate: (request) => sessions.userFrom(request) });
 * const app = new Hono();
 * app.post('/api/push-provisioning', (c) => handler(c.req.raw));
 * // Node's http, through @hono/node-server: createServer(getRequestListener(handler))
 * ```
 */
export function createIssuerBackendHandler<User>(options: IssuerBackendHandlerOptions<User>): FetchHandler {
  const maxBytes = options.maxBodyBytes ?? 16_384;
  if (!Number.isInteger(maxBytes) || maxBytes < 1024 || maxBytes > 1_048_576) {
    throw createError('configuration_invalid', 'maxBodyBytes must be an integer from 1 024 to 1 048 576');
  }
  if (typeof options.builder?.buildRequest !== 'function' || typeof options.authenticate !== 'function') {
    throw createError('configuration_invalid', 'builder and authenticate are required');
  }
  const allowSigning = options.allowInvocationSigning ?? true;
  const random = options.random ?? secureRandom;
  const challenge = options.wwwAuthenticate ?? 'Bearer';
  if (typeof challenge !== 'string' || !/^[\x21-\x7e][\x20-\x7e]{0,511}$/.test(challenge)) {
    throw createError('configuration_invalid', 'wwwAuthenticate must be a printable ASCII challenge such as Bearer');
  }
  /** The headers the token service's problem answers carry too: a 401's challenge, and when to retry a retryable 409/429/503. */
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
    const seen: Pick<IssuerBackendLogEvent, 'type' | 'sessionId'> = {};
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
      if (user === null || user === undefined) throw new AuthError('unauthenticated', 'Sign in to add a card to a wallet');
      if (!JSON_TYPE.test(request.headers.get('content-type') ?? '')) {
        throw new HttpError('unsupported_media_type', 'The body must be application/json');
      }
      const body = parseWith(zIssuerBackendRequest, await readBodyWithLimit(request, maxBytes), { name: 'issuer backend request', maxLength: maxBytes });
      seen.type = body.type;
      seen.sessionId = body.type === 'build-request' ? body.identifiers.sessionId : body.invocation.sessionId;
      if (body.type === 'build-request') {
        const message = await options.builder.buildRequest({ accountRef: body.accountRef, identifiers: body.identifiers, user, signal: request.signal });
        const parsed = parseProvisioningRequestMessage(message);
        // The attempt's correlation id rides along in the message (the session sets it too).
        return answer(createJsonResponse(callerCorrelationId === undefined ? parsed : { ...parsed, correlationId: callerCorrelationId }, requestId));
      }
      if (!allowSigning) throw new HttpError('not_found', 'Invocation signing is not served here');
      const signed = await options.builder.signInvocation({ accountRef: body.accountRef, invocation: body.invocation, user });
      return answer(createJsonResponse(parseInvocation(signed), requestId));
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
