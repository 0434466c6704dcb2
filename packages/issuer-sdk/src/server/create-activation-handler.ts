import { HttpError, type ProvisioningError, type RandomSource, createError, isProvisioningError } from '@pushprov/protocol';
import { parseWith } from '@pushprov/protocol/internal';
import { zActivationBackendRequest } from '../request/z-backend-request.js';
import type { FetchHandler } from './create-issuer-backend-handler.js';
import type { IssuerTokenServiceClient } from './create-issuer-token-service-client.js';
import { serveJsonPost } from './serve-json-post.js';

/**
 * Says whether a token belongs to a card of the signed-in user. Look it up in
 * the bank's own records of which card each token was issued for (never in
 * anything the app or the wallet sent): return `false` for any other
 * token, and the answer is `404 not_found`, as for a token that does not exist.
 *
 * @example
 * ```ts
 * const ownsToken: TokenOwnership<User> = async ({ tokenReferenceId, user }) =>
 *   (await db.tokens.findOne({ tokenReferenceId }))?.customerId === user.id;
 * ```
 */
export type TokenOwnership<User> = (input: { tokenReferenceId: string; user: User; signal: AbortSignal }) => boolean | Promise<boolean>;

/**
 * Options of {@link createActivationHandler}.
 *
 * @example
 * ```ts
 * const options: ActivationHandlerOptions<User> = {
 *   tokenService: createIssuerTokenServiceClient({ issuerId: 'bank-a', signingKey, tokenService: { baseUrl, audience } }),
 *   authenticate: (request) => sessions.userFrom(request.headers.get('cookie')),
 *   ownsToken: ({ tokenReferenceId, user }) => db.tokens.isCustomers(tokenReferenceId, user.id),
 * };
 * ```
 */
export interface ActivationHandlerOptions<User> {
  /** The token service's issuer API (`createIssuerTokenServiceClient`). */
  tokenService: IssuerTokenServiceClient;
  /**
   * Authenticates the bank's customer from the request (session cookie,
   * bearer token): the identity comes from here, never from the body. Null
   * or undefined is `401 unauthenticated`. Runs before the body is read.
   */
  authenticate: (request: Request) => User | null | undefined | Promise<User | null | undefined>;
  /** Whether the token is for a card of this user: `false` is `404 not_found`. */
  ownsToken: TokenOwnership<User>;
  /** Largest request body, bytes. Default 16 384. */
  maxBodyBytes?: number;
  /** Called with every error answered, for logs (safe to log). */
  onError?: (error: ProvisioningError, context: { requestId: string }) => void;
  /** Called after each activation, for the bank's records and audit (ids only). */
  onActivated?: (event: { tokenReferenceId: string; user: User }) => void | Promise<void>;
  random?: RandomSource;
  /** The `WWW-Authenticate` challenge of a `401`. Default `Bearer`. */
  wwwAuthenticate?: string;
}

/**
 * The bank backend's endpoint for app-to-app activation (the `issuer_app`
 * verification method), as a Fetch handler `(Request) => Promise<Response>`.
 * The wallet opened the bank's app with the token reference; the app signed
 * its customer in and calls this endpoint (`createBackendRequestSource`'s
 * `activateToken` and `getTokenStatus`, with `activationUrl`).
 *
 * `POST`, `content-type: application/json`:
 * - `{ type: 'activate-token', version: 1, tokenReferenceId }` → `200` the
 *   token status, `active` (the token service's issuer API, method `issuer_app`);
 * - `{ type: 'token-status', version: 1, tokenReferenceId }` → `200` the token
 *   status, with its verification methods while pending.
 *
 * In order: method (`405`), `authenticate` (`401`), content type (`415`),
 * size (`413`), strict JSON and schema (`400`), `ownsToken` (`404
 * not_found`), then the token service call, whose codes pass through
 * (`token_not_pending`, `verification_method_unavailable`, `not_found`, …).
 * Errors are problem details; nothing is cached (`no-store`).
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { createActivationHandler, createIssuerTokenServiceClient } from '@pushprov/issuer-sdk/server';
 *
 * const activation = createActivationHandler({
 *   tokenService: createIssuerTokenServiceClient({ issuerId: 'bank-a', signingKey, tokenService: { baseUrl, audience: 'token-service.example' } }),
 *   authenticate: (request) => sessions.userFrom(request),
 *   ownsToken: ({ tokenReferenceId, user }) => db.tokens.isCustomers(tokenReferenceId, user.id),
 * });
 * const app = new Hono();
 * app.post('/api/token-activation', (c) => activation(c.req.raw));
 * ```
 */
export function createActivationHandler<User>(options: ActivationHandlerOptions<User>): FetchHandler {
  if (typeof options?.tokenService?.activateToken !== 'function' || typeof options.ownsToken !== 'function') {
    throw createError('configuration_invalid', 'tokenService, authenticate and ownsToken are required');
  }
  return serveJsonPost({ ...options, signInMessage: 'Sign in to confirm your card' }, async ({ text, maxBytes, user, request }) => {
    const body = parseWith(zActivationBackendRequest, text, { name: 'activation request', maxLength: maxBytes });
    const { tokenReferenceId } = body;
    let owned: boolean;
    try {
      owned = (await options.ownsToken({ tokenReferenceId, user, signal: request.signal })) === true;
    } catch (cause) {
      if (isProvisioningError(cause)) throw cause;
      throw createError('internal_error', 'The token ownership check failed', { cause });
    }
    // Not this user's, or no such token: the same answer, as at the token service.
    if (!owned) throw new HttpError('not_found', 'No such token for this user');
    if (body.type === 'token-status') return options.tokenService.getTokenStatus(tokenReferenceId, { signal: request.signal });
    const status = await options.tokenService.activateToken(tokenReferenceId, { method: 'issuer_app', signal: request.signal });
    try {
      await options.onActivated?.({ tokenReferenceId, user });
    } catch {
      // The token is active; a failing record hook must not turn that into an error.
    }
    return status;
  });
}
