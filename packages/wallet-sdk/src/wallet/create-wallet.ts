import {
  type AppChannel,
  type Jwks,
  type ProvisioningError,
  createError,
  isProvisioningError,
  parsePublicJwks,
  secureRandom,
  systemClock,
  toProvisioningError,
} from '@pushprov/protocol';
import { createMemorySeenSessionStore } from '../seen-sessions/seen-session-store.js';
import { MAX_TIMER_MS } from '../lib/abort.js';
import { type AcceptInvocation, runSession } from './run-session.js';
import type { HandleInvocationOptions, Wallet, WalletEvent, WalletEventListener, WalletOptions, WalletOutcome, WalletSession, WalletSessionState } from './types.js';

const isFunction = (value: unknown): boolean => typeof value === 'function';

function trustMap(trusted: WalletOptions['trustedIssuers']): Map<string, Jwks> | undefined {
  if (trusted === undefined) return undefined;
  const map = new Map<string, Jwks>();
  for (const [issuerId, jwks] of Object.entries(trusted)) {
    try {
      map.set(issuerId, parsePublicJwks(jwks));
    } catch (cause) {
      throw createError('configuration_invalid', 'trustedIssuers must map issuer ids to JWK sets', { cause });
    }
  }
  return map;
}

/**
 * Creates a wallet: the wallet app's side of push provisioning. For each
 * invocation it verifies the issuer against the trust list, refuses expired
 * and replayed sessions, asks the user, answers with the wallet's identifiers,
 * submits the issuer's encrypted request to the token service, stores the
 * access data, and sends the issuer app a result that holds nothing sensitive.
 * A token the issuer issued `pending_activation` (the yellow path) goes on
 * with `createActivations` from `@pushprov/wallet-sdk/activation`: choose a
 * method, type the code, or let the bank activate it, also after an app restart.
 *
 * Configuration errors throw `configuration_invalid` at once.
 *
 * @example
 * ```ts
 * const wallet = createWallet({
 *   identity: () => ({ walletProviderId: 'wallet-co', walletAccountId: user.id, deviceId: device.id }),
 *   consent: (prompt) => confirm(`${prompt.issuerName ?? prompt.issuerId} wants to add card •••• ${prompt.account.last4}`),
 *   tokenService: createHttpTokenServiceClient({ baseUrl: 'https://tokens.example', auth: { apiKey } }),
 *   tokenStore: createMemoryTokenStore(),
 *   trustedIssuers: { 'bank-a': bankAJwks },
 *   deviceKey: generatedDeviceKey(), // from '@pushprov/wallet-sdk/device-key'
 *   onEvent: (event) => console.log(JSON.stringify(event)),
 * });
 * const outcome = await wallet.handleInvocation(channel, { signal, timeoutMs: 120_000 });
 * if (outcome.status === 'provisioned') showCard(outcome.token.tokenLast4);
 * ```
 */
