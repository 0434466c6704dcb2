import {
  type AccountHint,
  type AppChannel,
  type Card,
  type Clock,
  type RandomSource,
  createError,
  parseWith,
  secureRandom,
  systemClock,
  zAccountHint,
  zCorrelationId,
  zHttpsUrl,
  zOpaqueId,
  zPartyId,
} from '@pushprov/protocol';
import { isDuration } from '../lib/deadline.js';
import type { InvocationSigner, ProvisioningRequestSource, TokenStatusSource } from '../request/provisioning-request-source.js';
import { type ProvisioningSession, Session, type SessionConfig, type SessionTimeouts } from '../session/provisioning-session.js';

/**
 * Options of {@link createIssuerClient}.
 *
 * @example
 * ```ts
 * const options: IssuerClientOptions = {
 *   issuerId: 'bank-a',
 *   requestSource: createBackendRequestSource({ url: '/api/push-provisioning' }),
 * };
 * ```
 */
export interface IssuerClientOptions {
  /** The issuer's id as the token service and wallets know it (lower-case slug). */
  issuerId: string;
  /** Where encrypted requests come from: the backend (recommended) or a local builder. */
  requestSource: ProvisioningRequestSource;
  /** Signs invocations so wallets can show the issuer's name authentically. Optional. */
  invocationSigner?: InvocationSigner;
  /**
   * Reads a pending token's verification methods through the backend
   * (`createBackendActivationSource` from `@pushprov/issuer-sdk/activation`),
   * so a session that ends `pending_activation` carries them in its outcome.
   */
  tokenStatusSource?: TokenStatusSource;
  /** Where the wallet sends replies (URL channels): an allow-listed https URL of the app. */
  replyTo?: string;
  /** Lifetime of an invocation, seconds: identifiers are accepted only within it. Default 300, at most 900. */
  sessionLifetimeSeconds?: number;
  /** Step timeouts. */
  timeouts?: SessionTimeouts;
  /** Close the wallet channel when a started session ends (closes the popup). Default true. */
  closeChannelOnEnd?: boolean;
  /** The clock. Default the system clock. */
  clock?: Clock;
  /** The randomness of session ids. Default the platform CSPRNG. */
  random?: RandomSource;
}

/**
 * What one provisioning is for.
 *
 * @example
 * ```ts
 * const input: StartProvisioningOptions = {
 *   account: { last4: '1234', network: 'visa', productName: 'Everyday Debit' },
 *   accountRef: 'acc_8f2c',
 *   wallet: createPopupWalletChannel({ walletUrl: 'https://wallet.example/push', allowedWalletOrigins: ['https://wallet.example'] }),
 * };
 * ```
 */
export interface StartProvisioningOptions {
  /** What the wallet may show: last 4 digits, network, product name. Never more. */
  account: AccountHint;
  /** The issuer's reference to the account: the backend looks the card up by it. */
  accountRef?: string;
  /** The card itself, only with a local request builder (the app holds card data). */
  card?: Card;
  /**
   * With a local request builder only: the issuer's stable id of the card
   * account, put in the request claims (`accountId`). A backend builder
   * takes it from its own card lookup, never from the app.
   */
  accountId?: string;
  /** The channel to the wallet: popup, URL / deep link, in-memory, or your own `AppChannel`. */
  wallet: AppChannel;
  /** Aborting it cancels the session. */
  signal?: AbortSignal;
  /**
   * The provisioning attempt's correlation id (1-128 of `[A-Za-z0-9._-]`, no
   * run of 12 digits), e.g. your app's own request id. Default: a fresh
   * `cor_…`. It goes into the invocation and the request message, the
   * `X-Correlation-Id` of the backend calls, and every error of the session.
   */
  correlationId?: string;
}

/**
 * The app side of the issuer SDK: starts provisioning sessions.
 *
 * @example
 * ```ts
 * const session = issuer.startProvisioning({ account, accountRef, wallet });
 * await session.completed;
 * ```
 */
export interface IssuerClient {
  /** Creates a session in state `created`; subscribe to it, then call `run()`. */
  createSession(options: StartProvisioningOptions): ProvisioningSession;
  /** Creates a session and runs it at once. Listeners subscribed right after still see every state change. */
  startProvisioning(options: StartProvisioningOptions): ProvisioningSession;
}

/**
 * Default invocation lifetime, seconds.
 *
 * @example
 * ```ts
 * createIssuerClient({ issuerId, requestSource, sessionLifetimeSeconds: DEFAULT_SESSION_LIFETIME_SECONDS });
 * ```
 */
export const DEFAULT_SESSION_LIFETIME_SECONDS = 300;
/**
 * Longest invocation lifetime allowed, seconds (what wallets accept by default).
 *
 * @example
 * ```ts
 * const lifetime = Math.min(requested, MAX_SESSION_LIFETIME_SECONDS);
 * ```
 */
export const MAX_SESSION_LIFETIME_SECONDS = 900;

