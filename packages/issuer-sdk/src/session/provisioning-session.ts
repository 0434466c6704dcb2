import {
  type AccountHint,
  type AppChannel,
  type AppMessage,
  type Card,
  type Clock,
  type ErrorCode,
  ExpiryError,
  type Identifiers,
  type Invocation,
  type ProvisioningError,
  type ProvisioningRequestMessage,
  type RandomSource,
  type Result,
  SessionError,
  type Verification,
  TransportError,
  canonicalJson,
  createError,
  createCorrelationId,
  createSessionId,
  parseInvocation,
  parseProvisioningRequestMessage,
  toProvisioningError,
  withCorrelationId,
} from '@pushprov/protocol';
import { withDeadline } from '../lib/deadline.js';
import type {
  BuildRequestInput,
  InvocationSigner,
  InvocationSigningContext,
  ProvisioningRequestSource,
  TokenStatusSource,
} from '../request/provisioning-request-source.js';
import type {
  OutcomeStatus,
  ProvisioningFailure,
  ProvisioningOutcome,
  ProvisioningSessionEvent,
  ProvisioningSessionListener,
  ProvisioningSuccess,
  SessionAccountOutcome,
  SessionSnapshot,
  SessionStateEvent,
} from './session-events.js';
import { SESSION_TRANSITIONS, type SessionState, isTerminalState } from './session-state.js';

/**
 * How long each step may take, in milliseconds.
 *
 * @example
 * ```ts
 * const timeouts: SessionTimeouts = { identifiersMs: 120_000, requestMs: 20_000, resultMs: 600_000 };
 * ```
 */
export interface SessionTimeouts {
  /** Waiting for the wallet's identifiers after the invocation was sent. Default: until the session expires. */
  identifiersMs?: number;
  /** Signing the invocation and building the request (backend call). Default 30 000. */
  requestMs?: number;
  /** Each send on the wallet channel. Default 10 000. */
  sendMs?: number;
  /** Waiting for the wallet's result after the request was delivered. Default 300 000. */
  resultMs?: number;
}

/**
 * One provisioning: a state machine from `created` to a terminal state.
 * Made by `IssuerClient.createSession` or `IssuerClient.startProvisioning`.
 *
 * @example
 * ```ts
 * const session = issuer.startProvisioning({ account, accountRef: 'acc_123', wallet: channel, onEvent: render });
 * cancelButton.onclick = () => session.cancel();
 * const outcome = await session.outcome; // never rejects
 * if (outcome.state === 'completed') showDone(outcome.accounts);
 * else showFailure(outcome.error.code, outcome.status);
 * ```
 */
export interface ProvisioningSession {
  /** The session id (128 random bits, base64url): everything in the flow is bound to it. */
  readonly id: string;
  /**
   * The provisioning attempt's correlation id: the host's (`correlationId`
   * option) or a fresh `cor_…`. It travels in the invocation, the request
   * message and the backend calls' `X-Correlation-Id`; the wallet and the
   * token service log it, and every error of the session carries it.
   */
  readonly correlationId: string;
  /** The current state. */
  readonly state: SessionState;
  /** When the invocation expires (epoch milliseconds): identifiers are accepted only before. */
  readonly expiresAt: number;
  /**
   * Resolves when the session reaches a terminal state, whichever: it never
   * rejects. `status` says how it ended (`provisioned`, `pending_activation`,
   * `declined`, `failed`, `cancelled`, `expired`); the last four carry the
   * typed `error` (`declined`: the code the wallet reported, default
   * `declined`; `cancelled`: `cancelled`; `expired`: `expired`; `failed`:
   * what failed, e.g. `timeout`, `network_error`, `unknown_key`), and
   * `accounts` has one entry per account.
   */
  readonly outcome: Promise<ProvisioningOutcome>;
  /** Starts the session (once; later calls do nothing) and returns {@link ProvisioningSession.outcome}. */
  run(): Promise<ProvisioningOutcome>;
  /** Cancels the session at whatever step it is: it ends `cancelled`, in-flight work is aborted. Idempotent. */
  cancel(): void;
  /** Listens to state changes and refused messages. Returns the unsubscribe function. */
  subscribe(listener: ProvisioningSessionListener): () => void;
  /** The current state and safe facts about the session. */
  snapshot(): SessionSnapshot;
}

