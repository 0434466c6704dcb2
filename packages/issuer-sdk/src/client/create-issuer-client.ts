import {
  type AccountHint,
  type AppChannel,
  type Card,
  type Clock,
  type RandomSource,
  createError,
  secureRandom,
  systemClock,
  zCorrelationId,
  zHttpsUrl,
  zInvocation,
  zOpaqueId,
  zPartyId,
} from '@pushprov/protocol';
import { parseWith } from '@pushprov/protocol/internal';
import { isDuration } from '../lib/deadline.js';
import type { InvocationSigner, ProvisioningRequestSource, TokenStatusSource } from '../request/provisioning-request-source.js';
import {
  type ProvisioningSession,
  Session,
  type SessionConfig,
  type SessionInput,
  type SessionTimeouts,
} from '../session/provisioning-session.js';
import type { ProvisioningSessionListener } from '../session/session-events.js';

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
  /**
   * Close the wallet channel when a started session ends (closes the popup).
   * Default false: the host passed the channel in, the host closes it.
   */
  closeChannelOnEnd?: boolean;
  /** The clock. Default the system clock. */
  clock?: Clock;
  /** The randomness of session ids. Default the platform CSPRNG. */
  random?: RandomSource;
}

/**
 * One account of a several-account session.
 *
 * @example
 * ```ts
 * const account: SessionAccount = { hint: { last4: '1234', network: 'visa', accountId: 'acct_1' }, accountRef: 'acc_8f2c' };
 * ```
 */
export interface SessionAccount {
  /** What the wallet may show: last 4 digits, network, product name, and the account's opaque `accountId` (required here). */
  hint: AccountHint;
  /** The issuer's reference to the account: the backend looks the card up by it. */
  accountRef?: string | undefined;
  /** The card itself, only with a local request builder. */
  card?: Card | undefined;
  /** With a local builder: the request claims' `accountId`. When given it must equal `hint.accountId` (the claim is always the hint's). */
  accountId?: string | undefined;
}

/**
 * What one provisioning is for: one card (`account`) or several (`accounts`).
 *
 * @example
 * ```ts
 * const input: StartProvisioningOptions = {
 *   account: { last4: '1234', network: 'visa', productName: 'Everyday Debit' },
 *   accountRef: 'acc_8f2c',
 *   wallet: createPopupWalletChannel({ walletUrl: 'https://wallet.example/push', allowedWalletOrigins: ['https://wallet.example'] }),
 * };
 * const several: StartProvisioningOptions = {
 *   accounts: [
 *     { hint: { last4: '1234', network: 'visa', accountId: 'acct_1' }, accountRef: 'acc_8f2c' },
 *     { hint: { last4: '5678', network: 'mastercard', accountId: 'acct_2' }, accountRef: 'acc_9a1d' },
 *   ],
 *   wallet,
 * };
 * ```
 */
export interface StartProvisioningOptions {
  /**
   * One card: what the wallet may show (last 4 digits, network, product
   * name; never more). Exactly one of `account` and `accounts`.
   */
  account?: AccountHint | undefined;
  /**
   * Several cards (1 to `MAX_SESSION_ACCOUNTS`, 8, each hint with its own
   * `accountId`, no id twice): the wallet shows them and the user picks one
   * or several; the request source builds every picked one in one call.
   * Too many, a missing or a repeated `accountId`: `invalid_message`, thrown
   * before anything is sent.
   */
  accounts?: SessionAccount[] | undefined;
  /** Single card: the issuer's reference to the account: the backend looks the card up by it. */
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
  /** Subscribed before anything happens: receives every event of the session (as `session.subscribe`). */
  onEvent?: ProvisioningSessionListener | undefined;
  /**
   * The provisioning attempt's correlation id (1-128 of `[A-Za-z0-9._-]`, no
   * run of 12 digits), e.g. your app's own request id. Default: a fresh
   * `cor_…`. It goes into the invocation and the request message, the
   * `X-Correlation-Id` of the backend calls, and every error of the session.
   */
  correlationId?: string;
  /**
   * Wallet-initiated provisioning only (protocol section 4.24): the `nonce`
   * of the wallet's `accounts-request` this session answers, put in the
   * invocation as `walletNonce`. The invocation must then be signed (give
   * the client an `invocationSigner`): a wallet refuses an unsigned one.
   * Usually set by `answerAccountsRequest` (`@pushprov/issuer-sdk/offer`),
   * which refuses to send it unsigned.
   */
  walletNonce?: string | undefined;
}

