import type { AccountHint, ProvisioningErrorJson, ResultStatus, Verification } from '@pushprov/protocol';
import type { SessionState } from './session-state.js';

/**
 * Emitted on every state change. Carries only safe data: ids, states, times,
 * the account hint (last 4 digits, network, product name) and error codes.
 *
 * @example
 * ```ts
 * session.subscribe((event) => {
 *   if (event.type === 'state') analytics.track('push_provisioning', { state: event.state, code: event.error?.code });
 * });
 * ```
 */
export interface SessionStateEvent {
  type: 'state';
  sessionId: string;
  state: SessionState;
  previousState: SessionState;
  /** When it happened, epoch milliseconds (the session's clock). */
  at: number;
  account: AccountHint;
  /** The wallet provider, once the wallet identified itself. */
  walletProviderId?: string;
  /** The wallet's result status, in terminal states reached through a result. */
  resultStatus?: ResultStatus;
  /** The token reference id the wallet reported, when provisioned. */
  tokenReferenceId?: string;
  /** Why the session ended, in `declined`, `failed`, `cancelled` and `expired`. */
  error?: ProvisioningErrorJson;
}

/**
 * Emitted when the channel delivers something the session refuses: a message
 * for another session, a repeated or late reply, a message out of order, or
 * input the channel itself refused (wrong origin, bad schema). It ends
 * nothing; the session goes on waiting.
 *
 * @example
 * ```ts
 * session.subscribe((event) => {
 *   if (event.type === 'message_rejected') console.warn('ignored', event.error.code); // e.g. 'session_mismatch'
 * });
 * ```
 */
export interface SessionMessageRejectedEvent {
  type: 'message_rejected';
  sessionId: string;
  /** The session's state when it happened (unchanged by it). */
  state: SessionState;
  at: number;
  error: ProvisioningErrorJson;
}

/**
 * Everything a session emits.
 *
 * @example
 * ```ts
 * const log: ProvisioningSessionEvent[] = [];
 * session.subscribe((event) => log.push(event));
 * ```
 */
export type ProvisioningSessionEvent = SessionStateEvent | SessionMessageRejectedEvent;

/**
 * Receives session events. Exceptions it throws are ignored.
 *
 * @example
 * ```ts
 * const listener: ProvisioningSessionListener = (event) => render(event);
 * ```
 */
export type ProvisioningSessionListener = (event: ProvisioningSessionEvent) => void;

/**
 * A session's current state and safe facts about it.
 *
 * @example
 * ```ts
 * const { state, expiresAt } = session.snapshot();
 * ```
 */
export interface SessionSnapshot {
  sessionId: string;
  /** The provisioning attempt's correlation id: quote it to find the attempt in every party's logs. */
  correlationId: string;
  state: SessionState;
  createdAt: number;
  updatedAt: number;
  /** The invocation's expiry: identifiers are accepted only before it. Epoch milliseconds. */
  expiresAt: number;
  account: AccountHint;
  walletProviderId?: string;
  resultStatus?: ResultStatus;
  tokenReferenceId?: string;
  error?: ProvisioningErrorJson;
}

/**
 * What `session.completed` resolves with: the card is in the wallet (or
 * waiting for activation there).
 *
 * @example
 * ```ts
 * const outcome = await session.completed;
 * if (outcome.status === 'pending_activation') {
 *   // e.g. "Confirm it's you: a code by SMS to •••• 0199, or in this app"
 *   showActivationChoices(outcome.verification?.methods ?? []);
 * }
 * ```
 */
export interface ProvisioningOutcome {
  sessionId: string;
  state: 'completed';
  status: 'provisioned' | 'pending_activation';
  tokenReferenceId?: string;
  /**
   * For `pending_activation`, when the request source can read token status
   * (`createBackendRequestSource` with `activationUrl`): the methods the
   * customer can confirm the card with (masked destinations) and when the
   * pending token expires. Absent when they could not be read (then
   * `verificationError` says why) or the token was already active.
   */
  verification?: Verification;
  /** Why `verification` could not be read (the session still completed: the card is in the wallet). */
  verificationError?: ProvisioningErrorJson;
}
