import type {
  AccessData,
  AccountState,
  AppChannel,
  Clock,
  Expiry,
  Jwks,
  Network as ProtocolNetwork,
  ProvisioningError,
  PublicEcJwk,
  RandomSource,
  ResultStatus,
  Verification,
} from '@pushprov/protocol';
import type { SeenSessionStore } from '../seen-sessions/seen-session-store.js';
import type { SeveralAccounts } from './run-session.js';
import type { TokenServiceClient } from '../token-service/token-service-client.js';
import type { TokenStore } from '../token-store/token-store.js';

/**
 * A card network, as in the invocation's account hint: the protocol's
 * `Network` under the same name, so a wallet needs one import.
 *
 * @example
 * ```ts
 * const network: Network = prompt.account.network; // 'visa'
 * ```
 */
export type Network = ProtocolNetwork;

/**
 * Who the wallet is: sent to the issuer and bound into the encrypted request.
 *
 * @example
 * ```ts
 * const me: WalletIdentity = { walletProviderId: 'wallet-co', walletAccountId: 'user-42', deviceId: 'device-7' };
 * ```
 */
export interface WalletIdentity {
  /** The wallet provider's id at the token service (a lower-case slug). */
  walletProviderId: string;
  /** The user's account id in the wallet app. */
  walletAccountId: string;
  /** This device's id in the wallet app. */
  deviceId: string;
}

/**
 * Returns the wallet's identity for a session. Called once per accepted invocation.
 *
 * @example
 * ```ts
 * const identity: IdentityProvider = () => ({ walletProviderId: 'wallet-co', walletAccountId: user.id, deviceId: device.id });
 * ```
 */
export type IdentityProvider = () => WalletIdentity | Promise<WalletIdentity>;

/**
 * One card of the consent prompt. `accountId` is the issuer's opaque id
 * (show nothing of it); `cardArtUrl` is given only when the invocation's
 * signature verified. `state`, when the token service could tell (the
 * client has `queryTokens` and every card has an `accountId`; best effort),
 * is where the card already is in this wallet account: on this device and
 * on its other devices (`not_added`, `needs_activation`, `activating`,
 * `suspended`, `added`).
 *
 * @example
 * ```ts
 * const label = (a: PromptAccount) => `${a.network} •••• ${a.last4}${a.state?.thisDevice === 'added' ? ' (already here)' : ''}`;
 * ```
 */
export interface PromptAccount {
  accountId?: string;
  last4: string;
  network: Network;
  productName?: string;
  cardArtUrl?: string;
  state?: { thisDevice: AccountState; otherDevices: AccountState };
}

/**
 * What the host shows the user before anything is sent: never more than the last four digits.
 * `accounts` lists every card of the invocation, in its order (one for a
 * single-account invocation); `account` is the first of them.
 *
 * @example
 * ```ts
 * const text = (p: ConsentPrompt) =>
 *   `${p.issuerName ?? p.issuerId}${p.verified ? '' : ' (unverified)'} wants to add ${p.accounts.map((a) => `•••• ${a.last4}`).join(', ')}`;
 * ```
 */
export interface ConsentPrompt {
  sessionId: string;
  issuerId: string;
  /** The issuer's display name from the invocation (authentic only when `verified`). */
  issuerName?: string;
  /** True when the invocation's signature verified against the trust list. */
  verified: boolean;
  /**
   * The first card (`accounts[0]`). `cardArtUrl` (an https image URL) is the
   * issuer's card art from the invocation's account hint. It is given only
   * when `verified`: the issuer signed it. Load it as an image only (no
   * credentials, no redirects to follow elsewhere if your platform allows),
   * and show the last four digits with it.
   */
  account: PromptAccount;
  /** Every card of the invocation, in its order. */
  accounts: PromptAccount[];
}

/**
 * The user's answer: `true` (every card), `false` (none: the session ends
 * `cancelled` with `consent_denied`), or, with `severalAccounts()` of
 * `@pushprov/wallet-sdk/accounts`, `{ accountIds }`: a non-empty subset of
 * the prompt's account ids (the cards not picked end `cancelled` with
 * `consent_denied`; any other pick, empty, unknown or repeated ids, fails
 * the session with `invalid_message`). Without it anything but `true` is a
 * refusal.
 *
 * @example
 * ```ts
 * const answer: ConsentAnswer = { accountIds: [prompt.accounts[0]!.accountId!] };
 * ```
 */
