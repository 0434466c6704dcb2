import {
  AuthError,
  type Clock,
  HttpError,
  InternalError,
  type SigningKeyHandle,
  type StatusQuery,
  isProvisioningError,
  signStatusQuery,
} from '@pushprov/protocol';
import { parseWith } from '@pushprov/protocol/internal';
import { checkSignable } from './check-signable.js';
import { type OfferedAccount, type SignStatusQueryBody, zListAccountsResponse } from '../request/z-backend-request.js';

/**
 * Lists the cards of the authenticated user that the backend offers: to a
 * wallet that asks (`list-accounts`), and as the only accounts a status
 * query may name (`sign-status-query`).
 *
 * @example
 * ```ts
 * const listAccounts: AccountLister<User> = async (user) =>
 *   (await db.cards.forUser(user.id)).map((c) => ({ hint: { last4: c.last4, network: c.network, accountId: c.accountId }, accountRef: c.ref }));
 * ```
 */
export type AccountLister<User> = (user: User) => readonly OfferedAccount[] | Promise<readonly OfferedAccount[]>;

/**
 * Input of {@link ProvisioningRequestBuilder.signStatusQuery}.
 *
 * @example
 * ```ts
 * const signed = await builder.signStatusQuery({ query, user } satisfies SignStatusQueryInput<User>);
 * ```
 */
export interface SignStatusQueryInput<User> {
  /** The unsigned query, as the app sent it. */
  query: SignStatusQueryBody['query'];
  user: User;
}

/**
 * Input of {@link ProvisioningRequestBuilder.listAccounts}.
 *
 * @example
 * ```ts
 * const accounts = await builder.listAccounts({ walletProviderId: 'wallet-co', user } satisfies ListAccountsInput<User>);
 * ```
 */
export interface ListAccountsInput<User> {
  walletProviderId: string;
  user: User;
}

/** The longest status query lifetime the backend signs, seconds. */
export const MAX_STATUS_QUERY_LIFETIME_SECONDS = 300;

/** The builder's status query and account listing methods. @internal */
export function offerMethods<User>(deps: {
  issuerId: string;
  signingKey: SigningKeyHandle;
  listAccounts: AccountLister<User> | undefined;
  allowedWalletProviders: ReadonlySet<string>;
  allowedReplyTo: readonly string[] | undefined;
  clock: Clock;
  skewSeconds: number;
}) {
  async function accountsOf(user: User): Promise<OfferedAccount[]> {
    if (deps.listAccounts === undefined) throw new HttpError('not_found', 'This backend lists no accounts (no listAccounts)');
    let listed: unknown;
    try {
      listed = await deps.listAccounts(user);
    } catch (cause) {
      if (isProvisioningError(cause)) throw cause;
      throw new InternalError('internal_error', 'The account listing failed', { cause });
    }
    try {
      return parseWith(zListAccountsResponse, { accounts: listed }, { name: 'listed accounts' }).accounts;
    } catch (cause) {
      throw new InternalError('internal_error', 'listAccounts must return { hint (with accountId), accountRef } entries', { cause });
    }
  }

  return {
    async signStatusQuery(input: SignStatusQueryInput<User>): Promise<StatusQuery> {
      const { query } = input;
      if (query.issuerId !== deps.issuerId) throw new AuthError('forbidden', 'The status query names another issuer');
      checkSignable(query, { what: 'status query', maxLifetimeSeconds: MAX_STATUS_QUERY_LIFETIME_SECONDS, skewSeconds: deps.skewSeconds, clock: deps.clock, allowedReplyTo: deps.allowedReplyTo });
      const own = new Set((await accountsOf(input.user)).map((a) => a.hint.accountId));
      // Never sign a question about someone else's card: the answer would tell this user whether it is in their wallet.
      if (!query.accountIds.every((id) => own.has(id))) throw new AuthError('forbidden', 'The status query names an account that is not this user’s');
      return signStatusQuery(query, deps.signingKey);
    },

    async listAccounts(input: ListAccountsInput<User>): Promise<OfferedAccount[]> {
      if (!deps.allowedWalletProviders.has(input.walletProviderId)) {
        throw new AuthError('wallet_provider_not_allowed', 'This issuer does not provision its cards to that wallet provider');
      }
      return accountsOf(input.user);
    },
  };
}
