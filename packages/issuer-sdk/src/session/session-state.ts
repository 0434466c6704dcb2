/**
 * The states of a provisioning session, in flow order:
 *
 * - `created`: the session exists (session id chosen), nothing sent yet;
 * - `invoked`: the invocation was sent to the wallet;
 * - `identified`: the wallet's identifiers for this session were accepted;
 * - `request_built`: the encrypted provisioning request is ready;
 * - `delivered`: the request was sent to the wallet;
 * - then one terminal state: `completed` (the wallet reports `provisioned`
 *   or `pending_activation`), `declined`, `failed`, `cancelled` or `expired`
 *   (the wallet did not answer before the session's deadline).
 *
 * @example
 * ```ts
 * session.subscribe((event) => {
 *   if (event.type === 'state' && event.state === 'identified') showSpinner('Preparing your card…');
 * });
 * ```
 */
export type SessionState =
  | 'created'
  | 'invoked'
  | 'identified'
  | 'request_built'
  | 'delivered'
  | 'completed'
  | 'declined'
  | 'failed'
  | 'cancelled'
  | 'expired';

/**
 * A state a session never leaves.
 *
 * @example
 * ```ts
 * const done: TerminalSessionState = 'completed';
 * ```
 */
export type TerminalSessionState = 'completed' | 'declined' | 'failed' | 'cancelled' | 'expired';

const ENDINGS = ['declined', 'failed', 'cancelled'] as const;

/**
 * The transitions a session may take. Anything else is a bug and is refused
 * with `session_state`.
 *
 * @example
 * ```ts
 * SESSION_TRANSITIONS.delivered; // ['completed', 'declined', 'failed', 'cancelled']
 * ```
 */
export const SESSION_TRANSITIONS: Readonly<Record<SessionState, readonly SessionState[]>> = {
  created: ['invoked', ...ENDINGS, 'expired'],
  invoked: ['identified', ...ENDINGS, 'expired'],
  identified: ['request_built', ...ENDINGS],
  request_built: ['delivered', ...ENDINGS],
  delivered: ['completed', ...ENDINGS],
  completed: [],
  declined: [],
  failed: [],
  cancelled: [],
  expired: [],
};

/**
 * True for the states a session ends in.
 *
 * @example
 * ```ts
 * if (isTerminalState(session.state)) closeDialog();
 * ```
 */
export function isTerminalState(state: SessionState): state is TerminalSessionState {
  return SESSION_TRANSITIONS[state].length === 0;
}