function invalid(message: string): never {
  throw createError('configuration_invalid', message);
}

function checkConfig(options: IssuerClientOptions): SessionConfig {
  if (!zPartyId.safeParse(options.issuerId).success) invalid('issuerId must be a lower-case slug of 1-64 characters');
  if (typeof options.requestSource?.buildRequest !== 'function') invalid('requestSource must have a buildRequest function');
  if (options.invocationSigner !== undefined && typeof options.invocationSigner !== 'function') invalid('invocationSigner must be a function');
  if (options.tokenStatusSource !== undefined && typeof options.tokenStatusSource?.getTokenStatus !== 'function') {
    invalid('tokenStatusSource must have a getTokenStatus function');
  }
  if (options.replyTo !== undefined && !zHttpsUrl.safeParse(options.replyTo).success) invalid('replyTo must be an https URL');
  const lifetimeSeconds = options.sessionLifetimeSeconds ?? DEFAULT_SESSION_LIFETIME_SECONDS;
  if (!isDuration(lifetimeSeconds, MAX_SESSION_LIFETIME_SECONDS)) invalid(`sessionLifetimeSeconds must be an integer from 1 to ${MAX_SESSION_LIFETIME_SECONDS}`);
  const t = options.timeouts ?? {};
  const timeouts: SessionConfig['timeouts'] = {
    ...(t.identifiersMs === undefined ? {} : { identifiersMs: t.identifiersMs }),
    requestMs: t.requestMs ?? 30_000,
    sendMs: t.sendMs ?? 10_000,
    resultMs: t.resultMs ?? 300_000,
  };
  for (const [name, value] of Object.entries(timeouts)) {
    if (value !== undefined && !isDuration(value)) invalid(`timeouts.${name} must be a positive integer of milliseconds`);
  }
  return {
    issuerId: options.issuerId,
    requestSource: options.requestSource,
    invocationSigner: options.invocationSigner,
    tokenStatusSource: options.tokenStatusSource,
    replyTo: options.replyTo,
    lifetimeSeconds,
    timeouts,
    closeChannelOnEnd: options.closeChannelOnEnd ?? true,
    clock: options.clock ?? systemClock,
    random: options.random ?? secureRandom,
  };
}

function checkInput(options: StartProvisioningOptions): ConstructorParameters<typeof Session>[1] {
  const account = parseWith(zAccountHint, options.account, { name: 'account hint', code: 'configuration_invalid' });
  const { wallet, accountRef, card, accountId, signal, correlationId } = options;
  if (correlationId !== undefined && !zCorrelationId.safeParse(correlationId).success) {
    invalid('correlationId must be 1-128 characters of [A-Za-z0-9._-] without a run of 12 digits');
  }
  if (typeof wallet?.send !== 'function' || typeof wallet.subscribe !== 'function' || typeof wallet.onClose !== 'function') {
    invalid('wallet must be an AppChannel');
  }
  if (accountRef === undefined && card === undefined) invalid('Give an accountRef (backend source) or a card (local builder)');
  if (accountRef !== undefined && !zOpaqueId.safeParse(accountRef).success) invalid('accountRef must be 1-128 characters of [A-Za-z0-9._:@-]');
  if (accountId !== undefined && !zOpaqueId.safeParse(accountId).success) invalid('accountId must be 1-128 characters of [A-Za-z0-9._:@-]');
  if (card !== undefined && (typeof card.pan !== 'string' || card.pan.slice(-4) !== account.last4)) {
    invalid('The account hint’s last4 does not match the card');
  }
  return { account, accountRef, card, accountId, wallet, signal, correlationId };
}

/**
 * Creates the app side of the issuer SDK. Configuration errors throw
 * `configuration_invalid` at once.
 *
 * @example
 * ```ts
 * import { createBackendRequestSource, createIssuerClient, createPopupWalletChannel } from '@pushprov/issuer-sdk';
 *
 * const backend = createBackendRequestSource({ url: '/api/push-provisioning', credentials: 'include' });
 * const issuer = createIssuerClient({ issuerId: 'bank-a', requestSource: backend });
 *
 * addToWalletButton.onclick = async () => {
 *   const wallet = createPopupWalletChannel({ walletUrl: 'https://wallet.example/push', allowedWalletOrigins: ['https://wallet.example'] });
 *   wallet.open(); // in the click handler, so the popup is not blocked
 *   const session = issuer.startProvisioning({ account: { last4: '1234', network: 'visa' }, accountRef: 'acc_8f2c', wallet });
 *   session.subscribe((event) => render(event));
 *   const outcome = await session.completed; // throws a ProvisioningError unless the card was added
 * };
 * ```
 */
export function createIssuerClient(options: IssuerClientOptions): IssuerClient {
  const config = checkConfig(options);
  const createSession = (input: StartProvisioningOptions): ProvisioningSession => new Session(config, checkInput(input));
  return {
    createSession,
    startProvisioning(input) {
      const session = createSession(input);
      void session.run();
      return session;
    },
  };
}
