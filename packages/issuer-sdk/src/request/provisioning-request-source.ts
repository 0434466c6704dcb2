import type { Card, Identifiers, Invocation, ProvisioningRequestMessage, TokenStatusResponse } from '@pushprov/protocol';

/**
 * One picked account of a several-account session, as a
 * {@link ProvisioningRequestSource} is given it.
 *
 * @example
 * ```ts
 * const account: BuildAccountInput = { accountId: 'acct_2', accountRef: 'acc_8f2c' };
 * ```
 */
export interface BuildAccountInput {
  /** The account's id, as the invocation's hint showed it: the request's `accountId` claim, and the id of its entry. */
  accountId: string;
  /** The issuer's reference to the account (backend mode). */
  accountRef?: string | undefined;
  /** The card itself (local mode only). */
  card?: Card | undefined;
}

/**
 * What a {@link ProvisioningRequestSource} is given to build the request of one session.
 *
 * @example
 * ```ts
 * const input: BuildRequestInput = { identifiers, accountRef: 'acc_8f2c' };
 * const message = await source.buildRequest(input, { signal });
 * ```
 */
export interface BuildRequestInput {
  /** The wallet's identifiers, already accepted for this session: the request is bound to them. */
  identifiers: Identifiers;
  /** The issuer's reference to the account (backend mode: the backend looks the card up). */
  accountRef?: string | undefined;
  /** The card itself (local mode only, when the app holds card data). */
  card?: Card | undefined;
  /**
   * The issuer's stable id of the card account, for the request claims
   * (local mode only: a backend builder takes it from its own `lookupCard`,
   * never from the app).
   */
  accountId?: string | undefined;
  /**
   * Several-account session: the accounts the user picked, in invocation
   * order (then `accountRef`, `card` and `accountId` are unset). The source
   * answers one message with `requests` (one per account it built, each its
   * own `jti`) and `refusals` (the accounts it would not build a request
   * for, and why), naming each picked account exactly once.
   */
  accounts?: BuildAccountInput[] | undefined;
}

/**
 * The context every source call gets.
 *
 * @example
 * ```ts
 * const context: RequestContext = { signal: AbortSignal.timeout(10_000) };
 * ```
 */
export interface RequestContext {
  /** Aborts when the session is cancelled, fails, or the step times out. */
  signal: AbortSignal;
  /** The session's correlation id: send it on (the backend source sends it as `X-Correlation-Id`). */
  correlationId?: string | undefined;
}

/**
 * Where the encrypted provisioning request comes from. Shipped
 * implementations: {@link createBackendRequestSource} (the issuer backend
 * builds it, so the PAN never touches the app) and, for sandboxes only,
 * `createLocalRequestBuilder` from `@pushprov/issuer-sdk/local` (the app holds
 * the card and an issuer key; it needs `sandbox: true`).
 *
 * @example
 * ```ts
 * const source: ProvisioningRequestSource = {
 *   async buildRequest({ identifiers, accountRef }, { signal }) {
 *     const response = await myApi.pushProvisioning({ identifiers, accountRef }, { signal });
 *     return response.message; // { type: 'provisioning-request', version: 1, sessionId, encryptedRequest }
 *   },
 * };
 * ```
 */
export interface ProvisioningRequestSource {
  /**
   * Builds the `provisioning-request` message for `input.identifiers.sessionId`.
   * Rejects with a `ProvisioningError` whose code says why.
   */
  buildRequest(input: BuildRequestInput, context: RequestContext): Promise<ProvisioningRequestMessage>;
}

/**
 * The context of an {@link InvocationSigner} call.
 *
 * @example
 * ```ts
 * const signer: InvocationSigner = async (invocation, { accountRef, signal }) => myApi.sign(invocation, accountRef, { signal });
 * ```
 */
export interface InvocationSigningContext {
  /** The account the session is for, when the host gave one (the first one in a several-account session). */
  accountRef?: string | undefined;
  /** Several-account session: the accounts' references, in invocation order (every account that has one). */
  accountRefs?: string[] | undefined;
  /** Aborts when the session ends or the step times out. */
  signal: AbortSignal;
  /** The session's correlation id (also in the invocation). */
  correlationId?: string | undefined;
}

/**
 * Signs an invocation (adds its `signature`) so the wallet can show the
 * issuer's name authentically. It must return the same invocation, signed:
 * the session refuses any other change.
 *
 * @example
 * ```ts
 * // Through the issuer backend, which holds the key:
 * const backend = createBackendRequestSource({ url: '/api/push-provisioning' });
 * const signer: InvocationSigner = backend.signInvocation;
 * // In a sandbox only, with a test key in the app:
 * import { createInvocationSigner } from '@pushprov/issuer-sdk/local';
 * const sandboxSigner: InvocationSigner = createInvocationSigner(sandboxIssuerKey, { sandbox: true });
 * ```
 */
export type InvocationSigner = (invocation: Invocation, context: InvocationSigningContext) => Promise<Invocation>;

/**
 * Reads a token's status for the bank's app, through the issuer backend:
 * `createBackendActivationSource` from `@pushprov/issuer-sdk/activation`
 * is the shipped one. Given to `createIssuerClient` as `tokenStatusSource`,
 * a session whose wallet reports `pending_activation` reads the token's
 * verification methods before it completes (`outcome.verification`).
 *
 * @example
 * ```ts
 * const tokenStatusSource: TokenStatusSource = {
 *   getTokenStatus: (tokenReferenceId, { signal }) => myApi.tokenStatus(tokenReferenceId, { signal }), // checked against zTokenStatusResponse
 * };
 * ```
 */
export interface TokenStatusSource {
  /** The token's status, with its verification methods while pending. Must check the answer's schema. */
  getTokenStatus(tokenReferenceId: string, context: RequestContext): Promise<TokenStatusResponse>;
}
