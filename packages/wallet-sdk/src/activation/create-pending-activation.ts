import {
  type ActivationInvocation,
  type Clock,
  OTP_METHOD_TYPES,
  type ProvisioningError,
  type RandomSource,
  type TokenStatusResponse,
  type VerificationMethod,
  type VerificationStarted,
  createCorrelationId,
  createError,
  createId,
  createNonce,
  epochSeconds,
  isProvisioningError,
  parseActivationInvocation,
  toProvisioningError,
  withCorrelationId,
  zVerificationCode,
} from '@pushprov/protocol';
import { sleep as defaultSleep, raceSignal, throwIfAborted } from '../lib/abort.js';
import type { TokenServiceClient } from '../token-service/token-service-client.js';
import type { StoredActivation, StoredToken, TokenStore } from '../token-store/token-store.js';
import type {
  ActivationCallOptions,
  ActivationEvent,
  ActivationSnapshot,
  ActivationState,
  IssuerAppOpener,
  IssuerChannelProvider,
  PendingActivation,
  WaitUntilActiveOptions,
} from './types.js';

/** What a pending activation needs from its wallet. */
export interface ActivationContext {
  tokenService: TokenServiceClient;
  tokenStore: TokenStore;
  openIssuerApp: IssuerAppOpener | undefined;
  /** Where an `issuer_app` method's activation invocation is sent. */
  issuerChannel?: IssuerChannelProvider | undefined;
  /** The wallet provider the invocation names. */
  walletProviderId?: string | undefined;
  clock: Clock;
  random: RandomSource;
  /** Waits between status reads; rejects when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** The wallet's event listener. */
  emit: (event: ActivationEvent) => void;
}

const isOtp = (method: VerificationMethod): boolean => (OTP_METHOD_TYPES as readonly string[]).includes(method.type);
const never = new AbortController().signal;

/** The state a stored activation resumes in. */
function resumedState(stored: StoredToken, method: VerificationMethod | undefined): ActivationState {
  if (stored.accessData.status === 'active' && stored.activation === undefined) return 'active';
  if (method === undefined) return 'choosing_method';
  if (isOtp(method)) return stored.activation?.code ? 'awaiting_code' : 'choosing_method';
  return 'awaiting_issuer';
}

/**
 * Makes the activation of a stored token. A token that is already active
 * gives an activation in state `active`; one without activation state (an
 * older store) cannot be resumed (`token_not_pending`).
 */
