import { MAX_SESSION_ACCOUNTS, zAccountHint, zIdentifiers, zInvocation, zOpaqueId, zPartyId, zStatusQuery, zVersion } from '@pushprov/protocol';
import * as z from 'zod/mini';

const distinct = (ids: readonly string[]) => new Set(ids).size === ids.length;
const exactlyOne = (a: unknown, b: unknown) => (a === undefined) !== (b === undefined);

/**
 * One picked account of a several-account `build-request`: the issuer's
 * reference and the id the invocation showed for it.
 *
 * @example
 * ```ts
 * const account: BuildRequestAccount = { accountRef: 'acc_8f2c', accountId: 'acct_1' };
 * ```
 */
export const zBuildRequestAccount = z.strictObject({ accountRef: zOpaqueId, accountId: zOpaqueId });
/**
 * One picked account of a several-account `build-request`.
 *
 * @example
 * ```ts
 * const account: BuildRequestAccount = { accountRef: 'acc_8f2c', accountId: 'acct_1' };
 * ```
 */
export type BuildRequestAccount = z.infer<typeof zBuildRequestAccount>;

/**
 * Body of `POST` to the issuer backend asking it to build the encrypted
 * provisioning request for an account (`accountRef`), or for several
 * (`accounts`, 1 to 8, no accountId twice: one message with `requests` and
 * `refusals`), and the wallet's identifiers. Exactly one of the two.
 *
 * @example
 * ```ts
 * const body = parseWith(zBuildRequestBody, await request.text(), { name: 'build request' });
 * ```
 */
export const zBuildRequestBody = z
  .strictObject({
    type: z.literal('build-request'),
    version: zVersion,
    /** The issuer's reference to the account the user picked (one-account form). */
    accountRef: z.optional(zOpaqueId),
    /** The accounts the user picked (several-account form), in invocation order. */
    accounts: z.optional(z.array(zBuildRequestAccount).check(z.minLength(1), z.maxLength(MAX_SESSION_ACCOUNTS))),
    /** The identifiers the wallet answered with. */
    identifiers: zIdentifiers,
  })
  .check(
    z.refine((b) => exactlyOne(b.accountRef, b.accounts), { message: 'exactly one of accountRef and accounts', path: ['accountRef'] }),
    z.refine((b) => b.accounts === undefined || distinct(b.accounts.map((a) => a.accountId)), {
      message: 'accounts must not name an accountId twice',
      path: ['accounts'],
    }),
  );
/**
 * Body asking the issuer backend to build a provisioning request.
 *
 * @example
 * ```ts
 * const body: BuildRequestBody = { type: 'build-request', version: 1, accountRef: 'acc_8f2c', identifiers };
 * const several: BuildRequestBody = { type: 'build-request', version: 1, accounts: [{ accountRef: 'acc_8f2c', accountId: 'acct_1' }], identifiers };
 * ```
 */
export type BuildRequestBody = z.infer<typeof zBuildRequestBody>;

/**
 * Body of `POST` to the issuer backend asking it to sign an invocation for
 * an account (`accountRef`, the invocation has `account`) or for several
 * (`accountRefs`, one per entry of the invocation's `accounts`, same order).
 * Exactly one of the two.
 *
 * @example
 * ```ts
 * const body = parseWith(zSignInvocationBody, json, { name: 'sign invocation request' });
 * ```
 */
export const zSignInvocationBody = z
  .strictObject({
    type: z.literal('sign-invocation'),
    version: zVersion,
    accountRef: z.optional(zOpaqueId),
    accountRefs: z.optional(z.array(zOpaqueId).check(z.minLength(1), z.maxLength(MAX_SESSION_ACCOUNTS))),
    /** The unsigned invocation. */
    invocation: zInvocation,
  })
  .check(z.refine((b) => exactlyOne(b.accountRef, b.accountRefs), { message: 'exactly one of accountRef and accountRefs', path: ['accountRef'] }));
/**
 * Body asking the issuer backend to sign an invocation.
 *
 * @example
 * ```ts
 * const body: SignInvocationBody = { type: 'sign-invocation', version: 1, accountRef: 'acc_8f2c', invocation };
 * const several: SignInvocationBody = { type: 'sign-invocation', version: 1, accountRefs: ['acc_8f2c', 'acc_9a1d'], invocation };
 * ```
 */
export type SignInvocationBody = z.infer<typeof zSignInvocationBody>;

/**
 * Body of `POST` to the issuer backend asking it to sign a status query
 * (`status-query`, protocol section 4.22) for accounts of the signed-in user.
 *
 * @example
 * ```ts
 * const body = parseWith(zSignStatusQueryBody, json, { name: 'sign status query request' });
 * ```
 */
export const zSignStatusQueryBody = /* @__PURE__ */ (() =>
  z.strictObject({
    type: z.literal('sign-status-query'),
    version: zVersion,
    /** The unsigned query. */
    query: z.omit(zStatusQuery, { signature: true }),
  }))();
/**
 * Body asking the issuer backend to sign a status query.
 *
 * @example
 * ```ts
 * const body: SignStatusQueryBody = { type: 'sign-status-query', version: 1, query: { type: 'status-query', version: 1, queryId, issuerId: 'bank-a', accountIds: ['acct_1'], iat, exp } };
 * ```
 */
export type SignStatusQueryBody = z.infer<typeof zSignStatusQueryBody>;