/** Everything a session needs from its client. @internal */
export interface SessionConfig {
  issuerId: string;
  requestSource: ProvisioningRequestSource;
  invocationSigner: InvocationSigner | undefined;
  tokenStatusSource: TokenStatusSource | undefined;
  replyTo: string | undefined;
  lifetimeSeconds: number;
  timeouts: Required<Omit<SessionTimeouts, 'identifiersMs'>> & Pick<SessionTimeouts, 'identifiersMs'>;
  closeChannelOnEnd: boolean;
  clock: Clock;
  random: RandomSource;
}

/** One account of a session, checked. @internal */
export interface SessionAccountInput {
  hint: AccountHint;
  accountRef: string | undefined;
  /** The request claims' accountId (local mode); in the several-account form, the hint's. */
  accountId: string | undefined;
  card: Card | undefined;
}

/** What one session is for. @internal */
export interface SessionInput {
  /** The session's accounts, in invocation order (one in the single-account form). */
  accounts: SessionAccountInput[];
  /** True for the several-account form: the invocation carries `accounts`, the wallet picks `accountIds`. */
  multi: boolean;
  wallet: AppChannel;
  signal: AbortSignal | undefined;
  correlationId?: string | undefined;
  onEvent?: ProvisioningSessionListener | undefined;
  /** Wallet-initiated: the `accounts-request` nonce the invocation answers. */
  walletNonce?: string | undefined;
}

const noop = () => {};

/** Checks that `signed` is `original` plus a signature, nothing else changed. */
function checkSignedInvocation(original: Invocation, signed: Invocation): Invocation {
  const parsed = parseInvocation(signed);
  const { signature, ...rest } = parsed;
  if (signature === undefined || canonicalJson(rest) !== canonicalJson(original)) {
    throw createError('invalid_message', 'The signer did not return the invocation, signed');
  }
  return parsed;
}

/**
 * Why the account ids a wallet message names (identifiers' `accountIds`, a
 * result's `accounts`) do not fit the session, or undefined: a single-account
 * session takes none; a several-account one takes only offered ids, and
 * needs them when `required`.
 */
function idsProblem(input: SessionInput, ids: string[] | undefined, required: boolean): string | undefined {
  if (!input.multi) return ids && 'A single-account session names no accounts';
  if (!ids) return required ? 'The wallet must name its accounts' : undefined;
  return ids.every((id) => input.accounts.some((a) => a.hint.accountId === id)) ? undefined : 'The wallet named an account not offered';
}

/**
 * Checks that a built message has the session's form and names each picked
 * account exactly once (a request or a refusal); returns the refusals.
 */
function checkBuilt(message: ProvisioningRequestMessage, input: BuildRequestInput): Map<string, string> {
  const named = message.encryptedRequest === undefined ? [...(message.requests ?? []), ...(message.refusals ?? [])].map((a) => a.accountId) : [undefined];
  const picked = input.accounts?.map((a) => a.accountId) ?? [undefined];
  // Opaque ids have no comma: the sorted lists, joined, are equal exactly when they name the same accounts.
  if (String(named.sort()) !== String(picked.sort())) throw createError('invalid_message', 'The request source did not answer for the picked accounts');
  return new Map(message.refusals?.map((r) => [r.accountId, r.errorCode]));
}

/**
 * One entry per account of the session, in invocation order: the wallet's
 * per-account outcome when it gave one; else the issuer's refusal; else
 * `consent_denied` for an account the user did not pick; else (one account)
 * the result's; else how the whole session ended.
 */
