import type { AccountHint, ProvisioningError, ProvisioningErrorJson, ResultStatus, Verification } from '@pushprov/protocol';
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
  /** The session's (first) account hint. */
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
 * Emitted once per account of the session when the wallet's result arrives
 * (before the terminal `state` event): how that card ended. Safe data only.
 *
 * @example
 * ```ts
 * session.subscribe((event) => {
 *   if (event.type === 'account') markCard(event.accountId, event.status); // e.g. 'acct_2', 'declined'
 * });
 * ```
 */
export interface SessionAccountEvent {
  type: 'account';
  sessionId: string;
  /** The account's id; absent only in a single-account session whose hint had none. */
  accountId?: string;
  status: OutcomeStatus;
  /** The token reference id, when this card was provisioned or is pending activation. */
  tokenReferenceId?: string;
  /** Why it was not: the wallet's code, or the issuer's refusal code (e.g. `card_expired`). */
  errorCode?: string;
  at: number;
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
export type ProvisioningSessionEvent = SessionStateEvent | SessionMessageRejectedEvent | SessionAccountEvent;

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
  /** The session's first account hint (the only one in a single-account session). */
  account: AccountHint;
  /** Every account hint of the session, in invocation order. */
  accounts: AccountHint[];
  walletProviderId?: string;
  resultStatus?: ResultStatus;
  tokenReferenceId?: string;
  error?: ProvisioningErrorJson;
}

/**
 * How a session, or one of its accounts, ended: the wallet's result statuses,
 * and `expired` (the wallet did not answer before the session's deadline).
 *
 * @example
 * ```ts
 * const done: OutcomeStatus[] = ['provisioned', 'pending_activation'];
 * ```
 */
export type OutcomeStatus = ResultStatus | 'expired';

/**
 * One account's part of a {@link ProvisioningOutcome}, in invocation order.
 *
 * @example
 * ```ts
 * for (const account of outcome.accounts) {
 *   console.log(account.accountId, account.status, account.errorCode); // 'acct_2' 'failed' 'card_expired'
 * }
 * ```
 */
export interface SessionAccountOutcome {
  /** The account's id; absent only in a single-account session whose hint had none. */
  accountId?: string;
  status: OutcomeStatus;
  /** When the card was provisioned or is pending activation. */
  tokenReferenceId?: string;
  /**
   * Why it was not: the wallet's code, the issuer's refusal code (the
   * backend built no request for it: `card_expired`, `not_found`, `forbidden`,
   * …), `consent_denied` for an account the user did not pick, or the
   * session's error code when the session ended before a result.
   */
  errorCode?: string;
}

interface OutcomeBase {
  sessionId: string;
  /** The provisioning attempt's correlation id. */
  correlationId: string;
  /** One entry per account of the session, in invocation order (one entry in a single-account session). */
  accounts: SessionAccountOutcome[];
}

/**
 * A session that ended `completed`: the wallet reports at least one card
 * provisioned or pending activation (partial success is a success: see
 * `accounts` for each card).
 *
 * @example
 * ```ts
 * if (outcome.status === 'pending_activation') showActivationChoices(outcome.verification?.methods ?? []);
 * ```
 */
export interface ProvisioningSuccess extends OutcomeBase {
  state: 'completed';
  status: 'provisioned' | 'pending_activation';
  /** The token reference id of a single-account session (several accounts: in `accounts`). */
  tokenReferenceId?: string;
  /**
   * For a single-account `pending_activation`, when the client has a
   * `tokenStatusSource`: the methods the customer can confirm the card with
   * (masked destinations) and when the pending token expires. Absent when
   * they could not be read (then `verificationError` says why) or the token
   * was already active.
   */
  verification?: Verification;
  /** Why `verification` could not be read (the session still completed: the card is in the wallet). */
  verificationError?: ProvisioningErrorJson;
}

/**
 * A session that ended without a card in the wallet: the wallet declined
 * or cancelled, a step failed, the host cancelled, or the wallet did not
 * answer in time. `error` says why (`declined`: the wallet's code, default
 * `declined`; `cancelled`: `cancelled` or the wallet's code; `expired`:
 * `expired`; `failed`: what failed, e.g. `timeout`, `network_error`).
 *
 * @example
 * ```ts
 * if (outcome.status !== 'provisioned' && outcome.status !== 'pending_activation') showFailure(outcome.error.code);
 * ```
 */
export interface ProvisioningFailure extends OutcomeBase {
  state: 'declined' | 'failed' | 'cancelled' | 'expired';
  status: 'declined' | 'failed' | 'cancelled' | 'expired';
  error: ProvisioningError;
}

/**
 * What `session.outcome` (and `session.run()`) resolves with, for every
 * ending: it never rejects. Discriminated by `status`.
 *
 * @example
 * ```ts
 * const outcome = await session.outcome;
 * switch (outcome.status) {
 *   case 'provisioned':
 *   case 'pending_activation':
 *     showDone(outcome.accounts);
 *     break;
 *   default:
 *     showFailure(outcome.error.code); // 'declined', 'timeout', 'cancelled', 'expired', …
 * }
 * ```
 */
export type ProvisioningOutcome = ProvisioningSuccess | ProvisioningFailure;