/**
 * Body of `POST` to the issuer backend asking which of the signed-in user's
 * cards the app may offer to a wallet provider (wallet-initiated
 * provisioning, protocol section 4.24).
 *
 * @example
 * ```ts
 * const body = parseWith(zListAccountsBody, json, { name: 'list accounts request' });
 * ```
 */
export const zListAccountsBody = z.strictObject({
  type: z.literal('list-accounts'),
  version: zVersion,
  /** The wallet provider that asked (the `accounts-request`'s). */
  walletProviderId: zPartyId,
});
/**
 * Body asking the issuer backend for the cards it offers to a wallet provider.
 *
 * @example
 * ```ts
 * const body: ListAccountsBody = { type: 'list-accounts', version: 1, walletProviderId: 'wallet-co' };
 * ```
 */
export type ListAccountsBody = z.infer<typeof zListAccountsBody>;

/**
 * One card the issuer backend offers: the hint the wallet may show (with the
 * account's opaque `accountId`, required) and the app's own reference to it.
 *
 * @example
 * ```ts
 * const offered = parseWith(zOfferedAccount, row, { name: 'offered account' });
 * ```
 */
export const zOfferedAccount = /* @__PURE__ */ (() =>
  z.strictObject({
    hint: z.extend(zAccountHint, { accountId: zOpaqueId }),
    accountRef: zOpaqueId,
  }))();
/**
 * One card the issuer backend offers (`listAccounts`): it fits a session's `SessionAccount`.
 *
 * @example
 * ```ts
 * const offered: OfferedAccount = { hint: { last4: '1111', network: 'visa', accountId: 'acct_1' }, accountRef: 'acc_8f2c' };
 * ```
 */
export type OfferedAccount = z.infer<typeof zOfferedAccount>;

/**
 * The issuer backend's answer to `list-accounts`.
 *
 * @example
 * ```ts
 * const { accounts } = parseWith(zListAccountsResponse, text, { name: 'list accounts answer' });
 * ```
 */
export const zListAccountsResponse = /* @__PURE__ */ (() => z.strictObject({ accounts: z.array(zOfferedAccount).check(z.maxLength(64)) }))();
/**
 * The issuer backend's answer to `list-accounts`.
 *
 * @example
 * ```ts
 * const answer: ListAccountsResponse = { accounts: [] };
 * ```
 */
export type ListAccountsResponse = z.infer<typeof zListAccountsResponse>;

/**
 * Every body the issuer backend endpoint accepts.
 *
 * @example
 * ```ts
 * const body = parseWith(zIssuerBackendRequest, await request.text(), { name: 'issuer backend request' });
 * if (body.type === 'build-request') console.log(body.identifiers.sessionId);
 * ```
 */
export const zIssuerBackendRequest = z.discriminatedUnion('type', [zBuildRequestBody, zSignInvocationBody, zSignStatusQueryBody, zListAccountsBody]);
/**
 * Every body the issuer backend endpoint accepts.
 *
 * @example
 * ```ts
 * function route(body: IssuerBackendRequest) {
 *   return body.type === 'build-request' ? build(body) : sign(body);
 * }
 * ```
 */
export type IssuerBackendRequest = z.infer<typeof zIssuerBackendRequest>;

/**
 * Body of `POST` to the bank's activation endpoint (`createActivationHandler`):
 * the bank's app, opened by the wallet for an `issuer_app` method and with
 * its customer signed in, asks the backend to activate the token.
 *
 * @example
 * ```ts
 * const body: ActivateTokenBody = parseWith(zActivateTokenBody, json, { name: 'activate token request' });
 * ```
 */
export const zActivateTokenBody = z.strictObject({
  type: z.literal('activate-token'),
  version: zVersion,
  /** The pending token, as the wallet handed it to the bank's app. */
  tokenReferenceId: zOpaqueId,
});
/**
 * Body asking the bank's backend to activate a pending token (app-to-app).
 *
 * @example
 * ```ts
 * const body: ActivateTokenBody = { type: 'activate-token', version: 1, tokenReferenceId: 'tok_123' };
 * ```
 */
export type ActivateTokenBody = z.infer<typeof zActivateTokenBody>;

/**
 * Body of `POST` to the bank's activation endpoint asking for a token's
 * status: the verification methods of a pending token, for the bank's app.
 *
 * @example
 * ```ts
 * const body: TokenStatusBody = parseWith(zTokenStatusBody, json, { name: 'token status request' });
 * ```
 */
export const zTokenStatusBody = z.strictObject({
  type: z.literal('token-status'),
  version: zVersion,
  tokenReferenceId: zOpaqueId,
});
/**
 * Body asking the bank's backend for a token's status.
 *
 * @example
 * ```ts
 * const body: TokenStatusBody = { type: 'token-status', version: 1, tokenReferenceId: 'tok_123' };
 * ```
 */
export type TokenStatusBody = z.infer<typeof zTokenStatusBody>;

/**
 * Every body the bank's activation endpoint accepts.
 *
 * @example
 * ```ts
 * const body = parseWith(zActivationBackendRequest, await request.text(), { name: 'activation request' });
 * ```
 */
export const zActivationBackendRequest = z.discriminatedUnion('type', [zActivateTokenBody, zTokenStatusBody]);
/**
 * Every body the bank's activation endpoint accepts.
 *
 * @example
 * ```ts
 * const route = (body: ActivationBackendRequest) => (body.type === 'activate-token' ? activate(body) : status(body));
 * ```
 */
export type ActivationBackendRequest = z.infer<typeof zActivationBackendRequest>;
