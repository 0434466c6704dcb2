import { checkUrl, createBackendCaller } from '../request/create-backend-caller.js';
import type { BackendRequestSourceOptions } from '../request/create-backend-request-source.js';
import type { RequestContext } from '../request/provisioning-request-source.js';
import { type ListAccountsBody, type OfferedAccount, zListAccountsResponse } from '../request/z-backend-request.js';
import { parseWith } from '@pushprov/protocol/internal';

/**
 * Gets the cards the issuer backend offers the signed-in customer for a
 * wallet provider. Made by {@link createBackendAccountLister}.
 *
 * @example
 * ```ts
 * const accounts: OfferedAccount[] = await listAccounts('wallet-co');
 * ```
 */
export type BackendAccountLister = (walletProviderId: string, context?: Partial<RequestContext>) => Promise<OfferedAccount[]>;

/**
 * Asks the issuer backend (`createIssuerBackendHandler`, builder option
 * `listAccounts`) which cards it offers a wallet provider: it POSTs
 * `{ type: 'list-accounts', version: 1, walletProviderId }` and returns the
 * `accounts` of the answer, each `{ hint, accountRef }`: a `SessionAccount`
 * for `answerAccountsRequest`. Codes as the backend source's, plus the
 * backend's `wallet_provider_not_allowed`.
 *
 * @example
 * ```ts
 * const listAccounts = createBackendAccountLister({ url: '/api/push-provisioning', credentials: 'include' });
 * await answerAccountsRequest(wallet, { issuerId: 'bank-a', client: issuer, accounts: (r) => listAccounts(r.walletProviderId) });
 * ```
 */
export function createBackendAccountLister(options: BackendRequestSourceOptions): BackendAccountLister {
  checkUrl(options?.url);
  const call = createBackendCaller(options);
  return async (walletProviderId, context = {}) => {
    const body: ListAccountsBody = { type: 'list-accounts', version: 1, walletProviderId };
    const answer = await call(body, { signal: context.signal ?? new AbortController().signal, correlationId: context.correlationId }, (text) =>
      parseWith(zListAccountsResponse, text, { name: 'list accounts answer' }),
    );
    return answer.accounts;
  };
}
