import {
  type AccountsRefusal,
  type AppChannel,
  type ErrorCode,
  type Invocation,
  createError,
  createId,
  createNonce,
  toProvisioningError,
  waitForMessage,
  withCorrelationId,
} from '@pushprov/protocol';
import { raceSignal, throwIfAborted } from '../lib/abort.js';
import { checkInvocation } from '../wallet/check-invocation.js';
import { type AcceptInvocation, type Accepted, type SessionContext, type SessionHooks, statusOf } from '../wallet/run-session.js';
import type { HandleInvocationOptions, Wallet, WalletSession } from '../wallet/types.js';

/**
 * Options of {@link requestAccounts}: the issuer asked, and the session's options.
 *
 * @example
 * ```ts
 * const options: RequestAccountsOptions = { issuerId: 'bank-a', timeoutMs: 300_000 };
 * ```
 */
export interface RequestAccountsOptions extends HandleInvocationOptions {
  /** The issuer whose app the channel reaches: one of the wallet's `trustedIssuers`. */
  issuerId: string;
  /** Where the issuer app sends its answer, for URL and popup channels (the request's `replyTo`). */
  replyTo?: string | undefined;
}

type InternalStart = (channel: AppChannel, options: HandleInvocationOptions, accept: AcceptInvocation) => WalletSession;

/**
 * Wallet-initiated provisioning (spec 4.24): sends an `accounts-request` on
 * `channel` (to the issuer app the host opened) and runs the normal session
 * of the issuer's answer, returning its handle at once. Only a **signed**
 * invocation from `issuerId` whose `walletNonce` is the request's nonce is
 * accepted (the wallet's trust list, signature, time and replay checks
 * apply as always); any other is refused input, an `error` event
 * (`unknown_issuer`, `signature_invalid`, `nonce_mismatch`, …), and the
 * wallet keeps waiting until the session's deadline, so a forged message
 * cannot end the flow. An `accounts-refusal` with the nonce ends it without
 * a session: `cancelled` for `consent_denied`, else `failed`, with the
 * refusal's code. A request that cannot be sent ends it `failed`, and so
 * does a wallet whose `trustedIssuers` lacks `issuerId`
 * (`configuration_invalid`).
 *
 * @example
 * ```ts
 * import { requestAccounts } from '@pushprov/wallet-sdk/initiate';
 * const session = requestAccounts(wallet, channel, { issuerId: 'bank-a', timeoutMs: 300_000 });
 * const outcome = await session.outcome; // the normal outcome: accounts, token, …
 * ```
 */
export function requestAccounts(wallet: Wallet, channel: AppChannel, options: RequestAccountsOptions): WalletSession {
  const { issuerId, replyTo, ...sessionOptions } = options ?? {};
  let nonce = '';
  let correlationId = '';
  const ended = (caught: unknown): Accepted => {
    const error = withCorrelationId(toProvisioningError(caught, 'channel_closed'), correlationId);
    return { outcome: { status: statusOf(error.code) === 'cancelled' ? 'cancelled' : 'failed', issuerId, correlationId, error, resultSent: false, accounts: [] } };
  };

  const accept: AcceptInvocation = async (ch, { identity, policy, random }: SessionContext, hooks: SessionHooks) => {
    nonce = createNonce(random);
    correlationId = createId('cor', random);
    if (!policy.trustedIssuers?.has(issuerId)) return ended(createError('configuration_invalid', 'requestAccounts needs the issuer in the wallet\'s trustedIssuers'));
    try {
      const who = await raceSignal(Promise.resolve().then(identity), hooks.signal);
      await raceSignal(
        ch.send({ type: 'accounts-request', version: 1, nonce, walletProviderId: who?.walletProviderId, ...(replyTo !== undefined && { replyTo }), correlationId }),
        hooks.signal,
      );
    } catch (caught) {
      return ended(caught);
    }
    for (;;) {
      const message = await waitForMessage(
        ch,
        (m): m is Invocation | AccountsRefusal => m.type === 'invocation' || (m.type === 'accounts-refusal' && m.nonce === nonce),
        {
          signal: hooks.signal,
          onRejected: (m) => hooks.emit({ type: 'error', error: createError('unexpected_message', `A ${m.type} message was ignored`) }),
          onError: (error) => hooks.emit({ type: 'error', error }),
        },
      );
      if (message.type === 'accounts-refusal') return ended(createError(message.errorCode as ErrorCode, 'The issuer app refused the accounts request'));
      hooks.setState('verifying_invocation');
      try {
        throwIfAborted(hooks.signal);
        if (message.issuerId !== issuerId) throw createError('unknown_issuer', 'The invocation is not from the issuer the wallet asked');
        if (message.signature === undefined) throw createError('signature_invalid', 'The invocation is not signed');
        return { invocation: message, ...(await raceSignal(checkInvocation(message, policy, nonce), hooks.signal)) };
      } catch (caught) {
        const error = withCorrelationId(toProvisioningError(caught), message.correlationId);
        if (hooks.signal.aborted) throw error;
        // Refused input: the flow goes on until a good answer or its deadline (spec 4.24).
        hooks.emit({ type: 'error', error });
        hooks.setState('waiting_for_invocation');
      }
    }
  };
  return (wallet.startSession as InternalStart)(channel, sessionOptions, accept);
}
