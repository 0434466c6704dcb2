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
import type { InvocationSigner, ProvisioningRequestSource, TokenStatusSource } from '../request/provisioning-request-source.js';
import type {
  ProvisioningOutcome,
  ProvisioningSessionEvent,
  ProvisioningSessionListener,
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
 * const session = issuer.startProvisioning({ account, accountRef: 'acc_123', wallet: channel });
 * const unsubscribe = session.subscribe((event) => render(event));
 * cancelButton.onclick = () => session.cancel();
 * try {
 *   const outcome = await session.completed;
 *   showDone(outcome.status);
 * } catch (error) {
 *   showFailure((error as ProvisioningError).code, session.state);
 * } finally {
 *   unsubscribe();
 * }
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
   * Resolves when the session reaches `completed`; rejects with a typed
   * `ProvisioningError` in every other terminal state (`declined`: the code
   * the wallet reported, default `declined`; `cancelled`: `cancelled`;
   * `expired`: `expired`; `failed`: what failed, e.g. `timeout`,
   * `network_error`, `unknown_key`). Never unhandled on its own.
   */
  readonly completed: Promise<ProvisioningOutcome>;
  /** Starts the session (once; later calls do nothing) and returns {@link ProvisioningSession.completed}. */
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

/** What one session is for. @internal */
export interface SessionInput {
  account: AccountHint;
  accountRef: string | undefined;
  accountId?: string | undefined;
  card: Card | undefined;
  wallet: AppChannel;
  signal: AbortSignal | undefined;
  correlationId?: string | undefined;
}

const noop = () => {};

/** Checks that `signed` is `original` plus a signature, nothing else changed. */
function checkSignedInvocation(original: Invocation, signed: Invocation): Invocation {
  const parsed = parseInvocation(signed);
  const { signature, ...rest } = parsed;
  if (signature === undefined || canonicalJson(rest) !== canonicalJson(original)) {
    throw createError('invalid_message', 'The invocation signer did not return the same invocation, signed');
  }
  return parsed;
}

/** The session state machine. Not exported from the package: use {@link ProvisioningSession}. @internal */
export class Session implements ProvisioningSession {
  readonly id: string;
  readonly correlationId: string;
  readonly expiresAt: number;
  readonly completed: Promise<ProvisioningOutcome>;
  readonly #createdAt: number;
  readonly #iat: number;
  readonly #config: SessionConfig;
  readonly #input: SessionInput;
  readonly #controller = new AbortController();
  readonly #listeners = new Set<ProvisioningSessionListener>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #cleanups: Array<() => void> = [];
  #resolve: (outcome: ProvisioningOutcome) => void = noop;
  #reject: (error: ProvisioningError) => void = noop;
  #state: SessionState = 'created';
  #updatedAt: number;
  #started = false;
  #awaiting: 'identifiers' | 'result' | undefined;
  #onIdentifiers: ((identifiers: Identifiers) => void) | undefined;
  #identifiers: Identifiers | undefined;
  #result: Result | undefined;
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
    this.completed = new Promise<ProvisioningOutcome>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.completed.catch(noop);
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
    return this.completed;
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
      account: { ...this.#input.account },
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
    const { wallet, accountRef, card } = this.#input;
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
      const signed = await withDeadline((s) => signer(unsigned, { accountRef, signal: s, correlationId: this.correlationId }), {
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

    // 3. Build
    const built = await withDeadline((s) => this.#config.requestSource.buildRequest({ identifiers, accountRef, card, accountId: this.#input.accountId }, { signal: s, correlationId: this.correlationId }), {
      timeoutMs: timeouts.requestMs,
      signal,
      what: 'Building the provisioning request',
    });
    // The session's correlation id rides along to the wallet (the request source may not have set it).
    const message: ProvisioningRequestMessage = { ...parseProvisioningRequestMessage(built), correlationId: this.correlationId };
    if (message.sessionId !== this.id) throw createError('session_mismatch', 'The request source built a request for another session');
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
      account: { ...this.#input.account },
      iat: this.#iat,
      exp: this.#iat + this.#config.lifetimeSeconds,
      correlationId: this.correlationId,
    };
    if (this.#config.replyTo !== undefined) invocation.replyTo = this.#config.replyTo;
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
      this.#rejectMessage(createError('session_mismatch', `A ${message.type} message for another session was ignored`));
      return;
    }
    if (!this.#identifiers && this.#config.clock.now() >= this.expiresAt) {
      this.#rejectMessage(createError('expired', `A ${message.type} message arrived after the session expired`));
      this.#end('expired', new ExpiryError('expired', 'The wallet did not answer before the session expired'));
      return;
    }
    if (message.type === 'identifiers') {
      if (this.#identifiers) {
        this.#rejectMessage(createError('replayed', 'The wallet identifiers were already accepted; the repeat was ignored'));
      } else if (this.#awaiting !== 'identifiers') {
        this.#rejectMessage(createError('unexpected_message', 'Identifiers arrived before the invocation was sent'));
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
    this.#rejectMessage(createError('unexpected_message', `A ${message.type} message is not expected from the wallet`));
  }

  #finishWith(result: Result): void {
    const code = result.errorCode as ErrorCode | undefined;
    switch (result.status) {
      case 'provisioned':
      case 'pending_activation':
        if (this.#awaiting !== 'result') {
          this.#rejectMessage(createError('unexpected_message', 'A success result arrived before the request was delivered'));
          return;
        }
        this.#result = result;
        // A result proves delivery, even if it beat the send's acknowledgement.
        if (this.#state === 'request_built') this.#transition('delivered');
        if (result.status === 'pending_activation' && this.#config.tokenStatusSource) {
          // One result only: a repeat while the methods are read is refused as early.
          this.#awaiting = undefined;
          void this.#readVerification(result.tokenReferenceId!).then(() => this.#end('completed'));
          return;
        }
        this.#end('completed');
        return;
      case 'declined':
        this.#result = result;
        this.#end('declined', createError(code ?? 'declined', undefined, { details: { reportedBy: 'wallet' } }));
        return;
      case 'cancelled':
        this.#result = result;
        this.#end('cancelled', createError(code ?? 'cancelled', undefined, { details: { reportedBy: 'wallet' } }));
        return;
      default:
        this.#result = result;
        this.#end('failed', createError(code ?? 'internal_error', 'The wallet reported a failure', { details: { reportedBy: 'wallet' } }));
    }
  }

  /** Reads the methods of a pending token for the outcome; a failure is kept as `verificationError`, never ends the session otherwise. */
  async #readVerification(tokenReferenceId: string): Promise<void> {
    const source = this.#config.tokenStatusSource!;
    try {
      const status = await withDeadline((signal) => source.getTokenStatus(tokenReferenceId, { signal }), {
        timeoutMs: this.#config.timeouts.requestMs,
        signal: this.#controller.signal,
        what: 'Reading the verification methods',
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
      account: { ...this.#input.account },
    };
    this.#addFacts(event);
    this.#emit(event);
  }

  /** Ends the session once: terminal state, event, cleanup, abort in-flight work, settle `completed`. */
  #end(state: 'completed' | 'declined' | 'failed' | 'cancelled' | 'expired', error?: ProvisioningError): void {
    if (isTerminalState(this.#state)) return;
    // Every error the host sees carries the attempt's correlation id.
    if (error) withCorrelationId(error, this.correlationId);
    this.#error = error;
    // Every live state may fail; any other ending not allowed from here is reported as `failed`.
    this.#transition(SESSION_TRANSITIONS[this.#state].includes(state) ? state : 'failed');
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    this.#controller.abort(error ?? new SessionError('session_state', 'The session has ended'));
    if (this.#config.closeChannelOnEnd && this.#started) {
      try {
        this.#input.wallet.close();
      } catch {
        // Closing is best effort; the session has ended either way.
      }
    }
    if (error) {
      this.#reject(error);
      return;
    }
    const result = this.#result!;
    const outcome: ProvisioningOutcome = { sessionId: this.id, state: 'completed', status: result.status as ProvisioningOutcome['status'] };
    if (result.tokenReferenceId !== undefined) outcome.tokenReferenceId = result.tokenReferenceId;
    if (this.#verification !== undefined) outcome.verification = this.#verification;
    if (this.#verificationError !== undefined) outcome.verificationError = this.#verificationError.toJSON();
    this.#resolve(outcome);
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
