import type { ActivationInvocation, AppChannel, ProvisioningError, TokenStatusResponse, VerificationMethod } from '@pushprov/protocol';

/**
 * Where the activation of a pending token is (the yellow path, spec section 11):
 *
 * - `choosing_method`: the user picks one of the issuer's methods;
 * - `requesting_code`: the token service is making a code and the issuer sending it;
 * - `awaiting_code`: a code was sent (where: the method's masked `destination`); the user types it;
 * - `checking_code`: the code is being checked;
 * - `awaiting_issuer`: the issuer verifies the cardholder itself, in its app
 *   (`issuer_app`) or on the phone (`customer_service`); `waitUntilActive` learns the end;
 * - `active`: the token works (final);
 * - `expired`: the pending token expired or is gone (final).
 *
 * @example
 * ```ts
 * const showCodeEntry = (state: ActivationState) => state === 'awaiting_code' || state === 'checking_code';
 * ```
 */
export type ActivationState = 'choosing_method' | 'requesting_code' | 'awaiting_code' | 'checking_code' | 'awaiting_issuer' | 'active' | 'expired';

/**
 * The code the chosen OTP method sent last: never the code itself.
 *
 * @example
 * ```ts
 * const info: SentCode = activation.code!;
 * const seconds = Math.max(0, info.resendAfter - Math.floor(Date.now() / 1000)); // until "Send a new code" works
 * ```
 */
export interface SentCode {
  /** How many digits the code has (6 to 8), for the code entry. */
  length: number;
  /** When the code expires, NumericDate. */
  expiresAt: number;
  /** The earliest time a resend is accepted, NumericDate. */
  resendAfter: number;
  /** How many codes may still be tried with this method. A resend does not restore them. */
  attemptsLeft: number;
}

/**
 * A pending activation's state and safe facts: ids, masked destinations, times
 * and counts. Safe to log and to render.
 *
 * @example
 * ```ts
 * const { state, methods, code } = activation.snapshot();
 * if (state === 'awaiting_code') show(`Enter the ${code!.length}-digit code`);
 * ```
 */
export interface ActivationSnapshot {
  tokenReferenceId: string;
  issuerId: string;
  state: ActivationState;
  /** The methods the issuer offers, in its order of preference (masked destinations only). */
  methods: VerificationMethod[];
  /** When the pending token expires, NumericDate. */
  expiresAt: number;
  /** The chosen method's id, once chosen. */
  methodId?: string;
  /** The last code sent by the chosen OTP method. */
  code?: SentCode;
  /** Methods with no attempts left for this token. */
  lockedMethodIds: string[];
}

/**
 * What a pending activation reports, at every step: its state changed, a
 * code was sent, a code was wrong (`error.details.attemptsLeft`), a step
 * failed. `snapshot` is the activation after the step.
 *
 * @example
 * ```ts
 * activations.resume(id).then((activation) => activation.subscribe((event: ActivationEvent) => render(event.snapshot, event.error?.code)));
 * ```
 */
export interface ActivationEvent {
  type: 'activation';
  /** What happened: a new state, a code sent, or a step that failed (`error`). */
  step: 'state' | 'code_sent' | 'failed';
  snapshot: ActivationSnapshot;
  error?: ProvisioningError;
}

/**
 * What the wallet asks its host to do for an `issuer_app` method: open the
 * bank's app (its app link, or the platform's app-to-app intent), so the
 * bank can sign its customer in and activate the token. With
 * `walletProviderId` given to `createActivations`, `invocation` is the
 * activation invocation (spec section 4.17) to hand over, for example in
 * the app link's fragment (`encodeMessageUrl` from `@pushprov/protocol`).
 * The bank's backend then calls the token service (issuer SDK
 * `activateToken`), and {@link PendingActivation.waitUntilActive} learns it.
 *
 * @example
 * ```ts
 * const openIssuerApp: IssuerAppOpener = ({ issuerId, invocation }) =>
 *   Linking.openURL(encodeMessageUrl(issuerAppLinks[issuerId]!, invocation!));
 * ```
 */
export type IssuerAppOpener = (
  request: { issuerId: string; tokenReferenceId: string; methodId: string; invocation?: ActivationInvocation },
  context: { signal: AbortSignal },
) => void | Promise<void>;

/**
 * The app channel an `issuer_app` method's activation invocation (spec
 * section 4.17) is sent over, to the bank's app: a channel (the one the
 * bank's invocation came on, or another one to the bank's app), or a
 * function that gives one for the token's issuer. The wallet sends on it and
 * never closes it: the host does.
 *
 * @example
 * ```ts
 * // The wallet popup talks back to the bank page that opened it:
 * const issuerChannel: IssuerChannelProvider = () => createOpenerIssuerChannel({ allowedIssuerOrigins, issuerOrigin });
 * ```
 */