export type ConsentAnswer = boolean | { accountIds: readonly string[] };

/**
 * Asks the user: "Bank X wants to add card •••• 1234" (or several cards, to
 * pick from). Resolve with a {@link ConsentAnswer}. The signal aborts when the
 * session times out or is cancelled: close the dialog then.
 *
 * @example
 * ```ts
 * const consent: ConsentHandler = (prompt, { signal }) =>
 *   showDialog(`${prompt.issuerName ?? prompt.issuerId} wants to add card •••• ${prompt.account.last4}`, { signal });
 * ```
 */
export type ConsentHandler = (prompt: ConsentPrompt, context: { signal: AbortSignal }) => ConsentAnswer | Promise<ConsentAnswer>;

/**
 * Where a session is. Terminal states are the outcome statuses.
 *
 * @example
 * ```ts
 * const busy = (state: WalletSessionState) => state === 'submitting' || state === 'storing';
 * ```
 */
export type WalletSessionState =
  | 'waiting_for_invocation'
  | 'verifying_invocation'
  | 'awaiting_consent'
  | 'sending_identifiers'
  | 'waiting_for_request'
  | 'submitting'
  | 'storing'
  | 'sending_result'
  | WalletOutcome['status'];

/**
 * A provisioned token, summarised without its number.
 *
 * @example
 * ```ts
 * if (outcome.status === 'provisioned') showCard(`•••• ${outcome.token.tokenLast4}`);
 * ```
 */
export interface TokenSummary {
  tokenReferenceId: string;
  status: 'active' | 'pending_activation';
  tokenLast4: string;
  panLast4: string;
  tokenExpiry: Expiry;
  network?: Network;
  /** The issuer's card art, when its signed invocation carried one (as in the consent prompt). */
  cardArtUrl?: string;
}

/**
 * How one account of a session ended: `accountId` when the invocation's hint
 * had one; `token` (and `verification` for `pending_activation`) when a token
 * was issued, else `error` (`consent_denied` for a card the user did not
 * pick, the issuer's refusal code, the token service's code, …).
 *
 * @example
 * ```ts
 * for (const a of outcome.accounts) console.log(a.accountId, a.status, a.error?.code);
 * ```
 */
export interface WalletAccountOutcome {
  accountId?: string;
  status: ResultStatus;
  token?: TokenSummary;
  verification?: Verification;
  error?: ProvisioningError;
}

/**
 * How a session ended. It carries nothing sensitive: the token number is only
 * in the {@link TokenStore}.
 *
 * `accounts` has one entry per account of the invocation, in its order (one
 * for a single-account invocation; none when the invocation was `rejected`
 * or a wallet-initiated request was refused). `status` is their
 * `summarizeStatus`: partial success (one card added, one declined) is
 * `provisioned`, and `token`, `verification` or `error` are those of the
 * first account with that status.
 *
 * - `provisioned`, `pending_activation`: the token is stored; `token` summarises it.
 *   A `pending_activation` outcome carries `verification`: the methods the
 *   issuer offers to confirm the cardholder (masked destinations) and when
 *   the pending token expires; `createActivations(…).resume(token.tokenReferenceId)`
 *   (from `@pushprov/wallet-sdk/activation`) goes on.
 * - `declined`: the token service or issuer declined (`error.code` `declined`).
 * - `failed`: anything else went wrong after the invocation was accepted.
 * - `cancelled`: the user refused (`consent_denied`), or the host cancelled (`cancelled`).
 * - `rejected`: the invocation itself was refused (malformed, unknown issuer,
 *   bad signature, expired, replayed): no session began and nothing was sent back.
 *
 * For every status but `rejected`, a `result` message was sent to the issuer
 * app when the channel allowed it (`resultSent`), and `correlationId` is the
 * attempt's (the invocation's, or a fresh `cor_…` when it had none): it was
 * sent to the token service as `X-Correlation-Id`, and `error.correlationId`
 * carries it too. A wallet-initiated request the issuer app refused
 * (`accounts-refusal`) ends `cancelled` or `failed` without a `sessionId`.
 *
 * @example
 * ```ts
 * switch (outcome.status) {
 *   case 'provisioned':
 *   case 'pending_activation':
 *     return showCard(outcome.token);
 *   case 'rejected':
 *   case 'failed':
 *     return showError(outcome.error.code);
 * }
 * ```
 */
