import {
  type ActivationInvocation,
  type AppChannel,
  type AppMessage,
  type ProvisioningError,
  type TokenStatusResponse,
  createError,
  waitForMessage,
} from '@pushprov/protocol';
import type { BackendActivationSource } from './create-backend-activation-source.js';

/**
 * Options of {@link receiveActivationInvocation}.
 *
 * @example
 * ```ts
 * const options: ReceiveActivationInvocationOptions = {
 *   issuerId: 'bank-a',
 *   activation: createBackendActivationSource({ url: '/api/token-activation', credentials: 'include' }),
 *   confirm: (invocation) => askCustomer(`Finish adding your card to ${walletNames[invocation.walletProviderId]}?`),
 * };
 * ```
 */
export interface ReceiveActivationInvocationOptions {
  /** This bank's issuer id: an invocation for another issuer is refused input. */
  issuerId: string;
  /** The bank backend's activation endpoint (`createBackendActivationSource`), called with the signed-in customer's credentials. */
  activation: Pick<BackendActivationSource, 'activateToken'>;
  /**
   * Asks the signed-in customer to confirm, in the bank's words, before the
   * token is activated. `false` ends with `consent_denied` and activates
   * nothing. Without it, the invocation is acted on at once (the backend
   * still checks the customer owns the token).
   */
  confirm?: (invocation: ActivationInvocation, context: { signal: AbortSignal }) => boolean | Promise<boolean>;
  /** Stops waiting (`aborted`). */
  signal?: AbortSignal;
  /** Stops waiting for the invocation after this long (`timeout`), ms. Default: no limit. */
  timeoutMs?: number;
  /** Refused input while waiting: another issuer's invocation, another message, a wrong origin, malformed JSON. It ends nothing. */
  onRejected?: (error: ProvisioningError) => void;
}

/**
 * What {@link receiveActivationInvocation} resolves with: the invocation it
 * acted on and the token status the backend answered, `active`.
 *
 * @example
 * ```ts
 * const { invocation, status }: ReceivedActivation = await receiveActivationInvocation(channel, options);
 * ```
 */
export interface ReceivedActivation {
  invocation: ActivationInvocation;
  status: TokenStatusResponse;
}

const isFor =
  (issuerId: string) =>
  (message: AppMessage): message is ActivationInvocation =>
    message.type === 'activation-invocation' && message.issuerId === issuerId;

/**
 * The bank's app side of app-to-app activation (spec section 4.17): waits on
 * an app channel (the wallet popup's, an app link's, in-memory) for the
 * wallet's activation invocation of a token `pending_activation`, asks the
 * signed-in customer to `confirm`, then asks the bank's backend to activate
 * the token (`activation.activateToken`, the backend's
 * `createActivationHandler`, which checks from the token service's data
 * that the token is this customer's). The wallet learns that the token is
 * active from the token service. Only the first invocation for this issuer
 * is acted on: anything else on the channel is refused input.
 *
 * Codes: `consent_denied` (the customer said no), the backend's
 * (`unauthenticated`, `not_found`: not this customer's token,
 * `token_not_pending`, `verification_method_unavailable`), `timeout`,
 * `aborted`, `channel_closed`, and the transport codes.
 *
 * @example
 * ```ts
 * import { createBackendActivationSource, receiveActivationInvocation } from '@pushprov/issuer-sdk/activation';
 *
 * const { status } = await receiveActivationInvocation(walletChannel, {
 *   issuerId: 'bank-a',
 *   activation: createBackendActivationSource({ url: '/api/token-activation', credentials: 'include' }),
 *   confirm: () => showConfirmDialog('Finish adding your card to the wallet?'),
 * });
 * status.status; // 'active'
 * ```
 */
export async function receiveActivationInvocation(channel: AppChannel, options: ReceiveActivationInvocationOptions): Promise<ReceivedActivation> {
  if (typeof channel?.subscribe !== 'function' || typeof options?.activation?.activateToken !== 'function' || typeof options.issuerId !== 'string') {
    throw createError('configuration_invalid', 'A channel, issuerId and activation are required');
  }
  const signal = options.signal ?? new AbortController().signal;
  const report = (error: ProvisioningError) => {
    try {
      options.onRejected?.(error);
    } catch {
      // A failing listener changes nothing.
    }
  };
  const invocation = await waitForMessage(channel, isFor(options.issuerId), {
    signal,
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
    onRejected: (message) =>
      report(
        createError(
          'invalid_message',
          message.type === 'activation-invocation' ? 'An activation invocation for another issuer was refused' : `An unexpected ${message.type} message was refused`,
        ),
      ),
    onError: report,
  });
  const context = { signal, ...(invocation.correlationId !== undefined && { correlationId: invocation.correlationId }) };
  if (options.confirm !== undefined) {
    let confirmed: boolean;
    try {
      confirmed = (await options.confirm(invocation, { signal })) === true;
    } catch (cause) {
      throw createError('internal_error', 'The confirmation failed', { cause, ...(invocation.correlationId !== undefined && { correlationId: invocation.correlationId }) });
    }
    if (!confirmed) {
      throw createError('consent_denied', 'The customer did not confirm the activation', { ...(invocation.correlationId !== undefined && { correlationId: invocation.correlationId }) });
    }
  }
  const status = await options.activation.activateToken(invocation.tokenReferenceId, context);
  return { invocation, status };
}