function accountOutcomes(
  input: SessionInput,
  result: Result | undefined,
  picked: string[] | undefined,
  refusals: Map<string, string>,
  status: OutcomeStatus,
  errorCode: string | undefined,
): SessionAccountOutcome[] {
  return input.accounts.map(({ hint }) => {
    const id = hint.accountId;
    const entry: SessionAccountOutcome = id === undefined ? { status } : { accountId: id, status };
    const reported = result?.accounts?.find((a) => a.accountId === id) ?? (input.multi ? undefined : result);
    const refusal = refusals.get(id!);
    if (reported) {
      entry.status = reported.status;
      if (reported.tokenReferenceId !== undefined) entry.tokenReferenceId = reported.tokenReferenceId;
      if (reported.errorCode !== undefined) entry.errorCode = reported.errorCode;
    } else if (refusal !== undefined) {
      entry.status = 'failed';
      entry.errorCode = refusal;
    } else if (input.multi && picked && !picked.includes(id!)) {
      entry.status = 'cancelled';
      entry.errorCode = 'consent_denied';
    } else if (errorCode !== undefined) {
      entry.errorCode = errorCode;
    }
    return entry;
  });
}

/** The session state machine. Not exported from the package: use {@link ProvisioningSession}. @internal */
export class Session implements ProvisioningSession {
  readonly id: string;
  readonly correlationId: string;
  readonly expiresAt: number;
  readonly outcome: Promise<ProvisioningOutcome>;
  readonly #createdAt: number;
  readonly #iat: number;
  readonly #config: SessionConfig;
  readonly #input: SessionInput;
  readonly #controller = new AbortController();
  readonly #listeners = new Set<ProvisioningSessionListener>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #cleanups: Array<() => void> = [];
  #resolve: (outcome: ProvisioningOutcome) => void = noop;
  #state: SessionState = 'created';
  #updatedAt: number;
  #started = false;
  #awaiting: 'identifiers' | 'result' | undefined;
  #onIdentifiers: ((identifiers: Identifiers) => void) | undefined;
  #identifiers: Identifiers | undefined;
  #result: Result | undefined;
  /** The picked accounts the issuer built no request for (several-account form): accountId -> code. */
  #refusals = new Map<string, string>();
  #error: ProvisioningError | undefined;
  #verification: Verification | undefined;
  #verificationError: ProvisioningError | undefined;

  constructor(config: SessionConfig, input: SessionInput) {
    this.#config = config;
    this.#input = input;
    this.id = createSessionId(config.random);
    this.correlationId = input.correlationId ?? createCorrelationId(config.random);
    this.#createdAt = config.clock.now();
    this.#updatedAt = this.#createdAt;
    this.#iat = Math.floor(this.#createdAt / 1000);
    this.expiresAt = (this.#iat + config.lifetimeSeconds) * 1000;
    this.outcome = new Promise<ProvisioningOutcome>((resolve) => {
      this.#resolve = resolve;
    });
    if (input.onEvent) this.#listeners.add(input.onEvent);
    const { signal } = input;
    if (signal) {
      const onAbort = () => this.#end('cancelled', new SessionError('cancelled', 'The session was cancelled', { cause: signal.reason }));
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        this.#cleanups.push(() => signal.removeEventListener('abort', onAbort));
      }
    }
  }

  get state(): SessionState {
    return this.#state;
  }

