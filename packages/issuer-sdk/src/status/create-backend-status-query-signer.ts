import { parseStatusQuery } from '@pushprov/protocol';
import { checkUrl, createBackendCaller } from '../request/create-backend-caller.js';
import type { BackendRequestSourceOptions } from '../request/create-backend-request-source.js';
import type { SignStatusQueryBody } from '../request/z-backend-request.js';
import type { StatusQuerySigner } from './query-status.js';

/**
 * A {@link StatusQuerySigner} that asks the issuer backend to sign: it POSTs
 * `{ type: 'sign-status-query', version: 1, query }` to the endpoint of
 * `createIssuerBackendHandler` (the same url and options as
 * `createBackendRequestSource`), which signs only for the signed-in user's
 * own accounts (builder option `listAccounts`; otherwise `forbidden`).
 * Failures are typed as the backend source's are.
 *
 * @example
 * ```ts
 * const signer = createBackendStatusQuerySigner({
 *   url: '/api/push-provisioning',
 *   getAuthHeaders: async () => ({ authorization: `Bearer ${await auth.accessToken()}` }),
 * });
 * const states = await queryStatus(wallet, { issuerId: 'bank-a', accountIds: ['acct_1'], signer });
 * ```
 */
export function createBackendStatusQuerySigner(options: BackendRequestSourceOptions): StatusQuerySigner {
  checkUrl(options?.url);
  const call = createBackendCaller(options);
  return (query, context) => {
    const body: SignStatusQueryBody = { type: 'sign-status-query', version: 1, query };
    return call(body, context, parseStatusQuery);
  };
}