export type IssuerChannelProvider =
  | AppChannel
  | ((target: { issuerId: string; tokenReferenceId: string }, context: { signal: AbortSignal }) => AppChannel | Promise<AppChannel>);

/**
 * Options of the activation calls that reach the token service.
 *
 * @example
 * ```ts
 * await activation.chooseMethod('sms-1', { signal: AbortSignal.timeout(15_000) });
 * ```
 */
export interface ActivationCallOptions {
  /** Aborts the call (`aborted`); the activation goes back to where it was. */
  signal?: AbortSignal;
  /**
   * For an `issuer_app` method (`chooseMethod`, `openIssuerApp`): the
   * correlation id the activation invocation carries. Default: the
   * provisioning attempt's (kept with the token), else a fresh `cor_…`.
   */
  correlationId?: string | undefined;
}

/**
 * Options of {@link PendingActivation.waitUntilActive}.
 *
 * @example
 * ```ts
 * const status = await activation.waitUntilActive({ signal: controller.signal, initialIntervalMs: 2_000, maxIntervalMs: 30_000 });
 * ```
 */
export interface WaitUntilActiveOptions {
  /** Stops waiting (`aborted`). Without it, waiting ends only with the token active or expired. */
  signal?: AbortSignal;
  /** The first wait between two reads of the token status, milliseconds. Default 1 000. */
  initialIntervalMs?: number;
  /** The longest wait between two reads (the wait doubles up to it), milliseconds. Default 15 000. */
  maxIntervalMs?: number;
}

/**
 * The activation of one token `pending_activation`, from
 * `activations.resume(tokenReferenceId)`: choose a method, have a code sent, type
 * it, resend it, open the issuer's app, and learn that the token is active.
 * Its progress is saved in the wallet's token store after every step, so a
 * new wallet on the same store resumes it. One call at a time (another while
 * one runs is `session_state`).
 *
 * @example
 * ```ts
 * const activation = await activations.resume(outcome.token.tokenReferenceId);
 * activation.subscribe((event) => render(event.snapshot));
 * await activation.chooseMethod('sms-1');        // a code goes to •••• 0199
 * try {
 *   await activation.submitCode(typedCode);       // active
 * } catch (error) {
 *   if (isProvisioningError(error, 'verification_code_invalid')) showAttemptsLeft(error.details?.attemptsLeft);
 * }
 * ```
 */
export interface PendingActivation {
  readonly tokenReferenceId: string;
  readonly issuerId: string;
  readonly state: ActivationState;
  /** The safe facts of the activation now. */
  snapshot(): ActivationSnapshot;
  /**
   * Chooses a method. An OTP method (`otp_sms`, `otp_email`) has a code made
   * and sent (`awaiting_code`); `issuer_app` sends the bank's app an
   * activation invocation over `issuerChannel`, and (or) opens it through
   * `openIssuerApp`, of `createActivations` (`awaiting_issuer`); `customer_service`
   * records the choice (`awaiting_issuer`: show the method's `phoneNumber`).
   * Codes: `verification_method_unavailable`, `verification_attempts_exhausted`,
   * `verification_cooldown` (`error.details.retryAfterMs`), `token_not_pending`, `expired`,
   * and the transport codes.
   */
  chooseMethod(methodId: string, options?: ActivationCallOptions): Promise<ActivationSnapshot>;
  /**
   * Sends a new code by the chosen OTP method. Before the code's `resendAfter`
   * it is `verification_cooldown` at once, without a request, with
   * `error.details.retryAfterMs`.
   */
  resendCode(options?: ActivationCallOptions): Promise<ActivationSnapshot>;
  /**
   * Sends the code the user typed. Resolves with the token status, `active`.
   * A code that is not 6 to 8 ASCII digits is `invalid_message` and never
   * leaves the device; a wrong one is `verification_code_invalid` with
   * `error.details.attemptsLeft`; then `verification_code_expired` (ask for
   * a new code), `verification_attempts_exhausted` (the method is locked:
   * choose another).
   */
  submitCode(code: string, options?: ActivationCallOptions): Promise<TokenStatusResponse>;
  /** Sends the bank's app a new activation invocation (and opens it) for the chosen `issuer_app` method. */
  openIssuerApp(options?: ActivationCallOptions): Promise<void>;
  /** Reads the token status once and follows it (`active`, `expired`). */
  refresh(options?: ActivationCallOptions): Promise<ActivationSnapshot>;
  /**
   * Reads the token status with growing intervals until the token is active
   * (resolves with its status) or gone (`expired`). For `issuer_app` and
   * `customer_service`, where the issuer activates the token.
   */
  waitUntilActive(options?: WaitUntilActiveOptions): Promise<TokenStatusResponse>;
  /** Listens to every step. Returns the unsubscribe function. */
  subscribe(listener: (event: ActivationEvent) => void): () => void;
}