/**
 * The app side of the issuer SDK: starts provisioning sessions.
 *
 * @example
 * ```ts
 * const session = issuer.startProvisioning({ account, accountRef, wallet, onEvent: render });
 * const outcome = await session.outcome; // never rejects
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
  if (typeof options.requestSource?.buildRequest !== 'function') invalid('requestSource needs buildRequest');
  if (options.invocationSigner !== undefined && typeof options.invocationSigner !== 'function') invalid('invocationSigner must be a function');
  if (options.tokenStatusSource !== undefined && typeof options.tokenStatusSource?.getTokenStatus !== 'function') {
    invalid('tokenStatusSource needs getTokenStatus');
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
    closeChannelOnEnd: options.closeChannelOnEnd ?? false,
    clock: options.clock ?? systemClock,
    random: options.random ?? secureRandom,
  };
}

/** The session input, checked: bad options throw at once, before anything is sent. @internal */
export function checkInput(options: StartProvisioningOptions): SessionInput {
  const { wallet, signal, correlationId, onEvent, walletNonce } = options;
  if (correlationId !== undefined && !zCorrelationId.safeParse(correlationId).success) {
    invalid('correlationId must be 1-128 characters of [A-Za-z0-9._-] without a run of 12 digits');
  }
  if (typeof wallet?.send !== 'function' || typeof wallet.subscribe !== 'function' || typeof wallet.onClose !== 'function') {
    invalid('wallet must be an AppChannel');
  }
  if (onEvent !== undefined && typeof onEvent !== 'function') invalid('onEvent must be a function');
  const multi = options.accounts !== undefined;
  if (multi === (options.account !== undefined)) invalid('Give exactly one of account and accounts');
  if (multi && !Array.isArray(options.accounts)) invalid('accounts must be an array');
  if (multi && (options.accountRef !== undefined || options.card !== undefined || options.accountId !== undefined)) {
    invalid('With accounts, accountRef, card and accountId go in each account');
  }
  const list: SessionAccount[] = options.accounts ?? [{ hint: options.account!, accountRef: options.accountRef, card: options.card, accountId: options.accountId }];
  // The invocation's own schema says what the hints may be; a list of accounts: 1 to 8, each with an accountId, no id twice.
  const parsed = parseWith(
    zInvocation,
    { type: 'invocation', version: 1, sessionId: 'AAAAAAAAAAAAAAAAAAAAAA', issuerId: 'x', iat: 0, exp: 1, walletNonce, ...(multi ? { accounts: list.map((a) => a?.hint) } : { account: list[0]!.hint }) },
    { name: multi ? 'accounts' : 'account hint', code: multi ? 'invalid_message' : 'configuration_invalid' },
  );
  return {
    wallet,
    signal,
    correlationId,
    onEvent,
    walletNonce,
    multi,
    accounts: list.map(({ accountRef, card, accountId }, i) => {
      const hint = parsed.accounts?.[i] ?? parsed.account!;
      if (accountRef === undefined && card === undefined) invalid('Give an accountRef or a card');
      for (const [name, value] of Object.entries({ accountRef, accountId })) {
        if (value !== undefined && !zOpaqueId.safeParse(value).success) invalid(`${name} must be 1-128 characters of [A-Za-z0-9._:@-]`);
      }
      // Several accounts: the request claim is always the hint's id.
      if (multi && accountId !== undefined && accountId !== hint.accountId) invalid('An account’s accountId must equal its hint’s accountId');
      if (card !== undefined && (typeof card.pan !== 'string' || card.pan.slice(-4) !== hint.last4)) invalid('The account hint’s last4 does not match the card');
      return { hint, accountRef, card, accountId: multi ? hint.accountId : accountId };
    }),
  };
}

/**
 * Creates the app side of the issuer SDK. Configuration errors throw
 * `configuration_invalid` at once.
 *
 * @example
 * ```ts
 * import { createBackendRequestSource, createIssuerClient } from '@pushprov/issuer-sdk';
 * import { createPopupWalletChannel } from '@pushprov/issuer-sdk/browser';
 *
 * const backend = createBackendRequestSource({ url: '/api/push-provisioning', credentials: 'include' });
 * const issuer = createIssuerClient({ issuerId: 'bank-a', requestSource: backend });
 *
 * addToWalletButton.onclick = async () => {
 *   const wallet = createPopupWalletChannel({ walletUrl: 'https://wallet.example/push', allowedWalletOrigins: ['https://wallet.example'] });
 *   wallet.open(); // in the click handler, so the popup is not blocked
 *   const session = issuer.startProvisioning({ account: { last4: '1234', network: 'visa' }, accountRef: 'acc_8f2c', wallet });
 *   session.subscribe((event) => render(event));
 *   const outcome = await session.outcome; // never rejects: outcome.status says how it ended
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