export function createPendingActivation(stored: StoredToken, context: ActivationContext): PendingActivation {
  const tokenReferenceId = stored.accessData.tokenReferenceId;
  const { issuerId } = stored;
  if (stored.activation === undefined && stored.accessData.status !== 'active') {
    throw createError('token_not_pending', 'The stored token has no activation to resume');
  }
  let record: StoredToken = stored;
  let activation: StoredActivation | undefined = stored.activation;
  const methods = activation?.verification.methods ?? [];
  const chosen = () => methods.find((m) => m.id === activation?.methodId);
  let state: ActivationState = resumedState(stored, chosen());
  let busy = false;
  const listeners = new Set<(event: ActivationEvent) => void>();
  const sleep = context.sleep ?? defaultSleep;

  const snapshot = (): ActivationSnapshot => {
    const snap: ActivationSnapshot = {
      tokenReferenceId,
      issuerId,
      state,
      methods: methods.map((m) => ({ ...m })),
      expiresAt: activation?.verification.expiresAt ?? 0,
      lockedMethodIds: [...(activation?.lockedMethodIds ?? [])],
    };
    if (activation?.methodId !== undefined) snap.methodId = activation.methodId;
    if (activation?.code !== undefined) snap.code = { ...activation.code };
    return snap;
  };
  const emit = (step: ActivationEvent['step'], error?: ProvisioningError) => {
    // The provisioning attempt's correlation id, on every error the activation reports (and throws).
    if (error) withCorrelationId(error, stored.correlationId);
    const event: ActivationEvent = error ? { type: 'activation', step, snapshot: snapshot(), error } : { type: 'activation', step, snapshot: snapshot() };
    for (const listener of [context.emit, ...listeners]) {
      try {
        listener(event);
      } catch {
        // A listener's failure must not change the activation.
      }
    }
  };
  const setState = (next: ActivationState) => {
    if (next === state) return;
    state = next;
    emit('state');
  };
  const save = async (next: StoredActivation | undefined, status: 'active' | 'pending_activation' = 'pending_activation') => {
    const { activation: _old, ...rest } = record;
    const updated: StoredToken = { ...rest, accessData: { ...rest.accessData, status }, ...(next && { activation: next }) };
    await context.tokenStore.save(updated);
    record = updated;
    activation = next;
  };
  const becomeActive = async (status: TokenStatusResponse): Promise<TokenStatusResponse> => {
    await save(undefined, 'active');
    setState('active');
    return status;
  };
  const becomeExpired = async (): Promise<ProvisioningError> => {
    // The token is gone at the token service: the wallet deletes it too (it can never be used).
    await context.tokenStore.delete(tokenReferenceId);
    setState('expired');
    return createError('expired', 'The pending token has expired');
  };

  /** Runs one step: one at a time, not after the end, failures reported and the state restored. */
  async function step<T>(name: string, work: (signal: AbortSignal) => Promise<T>, options: ActivationCallOptions = {}): Promise<T> {
    if (busy) throw createError('session_state', `${name}: another activation step is still running`);
    if (state === 'active') throw createError('token_not_pending', 'The token is already active');
    if (state === 'expired') throw createError('expired', 'The pending token has expired');
    const signal = options.signal ?? never;
    const before = state;
    busy = true;
    try {
      throwIfAborted(signal);
      if (activation !== undefined && epochSeconds(context.clock) >= activation.verification.expiresAt) throw await becomeExpired();
      return await work(signal);
    } catch (caught) {
      let error = toProvisioningError(caught);
      // `state` may have moved during the step (read it afresh, not as narrowed above).
      const now = (): ActivationState => state;
      if (isProvisioningError(error, 'not_found') && now() !== 'expired') error = await becomeExpired();
      if (now() === 'requesting_code' || now() === 'checking_code') state = before;
      emit('failed', error);
      throw error;
    } finally {
      busy = false;
    }
  }

  const service = <K extends 'startVerification' | 'activateToken'>(name: K): NonNullable<TokenServiceClient[K]> => {
    const fn = context.tokenService[name];
    if (typeof fn !== 'function') throw createError('configuration_invalid', `The token service client has no ${name}`);
    return fn.bind(context.tokenService) as NonNullable<TokenServiceClient[K]>;
  };

  /** The token is no longer pending: find out whether it became active (issuer activation) or went away. */
  const followNotPending = async (error: ProvisioningError, signal: AbortSignal): Promise<TokenStatusResponse> => {
    const status = await raceSignal(context.tokenService.getTokenStatus(tokenReferenceId, { signal }), signal);
    if (status.status === 'active') return becomeActive(status);
    if (status.status === 'deleted') throw await becomeExpired();
    throw error;
  };

  const sendCode = async (method: VerificationMethod, signal: AbortSignal): Promise<ActivationSnapshot> => {
    const base = activation!;
    setState('requesting_code');
    let started: VerificationStarted;
    try {
      started = await raceSignal(
        service('startVerification')(tokenReferenceId, { methodId: method.id }, { idempotencyKey: createId('idem', context.random), signal }),
        signal,
      );
    } catch (caught) {
      const error = toProvisioningError(caught);
      if (isProvisioningError(error, 'verification_attempts_exhausted')) await lock(method.id);
      if (isProvisioningError(error, 'token_not_pending')) {
        await followNotPending(error, signal);
        return snapshot();
      }
      throw error;
    }
    await save({
      ...base,
      methodId: method.id,
      code: { length: started.codeLength, expiresAt: started.codeExpiresAt, resendAfter: started.resendAfter, attemptsLeft: started.attemptsLeft },
    });
    state = 'awaiting_code';
    emit('code_sent');
    return snapshot();
  };

  const lock = async (methodId: string) => {
    const base = activation!;
    const lockedMethodIds = [...new Set([...(base.lockedMethodIds ?? []), methodId])];
    const { code: _code, methodId: _chosen, ...rest } = base;
    await save({ ...rest, lockedMethodIds });
    state = 'choosing_method';
  };

  /** Hands the bank's app an activation invocation (spec section 4.17): over the issuer channel, and (or) through the host's opener. */
  const open = async (method: VerificationMethod, signal: AbortSignal, correlationId: string | undefined) => {
    const opener = context.openIssuerApp;
    const provider = context.issuerChannel;
    if (typeof opener !== 'function' && provider === undefined) {
      throw createError('configuration_invalid', 'No issuerChannel or openIssuerApp was given to reach the bank’s app with');
    }
    const walletProviderId = context.walletProviderId;
    const invocation: ActivationInvocation | undefined =
      walletProviderId === undefined
        ? undefined
        : parseActivationInvocation({
            type: 'activation-invocation',
            version: 1,
            tokenReferenceId,
            methodId: method.id,
            issuerId,
            walletProviderId,
            nonce: createNonce(context.random),
            correlationId: correlationId ?? stored.correlationId ?? createCorrelationId(context.random),
          });
    await raceSignal(
      (async () => {
        if (provider !== undefined) {
          const channel = typeof provider === 'function' ? await provider({ issuerId, tokenReferenceId }, { signal }) : provider;
          await channel.send(invocation!);
        }
        if (typeof opener === 'function') await opener({ issuerId, tokenReferenceId, methodId: method.id, ...(invocation && { invocation }) }, { signal });
      })(),
      signal,
    );
  };

  const readStatus = async (signal: AbortSignal): Promise<TokenStatusResponse | undefined> => {
    const status = await raceSignal(context.tokenService.getTokenStatus(tokenReferenceId, { signal }), signal);
    if (status.status === 'active') return becomeActive(status);
    if (status.status === 'deleted') throw await becomeExpired();
    if (status.status === 'pending_activation' && activation !== undefined && status.verification !== undefined) {
      // The token service's methods are the truth (a resume after a restart may find them changed).
      const { verification } = status;
      if (JSON.stringify(verification) !== JSON.stringify(activation.verification)) await save({ ...activation, verification });
    }
    return undefined;
  };

  const handle: PendingActivation = {
    tokenReferenceId,
    issuerId,
    get state() {
      return state;
    },
    snapshot,
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    chooseMethod: (methodId, options) =>
      step(
        'chooseMethod',
        async (signal) => {
          const method = methods.find((m) => m.id === methodId);
          if (method === undefined) throw createError('verification_method_unavailable', 'The token offers no method with that id');
          if (activation?.lockedMethodIds?.includes(methodId)) {
            throw createError('verification_attempts_exhausted', 'No attempts are left for this method');
          }
          if (isOtp(method)) {
            if (activation?.methodId === methodId && activation.code && context.clock.now() < activation.code.resendAfter * 1000) {
              // Already sent moments ago: the same code entry again, no second code.
              state = 'awaiting_code';
              emit('state');
              return snapshot();
            }
            return sendCode(method, signal);
          }
          const { code: _code, ...rest } = activation!;
          if (method.type === 'issuer_app') await open(method, signal, options?.correlationId);
          await save({ ...rest, methodId });
          state = 'awaiting_issuer';
          emit('state');
          return snapshot();
        },
        options,
      ),

    resendCode: (options) =>
      step(
        'resendCode',
        async (signal) => {
          const method = chosen();
          if (method === undefined || !isOtp(method)) throw createError('session_state', 'Choose a code method first');
          const code = activation?.code;
          const waitMs = code === undefined ? 0 : code.resendAfter * 1000 - context.clock.now();
          if (waitMs > 0) {
            throw createError('verification_cooldown', 'A new code cannot be sent yet', { details: { retryAfterMs: Math.ceil(waitMs) } });
          }
          return sendCode(method, signal);
        },
        options,
      ),

    submitCode: (code, options) =>
      step(
        'submitCode',
        async (signal) => {
          const method = chosen();
          if (method === undefined || !isOtp(method) || activation?.code === undefined) throw createError('session_state', 'No code was sent yet');
          if (typeof code !== 'string' || !zVerificationCode.safeParse(code).success) {
            throw createError('invalid_message', 'The code must be 6 to 8 digits');
          }
          setState('checking_code');
          try {
            const status = await raceSignal(
              service('activateToken')(tokenReferenceId, { methodId: method.id, code }, { idempotencyKey: createId('idem', context.random), signal }),
              signal,
            );
            return await becomeActive(status);
          } catch (caught) {
            const error = toProvisioningError(caught);
            const left = error.details?.attemptsLeft;
            if (isProvisioningError(error, 'verification_code_invalid') && typeof left === 'number' && activation?.code) {
              await save({ ...activation, code: { ...activation.code, attemptsLeft: left } });
            }
            if (isProvisioningError(error, 'verification_attempts_exhausted')) await lock(method.id);
            if (isProvisioningError(error, 'token_not_pending')) return followNotPending(error, signal);
            throw error;
          }
        },
        options,
      ),

    openIssuerApp: (options) =>
      step(
        'openIssuerApp',
        async (signal) => {
          const method = chosen();
          if (method === undefined || method.type !== 'issuer_app') throw createError('session_state', 'Choose the bank’s app first');
          await open(method, signal, options?.correlationId);
        },
        options,
      ),

    refresh: (options) =>
      step(
        'refresh',
        async (signal) => {
          await readStatus(signal);
          return snapshot();
        },
        options,
      ),

    waitUntilActive: (options: WaitUntilActiveOptions = {}) => {
      const initial = options.initialIntervalMs ?? 1_000;
      const max = options.maxIntervalMs ?? 15_000;
      if (!(initial > 0 && max >= initial)) throw createError('configuration_invalid', 'initialIntervalMs must be positive and at most maxIntervalMs');
      return step(
        'waitUntilActive',
        async (signal) => {
          for (let interval = initial; ; interval = Math.min(max, interval * 2)) {
            const active = await readStatus(signal).catch((caught: unknown) => {
              const error = toProvisioningError(caught);
              // A passing network failure does not end the wait; anything else does.
              if (error.retryable && !signal.aborted) return undefined;
              throw error;
            });
            if (active) return active;
            if (activation !== undefined && epochSeconds(context.clock) >= activation.verification.expiresAt) throw await becomeExpired();
            await sleep(interval, signal);
          }
        },
        options,
      );
    },
  };
  return handle;
}
