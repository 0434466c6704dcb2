import {
  type AccountsRefusal,
  type AccountsRequest,
  type AppChannel,
  type AppMessage,
  type ErrorCode,
  createError,
  isProvisioningError,
  waitForMessage,
} from '@pushprov/protocol';
import type { IssuerClient, SessionAccount, StartProvisioningOptions } from '../client/create-issuer-client.js';
import type { ProvisioningSession } from '../session/provisioning-session.js';
import type { ProvisioningSessionListener } from '../session/session-events.js';

/**
 * Options of {@link answerAccountsRequest}.
 *
 * @example
 * ```ts
 * const options: AnswerAccountsRequestOptions = { issuerId: 'bank-a', client: issuer, accounts: (request) => listAccounts(request.walletProviderId) };
 * ```
 */
export interface AnswerAccountsRequestOptions {
  /** The issuer's id: the `issuerId` of an `accounts-refusal`. */
  issuerId: string;
  /** The issuer client that runs the session; it needs an `invocationSigner` (the answer must be signed). */
  client: IssuerClient;
  /**
   * The cards to offer the signed-in customer (at most 8), or a function
   * that gets them for the request, e.g. `(request) => listAccounts(request.walletProviderId)`
   * with `createBackendAccountLister`. None: the wallet gets an
   * `accounts-refusal` with `not_found`. A function that throws a
   * `ProvisioningError` (for example `unauthenticated`) answers a refusal
   * with its code.
   */
  accounts: readonly SessionAccount[] | ((request: AccountsRequest) => readonly SessionAccount[] | Promise<readonly SessionAccount[]>);
  /** Aborting it stops waiting (`aborted`); a started session is cancelled by it too. */
  signal?: AbortSignal | undefined;
  /** How long to wait for the wallet's `accounts-request`, ms. Default: until `signal` or the channel closes. */
  timeoutMs?: number | undefined;
  /** Subscribed to the session before it starts (as `startProvisioning`'s). */
  onEvent?: ProvisioningSessionListener | undefined;
}

/**
 * How {@link answerAccountsRequest} answered: with a session (a signed
 * invocation carrying `walletNonce`), or with an `accounts-refusal`.
 *
 * @example
 * ```ts
 * const answered: AnsweredAccountsRequest = await answerAccountsRequest(wallet, options);
 * if (answered.session) render(await answered.session.outcome); else showNothingToAdd(answered.refusal.errorCode);
 * ```
 */
export type AnsweredAccountsRequest =
  | { request: AccountsRequest; session: ProvisioningSession; refusal?: undefined }
  | { request: AccountsRequest; session?: undefined; refusal: AccountsRefusal };

/**
 * Wallet-initiated provisioning, in the issuer app (protocol section 4.24):
 * waits on `channel` for the wallet's `accounts-request`, gets the cards to
 * offer, and answers: with none, an `accounts-refusal` with `not_found`;
 * otherwise a normal session through `client` (one card: `account`, several:
 * `accounts`) whose signed invocation carries `walletNonce` = the request's
 * `nonce` and the request's correlation id, returned at once, running.
 *
 * The request proves nothing: offer what the signed-in customer may add,
 * never what the request asks for. A failure while getting the cards or
 * starting the session is answered with an `accounts-refusal` carrying its
 * code (`unauthenticated`, `internal_error`, …), then rejects with it; so
 * do `timeout`, `aborted` and `channel_closed` while waiting (no answer).
 * A client without an `invocationSigner` cannot answer: the session fails
 * with `configuration_invalid` before it sends anything, and the wallet gets
 * an `accounts-refusal` with that code.
 *
 * @example
 * ```ts
 * import { answerAccountsRequest, createBackendAccountLister } from '@pushprov/issuer-sdk/offer';
 *
 * const listAccounts = createBackendAccountLister({ url: '/api/push-provisioning', credentials: 'include' });
 * const answered = await answerAccountsRequest(wallet, {
 *   issuerId: 'bank-a',
 *   client: issuer, // created with invocationSigner: backend.signInvocation
 *   accounts: (request) => listAccounts(request.walletProviderId),
 * });
 * if (answered.session) showOutcome(await answered.session.outcome);
 * ```
 */
export async function answerAccountsRequest(channel: AppChannel, options: AnswerAccountsRequestOptions): Promise<AnsweredAccountsRequest> {
  if (typeof options?.client?.startProvisioning !== 'function') throw createError('configuration_invalid', 'client must be an IssuerClient');
  if (options.accounts === undefined || (typeof options.accounts !== 'function' && !Array.isArray(options.accounts))) {
    throw createError('configuration_invalid', 'accounts must be an array of SessionAccount or a function returning one');
  }
  const request = await waitForMessage(channel, (m: AppMessage): m is AccountsRequest => m.type === 'accounts-request', {
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  const refuse = async (errorCode: ErrorCode): Promise<AccountsRefusal> => {
    const refusal: AccountsRefusal = {
      type: 'accounts-refusal',
      version: 1,
      nonce: request.nonce,
      issuerId: options.issuerId,
      errorCode,
      ...(request.correlationId === undefined ? {} : { correlationId: request.correlationId }),
    };
    await channel.send(refusal);
    return refusal;
  };
  let session: ProvisioningSession;
  try {
    const accounts = typeof options.accounts === 'function' ? await options.accounts(request) : options.accounts;
    if (!Array.isArray(accounts)) throw createError('internal_error', 'accounts must give an array of SessionAccount');
    if (accounts.length === 0) return { request, refusal: await refuse('not_found') };
    // The answer must be signed (spec 4.24): never let the session send it unsigned.
    const wallet: AppChannel = {
      send: async (message) => {
        if (message.type === 'invocation' && message.signature === undefined) {
          await refuse('configuration_invalid').catch(() => {});
          throw createError('configuration_invalid', 'A wallet-initiated answer must be signed: give the client an invocationSigner');
        }
        return channel.send(message);
      },
      subscribe: (listener, onError) => channel.subscribe(listener, onError),
      close: () => channel.close(),
      get closed() {
        return channel.closed;
      },
      onClose: (listener) => channel.onClose(listener),
    };
    const base: StartProvisioningOptions = {
      wallet,
      walletNonce: request.nonce,
      ...(request.correlationId === undefined ? {} : { correlationId: request.correlationId }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
    };
    const [only] = accounts;
    session = options.client.startProvisioning(
      accounts.length === 1
        ? {
            ...base,
            account: only!.hint,
            ...(only!.accountRef === undefined ? {} : { accountRef: only!.accountRef }),
            ...(only!.card === undefined ? {} : { card: only!.card }),
            ...(only!.accountId === undefined ? {} : { accountId: only!.accountId }),
          }
        : { ...base, accounts: [...accounts] },
    );
  } catch (error) {
    const code: ErrorCode = isProvisioningError(error) ? error.code : 'internal_error';
    await refuse(code).catch(() => {});
    throw error;
  }
  return { request, session };
}
