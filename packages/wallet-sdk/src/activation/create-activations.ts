import { type Clock, type RandomSource, createError, secureRandom, systemClock, zPartyId } from '@pushprov/protocol';
import type { TokenServiceClient } from '../token-service/token-service-client.js';
import type { TokenStore } from '../token-store/token-store.js';
import { createPendingActivation } from './create-pending-activation.js';
import type { ActivationEvent, IssuerAppOpener, IssuerChannelProvider, PendingActivation } from './types.js';

/**
 * Options of {@link createActivations}: the wallet's token service client and
 * token store (the same as `createWallet`'s), and how to open a bank's app.
 *
 * @example
 * ```ts
 * const options: ActivationsOptions = { tokenService, tokenStore, openIssuerApp, onEvent: (event) => render(event.snapshot) };
 * ```
 */
export interface ActivationsOptions {
  /** Talks to the token service: `createHttpTokenServiceClient(…)` has the verification calls. */
  tokenService: TokenServiceClient;
  /** The wallet's token store, where pending tokens keep their activation. */
  tokenStore: TokenStore;
  /**
   * The wallet provider's id, as the token service knows it: the activation
   * invocation (spec section 4.17) of an `issuer_app` method names it.
   * Required with `issuerChannel`; with `openIssuerApp` alone, the opener
   * gets the invocation only when it is given.
   */
  walletProviderId?: string;
  /**
   * Where an `issuer_app` method's activation invocation goes: the app
   * channel to the bank's app (spec section 4.17: the bindings of the
   * invocation's channels). Sent when the user chooses the method, and on
   * `openIssuerApp()`.
   */
  issuerChannel?: IssuerChannelProvider;
  /**
   * Opens the bank's app for an `issuer_app` method, with the token
   * reference (and the activation invocation). Without it and without
   * `issuerChannel`, choosing such a method is `configuration_invalid`.
   */
  openIssuerApp?: IssuerAppOpener;
  /** Receives every step of every activation. Exceptions it throws are swallowed. */
  onEvent?: (event: ActivationEvent) => void;
  clock?: Clock;
  random?: RandomSource;
  /** Waits between token status reads (`waitUntilActive`); must reject when `signal` aborts. Injectable for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * The wallet's pending activations, made by {@link createActivations}.
 *
 * @example
 * ```ts
 * for (const activation of await activations.pending()) showConfirmCard(activation.snapshot());
 * ```
 */
export interface Activations {
  /**
   * Picks up the activation of a stored token where it was left, also after
   * an app restart (a new instance on the same token store). `not_found` when
   * the store has no such token, `token_not_pending` when it has no
   * activation; an active token gives an activation in state `active`.
   */
  resume(tokenReferenceId: string): Promise<PendingActivation>;
  /** Every stored token still `pending_activation`, ready to go on, in the order they were stored. */
  pending(): Promise<PendingActivation[]>;
}

/**
 * The yellow path on the wallet side: the activations of tokens that the
 * issuer issued `pending_activation` (a wallet session's outcome
 * `pending_activation`, with `verification`). Each activation lets the user
 * choose a method, have a code sent and resent, type it, or let the bank
 * activate the token (its app, its customer service), and learns when the
 * token is active. Progress is saved in the token store after every step.
 *
 * @example
 * ```ts
 * import { createActivations } from '@pushprov/wallet-sdk/activation';
 *
 * const activations = createActivations({
 *   tokenService, // createHttpTokenServiceClient(…), as for createWallet
 *   tokenStore,
 *   walletProviderId: 'wallet-co',
 *   issuerChannel: bankAppChannel, // the activation invocation of an issuer_app method goes to the bank's app
 *   onEvent: (event) => render(event.snapshot),
 * });
 * const outcome = await wallet.handleInvocation(channel);
 * if (outcome.status === 'pending_activation') {
 *   const activation = await activations.resume(outcome.token.tokenReferenceId);
 *   await activation.chooseMethod(outcome.verification.methods[0]!.id);
 * }
 * ```
 */
export function createActivations(options: ActivationsOptions): Activations {
  if (typeof options?.tokenService?.getTokenStatus !== 'function' || typeof options.tokenStore?.get !== 'function') {
    throw createError('configuration_invalid', 'tokenService and tokenStore are required');
  }
  if (options.openIssuerApp !== undefined && typeof options.openIssuerApp !== 'function') {
    throw createError('configuration_invalid', 'openIssuerApp must be a function');
  }
  const channel = options.issuerChannel;
  if (channel !== undefined && typeof channel !== 'function' && typeof channel?.send !== 'function') {
    throw createError('configuration_invalid', 'issuerChannel must be an AppChannel or a function that gives one');
  }
  if (options.walletProviderId !== undefined ? !zPartyId.safeParse(options.walletProviderId).success : channel !== undefined) {
    throw createError('configuration_invalid', 'walletProviderId (a lower-case slug) is required with issuerChannel');
  }
  const context = {
    tokenService: options.tokenService,
    tokenStore: options.tokenStore,
    openIssuerApp: options.openIssuerApp,
    issuerChannel: channel,
    walletProviderId: options.walletProviderId,
    clock: options.clock ?? systemClock,
    random: options.random ?? secureRandom,
    ...(options.sleep && { sleep: options.sleep }),
    emit: (event: ActivationEvent) => options.onEvent?.(event),
  };
  return {
    async resume(tokenReferenceId) {
      const stored = typeof tokenReferenceId === 'string' ? await options.tokenStore.get(tokenReferenceId) : undefined;
      if (stored === undefined) throw createError('not_found', 'No such token in the token store');
      return createPendingActivation(stored, context);
    },
    async pending() {
      const tokens = await options.tokenStore.list();
      return tokens.filter((t) => t.activation !== undefined).map((t) => createPendingActivation(t, context));
    },
  };
}