export type WalletOutcome =
  | { status: 'provisioned'; sessionId: string; issuerId: string; correlationId: string; token: TokenSummary; resultSent: boolean; accounts: WalletAccountOutcome[] }
  | {
      status: 'pending_activation';
      sessionId: string;
      issuerId: string;
      correlationId: string;
      token: TokenSummary;
      verification: Verification;
      resultSent: boolean;
      accounts: WalletAccountOutcome[];
    }
  | { status: 'declined' | 'failed' | 'cancelled'; sessionId: string; issuerId: string; correlationId: string; error: ProvisioningError; resultSent: boolean; accounts: WalletAccountOutcome[] }
  | { status: 'failed' | 'cancelled'; sessionId?: undefined; issuerId: string; correlationId: string; error: ProvisioningError; resultSent: false; accounts: [] }
  | { status: 'rejected'; error: ProvisioningError; accounts: [] };

/**
 * What a session reports to the host, each step, for its UI and logs. Safe to
 * log: ids, last four digits and error codes only.
 *
 * - `state`: the session moved to `state`.
 * - `invocation`: an invocation was accepted (what the consent prompt shows).
 * - `error`: input was refused but the session goes on (a stray message, a
 *   wrong origin, a result that could not be delivered).
 * - `account`: one account of the session ended (as each submission ends,
 *   or for all at once when the session fails before them).
 * - `outcome`: the session ended.
 *
 * @example
 * ```ts
 * const onEvent = (event: WalletEvent) => {
 *   if (event.type === 'state') spinner.label = event.state;
 *   if (event.type === 'error') log.warn(event.error.code);
 * };
 * ```
 */
export type WalletEvent =
  | { type: 'state'; state: WalletSessionState; sessionId?: string }
  | { type: 'invocation'; prompt: ConsentPrompt }
  /** Refused input; it ends nothing. Once the invocation is accepted, `error.correlationId` is the attempt's. */
  | { type: 'error'; error: ProvisioningError; sessionId?: string }
  | { type: 'account'; sessionId: string; accountId?: string; status: ResultStatus; tokenReferenceId?: string; errorCode?: string }
  | { type: 'outcome'; outcome: WalletOutcome };

/**
 * Receives {@link WalletEvent}s. Exceptions it throws are swallowed.
 *
 * @example
 * ```ts
 * const onEvent: WalletEventListener = (event) => console.log(JSON.stringify(event));
 * ```
 */
export type WalletEventListener = (event: WalletEvent) => void;

/**
 * Options of {@link createWallet}.
 *
 * @example
 * ```ts
 * const options: WalletOptions = { identity, consent, tokenService, tokenStore, trustedIssuers: { 'bank-a': bankAJwks } };
 * ```
 */
export interface WalletOptions {
  /** The wallet's identity. */
  identity: IdentityProvider;
  /** Asks the user for consent. */
  consent: ConsentHandler;
  /** Talks to the token service: usually `createHttpTokenServiceClient(…)` from `@pushprov/wallet-sdk/http`. */
  tokenService: TokenServiceClient;
  /** Keeps provisioned tokens. */
  tokenStore: TokenStore;
  /**
   * The issuers this wallet accepts, each with its public JWK set:
   * `{ 'bank-a': { keys: [...] } }`. Invocations from others are refused
   * (`unknown_issuer`). Without it, any issuer is accepted, unverified.
   */
  trustedIssuers?: Readonly<Record<string, Jwks>> | undefined;
  /**
   * Refuse invocations without a valid issuer signature (`signature_invalid`).
   * Default `true` when `trustedIssuers` is given; needs `trustedIssuers`.
   */
  requireSignedInvocations?: boolean;
  /** Remembers accepted sessions to refuse replays. Default an in-memory store of 1024. */
  seenSessions?: SeenSessionStore;
  /**
   * A device encryption key, so the access data comes back encrypted to this
   * device, from `@pushprov/wallet-sdk/device-key`: `generatedDeviceKey()`
   * for a fresh key each session, `deviceKeyFromJwk(pair)` for your own pair
   * kept in secure storage, or `deviceKeyFromCryptoKey(…)`. Default none: the
   * access data comes in the clear (over TLS).
   */
  deviceKey?: DeviceKey | undefined;
  /** The whole session's time limit, milliseconds. Default 120 000. */
  timeoutMs?: number;
  /** Tolerated clock difference for invocation times, seconds. Default 60. */
  clockSkewSeconds?: number;
  /** The longest invocation lifetime (`exp - iat`) accepted, seconds. Default 900. */
  maxInvocationLifetimeSeconds?: number;
  /**
   * Several cards per session: `severalAccounts()` from
   * `@pushprov/wallet-sdk/accounts`. Default none: the wallet takes one card
   * per session and refuses an invocation offering `accounts` (`rejected`,
   * `invalid_message`).
   */
  accounts?: SeveralAccounts | undefined;
  /** Receives every session's events. */
  onEvent?: WalletEventListener;
  clock?: Clock;
  random?: RandomSource;
}