export function createWallet(options: WalletOptions): Wallet {
  if (!options || !isFunction(options.identity) || !isFunction(options.consent)) {
    throw createError('configuration_invalid', 'identity and consent must be functions');
  }
  if (!isFunction(options.tokenService?.submit) || !isFunction(options.tokenStore?.save)) {
    throw createError('configuration_invalid', 'tokenService and tokenStore are required');
  }
  const trustedIssuers = trustMap(options.trustedIssuers);
  const requireSigned = options.requireSignedInvocations ?? trustedIssuers !== undefined;
  if (requireSigned && !trustedIssuers) throw createError('configuration_invalid', 'requireSignedInvocations needs trustedIssuers');
  const clock = options.clock ?? systemClock;
  const defaultTimeoutMs = options.timeoutMs ?? 120_000;
  const deviceKey = options.deviceKey;
  if (deviceKey !== undefined && !isFunction(deviceKey?.forSession)) {
    throw createError('configuration_invalid', 'deviceKey must come from @pushprov/wallet-sdk/device-key');
  }
  if (options.accounts !== undefined && !isFunction(options.accounts?.pick)) {
    throw createError('configuration_invalid', 'accounts must come from @pushprov/wallet-sdk/accounts: severalAccounts()');
  }
  const context = {
    identity: options.identity,
    consent: options.consent,
    tokenService: options.tokenService,
    tokenStore: options.tokenStore,
    policy: {
      trustedIssuers,
      requireSigned,
      seenSessions: options.seenSessions ?? createMemorySeenSessionStore({ clock }),
      clock,
      clockSkewSeconds: options.clockSkewSeconds ?? 60,
      maxLifetimeSeconds: options.maxInvocationLifetimeSeconds ?? 900,
      severalAccounts: options.accounts !== undefined,
    },
    deviceKey,
    accounts: options.accounts,
    clock,
    random: options.random ?? secureRandom,
  };

  function startSession(channel: AppChannel, sessionOptions: HandleInvocationOptions = {}, accept?: AcceptInvocation): WalletSession {
    const timeoutMs = sessionOptions.timeoutMs ?? defaultTimeoutMs;
    if (!(timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS)) throw createError('configuration_invalid', 'timeoutMs must be between 1 and 2^31 - 1');
    let state: WalletSessionState = 'waiting_for_invocation';
    let sessionId: string | undefined;
    const controller = new AbortController();
    const stop = (reason: ProvisioningError) => {
      if (!controller.signal.aborted) controller.abort(reason);
    };
    const parent = sessionOptions.signal;
    const onParentAbort = () =>
      stop(isProvisioningError(parent!.reason) ? parent!.reason : createError('cancelled', 'The session was cancelled', { cause: parent!.reason }));
    if (parent?.aborted) onParentAbort();
    else parent?.addEventListener('abort', onParentAbort, { once: true });
    const timer = setTimeout(() => stop(createError('timeout', `The session did not finish within ${timeoutMs} ms`)), timeoutMs);

    const subscribers = new Set<WalletEventListener>();
    const emit = (event: WalletEvent) => {
      for (const listener of [options.onEvent, sessionOptions.onEvent, ...subscribers]) {
        try {
          listener?.(event);
        } catch {
          // A listener's failure must not change the session.
        }
      }
    };
    const setState = (next: WalletSessionState, id?: string) => {
      state = next;
      if (id !== undefined) sessionId = id;
      emit(sessionId === undefined ? { type: 'state', state } : { type: 'state', state, sessionId });
    };

    setState('waiting_for_invocation');
    const outcome: Promise<WalletOutcome> = runSession(channel, context, { signal: controller.signal, emit, setState }, accept)
      .catch((error: unknown): WalletOutcome => ({ status: 'rejected', error: toProvisioningError(error), accounts: [] }))
      .then((result) => {
        clearTimeout(timer);
        parent?.removeEventListener('abort', onParentAbort);
        controller.abort(createError('session_state', 'The session has ended'));
        if (sessionOptions.closeChannelOnEnd === true) {
          try {
            channel.close();
          } catch {
            // Closing is best effort; the session has ended either way.
          }
        }
        setState(result.status, 'sessionId' in result ? result.sessionId : undefined);
        emit({ type: 'outcome', outcome: result });
        subscribers.clear();
        return result;
      });
    return {
      get state() {
        return state;
      },
      get sessionId() {
        return sessionId;
      },
      outcome,
      cancel: () => stop(createError('cancelled', 'The session was cancelled')),
      subscribe(listener) {
        const entry: WalletEventListener = (event) => listener(event);
        subscribers.add(entry);
        return () => subscribers.delete(entry);
      },
    };
  }

  return {
    // A third argument (the wallet-initiated flow's invocation check) is internal: `@pushprov/wallet-sdk/initiate`.
    startSession,
    handleInvocation: (channel, sessionOptions) => startSession(channel, sessionOptions).outcome,
  };
}
