import {
  HttpError,
  type ProvisioningError,
  type RandomSource,
  createError,
  parseInvocation,
  parseProvisioningRequestMessage,
} from '@pushprov/protocol';
import { parseWith } from '@pushprov/protocol/internal';
import { zIssuerBackendRequest } from '../request/z-backend-request.js';
import type { ProvisioningRequestBuilder } from './create-provisioning-request-builder.js';
import { serveJsonPost } from './serve-json-post.js';

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
  type?: 'build-request' | 'sign-invocation' | 'sign-status-query' | 'list-accounts' | undefined;
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

/**
 * The issuer backend endpoint the app's `createBackendRequestSource` calls,
 * as a Fetch API handler `(Request) => Promise<Response>`.
 *
 * `POST` with `content-type: application/json` and one of:
 * - `{ type: 'build-request', version: 1, accountRef, identifiers }` →
 *   `200 { type: 'provisioning-request', version: 1, sessionId, encryptedRequest }`
 * - several accounts: `{ type: 'build-request', version: 1, accounts: [{ accountRef, accountId }], identifiers }` →
 *   `200 { type: 'provisioning-request', version: 1, sessionId, requests?, refusals? }` (one call for all;
 *   a card that cannot be built is a refusal, not an error)
 * - `{ type: 'sign-invocation', version: 1, accountRef, invocation }` (or `accountRefs` for an
 *   invocation with `accounts`) → `200` the invocation, signed.
 * - `{ type: 'sign-status-query', version: 1, query }` → `200` the status
 *   query, signed (only for the user's own accounts, builder `listAccounts`).
 * - `{ type: 'list-accounts', version: 1, walletProviderId }` →
 *   `200 { accounts: OfferedAccount[] }` (wallet-initiated provisioning).
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
  if (typeof options?.builder?.buildRequest !== 'function' || typeof options.authenticate !== 'function') {
    throw createError('configuration_invalid', 'builder and authenticate are required');
  }
  const allowSigning = options.allowInvocationSigning ?? true;
  return serveJsonPost({ ...options, signInMessage: 'Sign in to add a card to a wallet' }, async ({ text, maxBytes, user, request, callerCorrelationId, seen }) => {
    const body = parseWith(zIssuerBackendRequest, text, { name: 'issuer backend request', maxLength: maxBytes });
    seen.type = body.type;
    if (body.type === 'sign-status-query' || body.type === 'list-accounts') {
      const { builder } = options;
      if (builder.signStatusQuery === undefined || builder.listAccounts === undefined) throw new HttpError('not_found', 'Accounts are not listed here');
      if (body.type === 'list-accounts') return { accounts: await builder.listAccounts({ walletProviderId: body.walletProviderId, user }) };
      return builder.signStatusQuery({ query: body.query, user });
    }
    seen.sessionId = body.type === 'build-request' ? body.identifiers.sessionId : body.invocation.sessionId;
    if (body.type === 'build-request') {
      const message = await options.builder.buildRequest({
        accountRef: body.accountRef,
        accounts: body.accounts,
        identifiers: body.identifiers,
        user,
        signal: request.signal,
      });
      const parsed = parseProvisioningRequestMessage(message);
      // The attempt's correlation id rides along in the message (the session sets it too).
      return callerCorrelationId === undefined ? parsed : { ...parsed, correlationId: callerCorrelationId };
    }
    if (!allowSigning) throw new HttpError('not_found', 'Invocation signing is not served here');
    const signed = await options.builder.signInvocation({ accountRef: body.accountRef, accountRefs: body.accountRefs, invocation: body.invocation, user });
    return parseInvocation(signed);
  });
}