/**
 * Options of {@link Wallet.handleInvocation} and {@link Wallet.startSession}.
 *
 * @example
 * ```ts
 * const outcome = await wallet.handleInvocation(channel, { signal: controller.signal, timeoutMs: 60_000 });
 * ```
 */
export interface HandleInvocationOptions {
  /** Cancels the session (outcome `cancelled`, or the signal's reason when it is a `ProvisioningError`). */
  signal?: AbortSignal;
  /** This session's time limit, milliseconds. Default the wallet's `timeoutMs`. */
  timeoutMs?: number;
  /** Receives this session's events (in addition to the wallet's `onEvent`). */
  onEvent?: WalletEventListener;
  /**
   * Close the channel once the session has ended (after the result was sent),
   * so it stops listening, e.g. a popup page's `message` listener. Default
   * `false`: the channel stays open for the host to reuse or close.
   */
  closeChannelOnEnd?: boolean;
}

/**
 * A running session.
 *
 * @example
 * ```ts
 * const session = wallet.startSession(channel, { onEvent: (e) => e.type === 'state' && render(e.state) });
 * cancelButton.onclick = () => session.cancel();
 * const outcome = await session.outcome;
 * ```
 */
export interface WalletSession {
  /** The current state. */
  readonly state: WalletSessionState;
  /** The session id, once an invocation is accepted. */
  readonly sessionId: string | undefined;
  /** Settles with the outcome; never rejects. */
  readonly outcome: Promise<WalletOutcome>;
  /** Cancels the session: it ends `cancelled` unless it already ended. Idempotent. */
  cancel(): void;
  /**
   * Receives this session's events from now on (the ones already emitted are
   * not replayed); returns the function that stops it. Exceptions the
   * listener throws are swallowed.
   */
  subscribe(listener: WalletEventListener): () => void;
}

/**
 * A wallet made by {@link createWallet}.
 *
 * @example
 * ```ts
 * const wallet: Wallet = createWallet(options);
 * const outcome = await wallet.handleInvocation(channel);
 * ```
 */
export interface Wallet {
  /**
   * Handles one invocation arriving on `channel`, start to end, and resolves
   * with the outcome (it never rejects).
   */
  handleInvocation(channel: AppChannel, options?: HandleInvocationOptions): Promise<WalletOutcome>;
  /** Like {@link Wallet.handleInvocation}, but returns the session at once, to observe or cancel it. */
  startSession(channel: AppChannel, options?: HandleInvocationOptions): WalletSession;
}


/**
 * Where each session's device key comes from: `generatedDeviceKey()`,
 * `deviceKeyFromJwk(pair)` or `deviceKeyFromCryptoKey(…)` of
 * `@pushprov/wallet-sdk/device-key`, or your own (for a key in a native
 * keystore). The wallet calls {@link DeviceKey.forSession} once per session,
 * after the user's consent.
 *
 * @example
 * ```ts
 * import { generatedDeviceKey } from '@pushprov/wallet-sdk/device-key';
 * const deviceKey: DeviceKey = generatedDeviceKey();
 * ```
 */
export interface DeviceKey {
  /** The key of one session. */
  forSession(): Promise<SessionDeviceKey>;
}

/**
 * One session's device key: the public half the identifiers carry, and the
 * decryption of the access data the token service encrypted to it. The
 * wallet checks what `decryptAccessData` returns against the access data
 * schema and the session (spec 4.8) before storing it.
 *
 * @example
 * ```ts
 * const key = await generatedDeviceKey().forSession();
 * key.publicJwk.crv; // 'P-256'
 * ```
 */
export interface SessionDeviceKey {
  /** The public P-256 JWK (ECDH-ES+A256KW), without private members. */
  readonly publicJwk: PublicEcJwk;
  /** Opens the compact JWE of the access data (`jwe_header_rejected`, `unknown_key`, `decryption_failed`, `invalid_message`). */
  decryptAccessData(jwe: string): Promise<AccessData>;
}