  run(): Promise<ProvisioningOutcome> {
    if (!this.#started && this.#state === 'created') {
      this.#started = true;
      this.#steps().catch((error: unknown) => {
        const failure = toProvisioningError(error);
        this.#end(failure.code === 'cancelled' ? 'cancelled' : 'failed', failure);
      });
    }
    return this.outcome;
  }

  cancel(): void {
    this.#end('cancelled', new SessionError('cancelled', 'The session was cancelled'));
  }

  subscribe(listener: ProvisioningSessionListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  snapshot(): SessionSnapshot {
    const snapshot: SessionSnapshot = {
      sessionId: this.id,
      correlationId: this.correlationId,
      state: this.#state,
      createdAt: this.#createdAt,
      updatedAt: this.#updatedAt,
      expiresAt: this.expiresAt,
      account: { ...this.#input.accounts[0]!.hint },
      accounts: this.#input.accounts.map((a) => ({ ...a.hint })),
    };
    this.#addFacts(snapshot);
    return snapshot;
  }

  #addFacts(target: SessionSnapshot | SessionStateEvent): void {
    if (this.#identifiers) target.walletProviderId = this.#identifiers.walletProviderId;
    if (this.#result) target.resultStatus = this.#result.status;
    if (this.#result?.tokenReferenceId !== undefined) target.tokenReferenceId = this.#result.tokenReferenceId;
    if (this.#error) target.error = this.#error.toJSON();
  }

  async #steps(): Promise<void> {
    const { wallet, accounts, multi } = this.#input;
    const { timeouts, clock } = this.#config;
    const signal = this.#controller.signal;

    // Listen for the whole session, before anything is sent: a fast reply, or
    // a stray message between two steps, is still seen and checked.
    this.#cleanups.push(
      wallet.subscribe(
        (message) => this.#receive(message),
        (error) => this.#rejectMessage(error),
      ),
      wallet.onClose((reason) => this.#end('failed', reason)),
    );
    this.#arm(this.expiresAt - clock.now(), () => {
      if (!this.#identifiers) this.#end('expired', new ExpiryError('expired', 'The wallet did not answer before the session expired'));
    });

    // 1. Invoke
    let invocation = this.#createInvocation();
    const signer = this.#config.invocationSigner;
    if (signer) {
      const unsigned = invocation;
      const context: InvocationSigningContext = { accountRef: accounts[0]!.accountRef, signal, correlationId: this.correlationId };
      if (multi) context.accountRefs = accounts.flatMap((a) => (a.accountRef === undefined ? [] : [a.accountRef]));
      const signed = await withDeadline((s) => signer(unsigned, { ...context, signal: s }), {
        timeoutMs: timeouts.requestMs,
        signal,
        what: 'Signing the invocation',
      });
      invocation = checkSignedInvocation(unsigned, signed);
    }
    const identifiersArrived = this.#expectIdentifiers();
    await withDeadline(() => wallet.send(invocation), { timeoutMs: timeouts.sendMs, signal, what: 'Sending the invocation' });
    this.#transition('invoked');
    const identifiersMs = timeouts.identifiersMs;
    if (identifiersMs !== undefined && identifiersMs < this.expiresAt - clock.now()) {
      this.#arm(identifiersMs, () => {
        if (!this.#identifiers) this.#end('failed', new TransportError('timeout', `The wallet did not answer within ${identifiersMs} ms`));
      });
    }

    // 2. Identify
    const identifiers = await identifiersArrived;
    this.#transition('identified');

    // 3. Build: one call for every picked account.
    const input: BuildRequestInput = { identifiers };
    if (multi) {
      const picked = new Set(identifiers.accountIds);
      input.accounts = accounts
        .filter((a) => picked.has(a.hint.accountId!))
        .map((a) => ({ accountId: a.accountId!, accountRef: a.accountRef, card: a.card }));
    } else {
      const [only] = accounts;
      input.accountRef = only!.accountRef;
      input.card = only!.card;
      input.accountId = only!.accountId;
    }
    const built = await withDeadline((s) => this.#config.requestSource.buildRequest(input, { signal: s, correlationId: this.correlationId }), {
      timeoutMs: timeouts.requestMs,
      signal,
      what: 'Building the provisioning request',
    });
    // The session's correlation id rides along to the wallet (the request source may not have set it).
    const message: ProvisioningRequestMessage = { ...parseProvisioningRequestMessage(built), correlationId: this.correlationId };
    if (message.sessionId !== this.id) throw createError('session_mismatch', 'The request source built for another session');
    this.#refusals = checkBuilt(message, input);
    this.#transition('request_built');

    // 4. Deliver, then wait for the result (it ends the session in #receive).
    this.#awaiting = 'result';
    await withDeadline(() => wallet.send(message), { timeoutMs: timeouts.sendMs, signal, what: 'Delivering the request' });
    if (this.#state === 'request_built') this.#transition('delivered');
    this.#arm(timeouts.resultMs, () => this.#end('failed', new TransportError('timeout', `The wallet reported no result within ${timeouts.resultMs} ms`)));
  }

  #createInvocation(): Invocation {
    const invocation: Invocation = {
      type: 'invocation',
      version: 1,
      sessionId: this.id,
      issuerId: this.#config.issuerId,
      iat: this.#iat,
      exp: this.#iat + this.#config.lifetimeSeconds,
      correlationId: this.correlationId,
    };
    const hints = this.#input.accounts.map((a) => ({ ...a.hint }));
    if (this.#input.multi) invocation.accounts = hints;
    else invocation.account = hints[0]!;
    if (this.#config.replyTo !== undefined) invocation.replyTo = this.#config.replyTo;
    if (this.#input.walletNonce !== undefined) invocation.walletNonce = this.#input.walletNonce;
    return invocation;
  }

  #expectIdentifiers(): Promise<Identifiers> {
    const arrived = new Promise<Identifiers>((resolve, reject) => {
      const signal = this.#controller.signal;
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      this.#awaiting = 'identifiers';
      this.#onIdentifiers = resolve;
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    arrived.catch(noop);
    return arrived;
  }

  /** Routes one checked message from the wallet channel. Only this session's expected messages move it on. */
  #receive(message: AppMessage): void {
    if (isTerminalState(this.#state)) return;
    // An activation invocation (spec 4.17), a status query or answer, an accounts request or refusal (4.20 to 4.22) belong to no provisioning session.
    if (!('sessionId' in message) || message.sessionId !== this.id) {
      this.#rejectMessage(createError('session_mismatch', `A ${message.type} message for another session`));
      return;
    }
    if (!this.#identifiers && this.#config.clock.now() >= this.expiresAt) {
      this.#rejectMessage(createError('expired', `A ${message.type} message arrived after the session expired`));
      this.#end('expired', new ExpiryError('expired', 'The wallet did not answer before the session expired'));
      return;
    }
    if (message.type === 'identifiers') {
      if (this.#identifiers) {
        this.#rejectMessage(createError('replayed', 'Identifiers were already accepted'));
      } else if (this.#awaiting !== 'identifiers') {
        this.#rejectMessage(createError('unexpected_message', 'Identifiers came before the invocation'));
      } else if (idsProblem(this.#input, message.accountIds, true)) {
        // Refused, not accepted: the session goes on waiting (a wallet may send corrected identifiers).
        this.#rejectMessage(createError('invalid_message', idsProblem(this.#input, message.accountIds, true)));
      } else {
        this.#identifiers = message;
        this.#awaiting = undefined;
        this.#onIdentifiers?.(message);
      }
      return;
    }
    if (message.type === 'result') {
      this.#finishWith(message);
      return;
    }
    this.#rejectMessage(createError('unexpected_message', `A ${message.type} message is not expected`));
  }

  #finishWith(result: Result): void {
    // A wallet that ended before it had a request (it declined, or failed) may answer for the whole session.
    const success = result.status === 'provisioned' || result.status === 'pending_activation';
    const problem = idsProblem(this.#input, result.accounts?.map((a) => a.accountId), success);
    if (problem) {
      this.#rejectMessage(createError('invalid_message', problem));
      return;
    }
    const code = (result.errorCode ?? result.accounts?.find((a) => a.errorCode !== undefined)?.errorCode) as ErrorCode | undefined;
    switch (result.status) {
      case 'provisioned':
      case 'pending_activation':
        if (this.#awaiting !== 'result') {
          this.#rejectMessage(createError('unexpected_message', 'A success result came before the request'));
          return;
        }
        this.#result = result;
        // A result proves delivery, even if it beat the send's acknowledgement.
        if (this.#state === 'request_built') this.#transition('delivered');
        if (result.status === 'pending_activation' && result.tokenReferenceId !== undefined && this.#config.tokenStatusSource) {
          // One result only: a repeat while the methods are read is refused as early.
          this.#awaiting = undefined;
          void this.#readVerification(result.tokenReferenceId).then(() => this.#end('completed'));
          return;
        }
        this.#end('completed');
        return;
      default: {
        // declined / cancelled end so, with the wallet's code (default: the status itself); anything else fails.
        this.#result = result;
        const ended = result.status === 'declined' || result.status === 'cancelled' ? result.status : 'failed';
        const failed = ended === 'failed';
        this.#end(ended, createError(code ?? (failed ? 'internal_error' : ended), failed ? 'The wallet reported a failure' : undefined, { details: { reportedBy: 'wallet' } }));
      }
    }
  }

  /** Reads the methods of a pending token for the outcome; a failure is kept as `verificationError`, never ends the session otherwise. */
  async #readVerification(tokenReferenceId: string): Promise<void> {
    const source = this.#config.tokenStatusSource!;
    try {
      const status = await withDeadline((signal) => source.getTokenStatus(tokenReferenceId, { signal }), {
        timeoutMs: this.#config.timeouts.requestMs,
        signal: this.#controller.signal,
        what: 'Reading the token status',
      });
      if (status.tokenReferenceId !== tokenReferenceId) throw createError('invalid_message', 'The token status is for another token');
      this.#verification = status.verification;
    } catch (error) {
      this.#verificationError = toProvisioningError(error);
    }
  }

  #arm(ms: number, fire: () => void): void {
    // The session may have ended while a step awaited (a fast result): nothing is left to time out.
    if (isTerminalState(this.#state)) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fire();
    }, Math.max(0, ms));
    this.#timers.add(timer);
  }

  #transition(next: SessionState): void {
    const previous = this.#state;
    if (isTerminalState(previous)) throw this.#error ?? new SessionError('session_state', 'The session has ended');
    if (!SESSION_TRANSITIONS[previous].includes(next)) {
      throw new SessionError('session_state', `A session cannot go from ${previous} to ${next}`);
    }
    this.#state = next;
    this.#updatedAt = this.#config.clock.now();
    const event: SessionStateEvent = {
      type: 'state',
      sessionId: this.id,
      state: next,
      previousState: previous,
      at: this.#updatedAt,
      account: { ...this.#input.accounts[0]!.hint },
    };
    this.#addFacts(event);
    this.#emit(event);
  }

  /**
   * Ends the session once: per-account events (when the wallet's result is
   * in), terminal state and its event, cleanup, abort in-flight work, settle
   * `outcome`.
   */
  #end(state: 'completed' | 'declined' | 'failed' | 'cancelled' | 'expired', error?: ProvisioningError): void {
    if (isTerminalState(this.#state)) return;
    // Every live state may fail; any other ending not allowed from here is reported as `failed`.
    const ended = SESSION_TRANSITIONS[this.#state].includes(state) ? state : 'failed';
    const failure = ended === 'completed' ? undefined : (error ?? new SessionError('session_state', `The session could not end ${state}`));
    // Every error the host sees carries the attempt's correlation id.
    if (failure) withCorrelationId(failure, this.correlationId);
    this.#error = failure;
    const result = this.#result;
    const accounts = accountOutcomes(this.#input, result, this.#identifiers?.accountIds, this.#refusals, ended === 'completed' ? result!.status : ended, failure?.code);
    if (result) {
      const at = this.#config.clock.now();
      for (const account of accounts) this.#emit({ type: 'account', sessionId: this.id, ...account, at });
    }
    this.#transition(ended);
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    this.#controller.abort(failure ?? new SessionError('session_state', 'The session has ended'));
    if (this.#config.closeChannelOnEnd && this.#started) {
      try {
        this.#input.wallet.close();
      } catch {
        // Closing is best effort; the session has ended either way.
      }
    }
    const base = { sessionId: this.id, correlationId: this.correlationId, accounts };
    if (failure) {
      this.#resolve({ ...base, state: ended as ProvisioningFailure['state'], status: ended as ProvisioningFailure['status'], error: failure });
      return;
    }
    const success: ProvisioningSuccess = { ...base, state: 'completed', status: result!.status as ProvisioningSuccess['status'] };
    if (result!.tokenReferenceId !== undefined) success.tokenReferenceId = result!.tokenReferenceId;
    if (this.#verification !== undefined) success.verification = this.#verification;
    if (this.#verificationError !== undefined) success.verificationError = this.#verificationError.toJSON();
    this.#resolve(success);
  }

  #rejectMessage(error: ProvisioningError): void {
    if (isTerminalState(this.#state)) return;
    withCorrelationId(error, this.correlationId);
    this.#emit({ type: 'message_rejected', sessionId: this.id, state: this.#state, at: this.#config.clock.now(), error: error.toJSON() });
  }

  #emit(event: ProvisioningSessionEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // A host listener's failure must not break the session.
      }
    }
  }
}
