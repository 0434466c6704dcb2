import { type TokenStatusResponse, createError, parseTokenStatusResponse } from '@pushprov/protocol';
import { checkUrl, createBackendCaller } from '../request/create-backend-caller.js';
import type { BackendRequestSourceOptions } from '../request/create-backend-request-source.js';
import type { RequestContext, TokenStatusSource } from '../request/provisioning-request-source.js';

/**
 * Options of {@link createBackendActivationSource}: as the backend request
 * source's, with `url` the bank backend's activation endpoint
 * (`createActivationHandler` in `@pushprov/issuer-sdk/server`).
 *
 * @example
 * ```ts
 * const options: BackendActivationSourceOptions = { url: '/api/token-activation', credentials: 'include' };
 * ```
 */
export type BackendActivationSourceOptions = BackendRequestSourceOptions;

/**
 * The bank's app side of the yellow path, made by {@link createBackendActivationSource}.
 *
 * @example
 * ```ts
 * const status = await activation.activateToken(tokenReferenceId, { signal: AbortSignal.timeout(15_000) });
 * ```
 */
export interface BackendActivationSource extends TokenStatusSource {
  /**
   * Asks the backend to activate a pending token of the signed-in customer:
   * the app-to-app (`issuer_app`) method, once the wallet opened the bank's
   * app with the token reference and the customer signed in. Resolves with
   * the token status, `active`. Codes from the backend: `unauthenticated`,
   * `not_found` (not this customer's token), `token_not_pending`,
   * `verification_method_unavailable`, and the transport codes.
   */
  activateToken(tokenReferenceId: string, context: RequestContext): Promise<TokenStatusResponse>;
}

/**
 * The bank's app talking to its backend's activation endpoint: reads a
 * token's status (its verification methods while pending: pass the source to
 * `createIssuerClient` as `tokenStatusSource`, and a session that ends
 * `pending_activation` shows them) and activates a token app-to-app. Posts
 * `{ type: 'token-status' | 'activate-token', version: 1, tokenReferenceId }`;
 * the answer must be a token status for that token. The same transport rules
 * as `createBackendRequestSource`: fresh auth headers per call, no
 * redirects, a timeout, typed errors.
 *
 * @example
 * ```ts
 * import { createBackendActivationSource } from '@pushprov/issuer-sdk/activation';
 *
 * const activation = createBackendActivationSource({ url: '/api/token-activation', credentials: 'include' });
 * const issuer = createIssuerClient({ issuerId: 'bank-a', requestSource: backend, tokenStatusSource: activation });
 * // Opened by the wallet for "Confirm in your bank's app", with the customer signed in:
 * await activation.activateToken(tokenReferenceIdFromTheLink, { signal: AbortSignal.timeout(15_000) });
 * ```
 */
export function createBackendActivationSource(options: BackendActivationSourceOptions): BackendActivationSource {
  checkUrl(options?.url);
  const call = createBackendCaller(options);
  const tokenCall = (type: 'activate-token' | 'token-status', tokenReferenceId: string, context: RequestContext) => {
    if (typeof tokenReferenceId !== 'string' || tokenReferenceId.length === 0) throw createError('invalid_message', 'A token reference id is required');
    const parse = (text: string): TokenStatusResponse => {
      const status = parseTokenStatusResponse(text);
      if (status.tokenReferenceId !== tokenReferenceId) throw createError('invalid_message', 'The backend answered for another token');
      return status;
    };
    return call({ type, version: 1, tokenReferenceId }, context, parse);
  };
  return {
    activateToken: (tokenReferenceId, context) => tokenCall('activate-token', tokenReferenceId, context),
    getTokenStatus: (tokenReferenceId, context) => tokenCall('token-status', tokenReferenceId, context),
  };
}
