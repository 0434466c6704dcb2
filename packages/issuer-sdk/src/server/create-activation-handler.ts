import {
  HttpError,
  type IssuerTokenStatusResponse,
  type ProvisioningError,
  type TokenStatusResponse,
  type RandomSource,
  createError,
  isProvisioningError,
  parseWith,
} from '@pushprov/protocol';
import { zActivationBackendRequest } from '../request/z-backend-request.js';
import type { FetchHandler } from './create-issuer-backend-handler.js';
import type { IssuerTokenServiceClient } from './create-issuer-token-service-client.js';
import { serveJsonPost } from './serve-json-post.js';

/**
 * Says whether a token belongs to a card of the signed-in user. Decide from
 * trusted data only, never from anything the app or the wallet sent: `token`
 * is the token's status as the token service's issuer API answered it
 * (`GET /v1/issuer/tokens/{id}`), with the account id it was provisioned for
 * (`accountId`: the request's `accountId` claim, else its `accountRef`) and
 * the card's last four digits (`panLast4`); or the bank's own records of
 * which card each token was issued for. Return `false` for any other token,
 * and the answer is `404 not_found`, as for a token that does not exist.
 *
 * @example
 * ```ts
 * const ownsToken: TokenOwnership<User> = async ({ token, user }) =>
 *   token.accountId !== undefined && (await db.accounts.findOne({ accountId: token.accountId }))?.customerId === user.id;
 * ```
 */
export type TokenOwnership<User> = (input: TokenOwnershipInput<User>) => boolean | Promise<boolean>;

/**
 * What {@link TokenOwnership} is asked about.
 *
 * @example
 * ```ts
 * const input: TokenOwnershipInput<User> = { tokenReferenceId: 'tok_123', user, token: status, signal };
 * ```
 */
export interface TokenOwnershipInput<User> {
  tokenReferenceId: string;
  /** The authenticated user (from `authenticate`). */
  user: User;
  /** The token as the token service's issuer API reads it: its `accountId`, `panLast4`, `walletProviderId` and `status`. */
  token: IssuerTokenStatusResponse;
  signal: AbortSignal;
}

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
  /**
   * Whether the token is for a card of this user, given the token's status
   * from the token service (its `accountId` and `panLast4`): `false` is
   * `404 not_found`.
   */
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
 * size (`413`), strict JSON and schema (`400`), the token's status from the
 * token service (`GET /v1/issuer/tokens/{id}`: `not_found` for no such
 * token or another issuer's), `ownsToken` given that status (`404
 * not_found`), then for `activate-token` the activation call. The token
 * service's codes pass through (`token_not_pending`,
 * `verification_method_unavailable`, `not_found`, …).
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
 *   ownsToken: ({ token, user }) => token.accountId !== undefined && user.accountIds.includes(token.accountId),
 * });
 * const app = new Hono();
 * app.post('/api/token-activation', (c) => activation(c.req.raw));
 * ```
 */
export function createActivationHandler<User>(options: ActivationHandlerOptions<User>): FetchHandler {
  if (
    typeof options?.tokenService?.activateToken !== 'function' ||
    typeof options.tokenService.getTokenStatus !== 'function' ||
    typeof options.ownsToken !== 'function'
  ) {
    throw createError('configuration_invalid', 'tokenService, authenticate and ownsToken are required');
  }
  return serveJsonPost({ ...options, signInMessage: 'Sign in to confirm your card' }, async ({ text, maxBytes, user, request }) => {
    const body = parseWith(zActivationBackendRequest, text, { name: 'activation request', maxLength: maxBytes });
    const { tokenReferenceId } = body;
    // The token as the token service has it (its account id and card digits): trusted data for ownsToken.
    const token = await options.tokenService.getTokenStatus(tokenReferenceId, { signal: request.signal });
    let owned: boolean;
    try {
      owned = (await options.ownsToken({ tokenReferenceId, user, token, signal: request.signal })) === true;
    } catch (cause) {
      if (isProvisioningError(cause)) throw cause;
      throw createError('internal_error', 'The token ownership check failed', { cause });
    }
    // Not this user's, or no such token: the same answer, as at the token service.
    if (!owned) throw new HttpError('not_found', 'No such token for this user');
    if (body.type === 'token-status') return tokenStatusForApp(token);
    const status = await options.tokenService.activateToken(tokenReferenceId, { method: 'issuer_app', signal: request.signal });
    try {
      await options.onActivated?.({ tokenReferenceId, user });
    } catch {
      // The token is active; a failing record hook must not turn that into an error.
    }
    return status;
  });
}

/** The token status the bank's app gets: what a wallet reads, without the issuer's account id and card digits. */
function tokenStatusForApp(token: IssuerTokenStatusResponse): TokenStatusResponse {
  const { walletProviderId: _wallet, panLast4: _last4, accountId: _account, ...status } = token;
  return status;
}
