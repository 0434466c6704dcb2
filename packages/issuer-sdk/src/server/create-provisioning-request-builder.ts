import {
  AuthError,
  type Card,
  type Clock,
  HttpError,
  type Identifiers,
  InternalError,
  type Invocation,
  type ProvisioningRequestMessage,
  type RandomSource,
  SchemaError,
  type SigningKeyHandle,
  type SigningKeyInput,
  checkCard,
  createError,
  invocationAccounts,
  MAX_SESSION_ACCOUNTS,
  isProvisioningError,
  parseIdentifiers,
  parseInvocation,
  signInvocation,
  systemClock,
  zCard,
  zHttpsUrl,
  zOpaqueId,
  zPartyId,
  type JwksFetch,
  type RemoteJwks,
  createRemoteJwks,
} from '@pushprov/protocol';
import { parseWith, toSigningKeyHandle } from '@pushprov/protocol/internal';
import { checkSignable } from './check-signable.js';
import { sealBoundRequest, sealEach } from '../lib/seal-bound-request.js';
import { type AccountLister, type ListAccountsInput, type SignStatusQueryInput, offerMethods } from './offer-accounts.js';
import type { OfferedAccount } from '../request/z-backend-request.js';
import type { StatusQuery } from '@pushprov/protocol';

/**
 * What a {@link CardLookup} finds: the card, and optionally `accountId`, the
 * bank's stable id of the card account. `accountId` goes into the request
 * claims; the token service stores it with the token and answers it on its
 * issuer API (`getTokenStatus`), so the bank can later tell which account a
 * token is for from trusted data.
 *
 * @example
 * ```ts
 * const found: CardRecord = { pan: row.pan, expiry: { month: 12, year: 2030 }, accountId: row.accountId };
 * ```
 */
export type CardRecord = Card & { accountId?: string | undefined };

/**
 * Looks up the card behind an account reference, for the authenticated user. Return null when the user has no such account.
 *
 * @example
 * ```ts
 * const lookupCard: CardLookup<User> = async (accountRef, user) => {
 *   const row = await db.cards.findOne({ accountRef, ownerId: user.id });
 *   return row ? { pan: row.pan, expiry: { month: row.expMonth, year: row.expYear }, cardholderName: row.name, accountId: row.accountId } : null;
 * };
 * ```
 */
export type CardLookup<User> = (accountRef: string, user: User) => CardRecord | null | undefined | Promise<CardRecord | null | undefined>;

/**
 * The token service a backend builder encrypts to.
 *
 * @example
 * ```ts
 * const tokenService: TokenServiceRecipient = {
 *   audience: 'token-service.example',
 *   jwksUrl: 'https://ts.example/.well-known/jwks.json',
 *   cacheTtlMs: 600_000,
 * };
 * ```
 */
export interface TokenServiceRecipient {
  /** The token service id: the request's `aud`. */
  audience: string;
  /** Its public JWK set URL: https (http only on 127.0.0.1 or localhost). */
  jwksUrl: string;
  /** The `fetch` used for the key set. Default `globalThis.fetch`. */
  fetch?: JwksFetch;
  /** How long a fetched key set is used, ms. Default 300 000. */
  cacheTtlMs?: number;
  /** Least time between refetches for a missing key or after a failure, ms. Default 30 000. */
  minRefreshIntervalMs?: number;
  /** Timeout of one key set fetch, ms. Default 5 000. */
  timeoutMs?: number;
  /** Encrypt to this key only. Default: the first encryption key of the set. */
  kid?: string;
}

/**
 * Options of {@link createProvisioningRequestBuilder}.
 *
 * @example
 * ```ts
 * const options: ProvisioningRequestBuilderOptions<User> = { issuerId: 'bank-a', signingKey, tokenService, walletProviders: ['wallet-co'], lookupCard };
 * ```
 */
export interface ProvisioningRequestBuilderOptions<User> {
  /** The issuer id: the request's `iss`. */
  issuerId: string;
  /**
   * The wallet providers this issuer provisions its cards to, by their ids
   * at the token service (at least one; required). A request for any other
   * wallet provider is refused with `wallet_provider_not_allowed` before the
   * card is looked up: the app names the wallet, so without this list the
   * backend would sign for any wallet the app (or whoever calls it) names.
   */
  walletProviders: readonly string[];
  /**
   * The issuer's signing key: a private JWK (ES256 or EdDSA) with its `kid`
   * (the default, what a JWK file or secret gives), or a
   * {@link SigningKeyHandle} whose private key stays where it is held: a
   * non-extractable WebCrypto `CryptoKey` (`signingKeyFromCryptoKey`), or a
   * `CryptoKey` or `KeyObject` an HSM or KMS provider yields. See
   * docs/issuer-guide.md, "Key custody".
   */
  signingKey: SigningKeyInput;
  tokenService: TokenServiceRecipient;
  /** Finds the card for an account reference, for this user only. */
  lookupCard: CardLookup<User>;
  /** Lifetime of each request, seconds. Default 300 (at most 900). */
  requestLifetimeSeconds?: number;
  /**
   * The card art wallets may show (https URL). It travels in the invocation's
   * account hint, covered by the invocation signature: `signInvocation` signs
   * an invocation that shows card art only when it is this URL (otherwise
   * `forbidden`). It is not put in the encrypted request, which the wallet
   * cannot read.
   */
  cardArtUrl?: string;
  /**
   * The only `replyTo` URLs an invocation may carry to be signed (your app's
   * return links). Unset: any https `replyTo` is signed.
   */
  allowedReplyTo?: readonly string[];
  /**
   * The signed-in user's cards the backend offers (each hint with its
   * `accountId`, and the app's `accountRef`): what `list-accounts` answers
   * (wallet-initiated provisioning), and the only account ids a
   * `sign-status-query` may name. Unset: both answer `not_found`.
   */
  listAccounts?: AccountLister<User> | undefined;
  clock?: Clock;
  random?: RandomSource;
}

/**
 * Input of {@link ProvisioningRequestBuilder.buildRequest}.
 *
 * @example
 * ```ts
 * const input: BuildProvisioningRequestInput<User> = { accountRef: 'acc_8f2c', identifiers, user, signal: request.signal };
 * ```
 */
export interface BuildProvisioningRequestInput<User> {
  /** The account (one-account form). Exactly one of `accountRef` and `accounts`. */
  accountRef?: string | undefined;
  /**
   * Several accounts (1 to 8): the picked accounts, each with the
   * `accountId` the invocation showed for it. The answer is one message with
   * `requests` (each its own `jti`, all bound to the same identifiers) and
   * `refusals` (`not_found`, `card_expired`, `card_invalid`, `forbidden`).
   */
  accounts?: readonly { accountRef: string; accountId: string }[] | undefined;
  /** The wallet's identifiers, as the app received them. */
  identifiers: Identifiers;
  /** The authenticated user. */
  user: User;
  signal?: AbortSignal | undefined;
}

/**
 * Input of {@link ProvisioningRequestBuilder.signInvocation}.
 *
 * @example
 * ```ts
 * const signed = await builder.signInvocation({ accountRef: 'acc_8f2c', invocation, user } satisfies SignInvocationInput<User>);
 * ```
 */
export interface SignInvocationInput<User> {
  /** The account of an invocation with `account`. Exactly one of `accountRef` and `accountRefs`. */
  accountRef?: string | undefined;
  /** An invocation with `accounts`: one reference per entry, in the same order. */
  accountRefs?: readonly string[] | undefined;
  invocation: Invocation;
  user: User;
}

/**
 * Builds encrypted provisioning requests on the issuer backend. Made by
 * {@link createProvisioningRequestBuilder}.
 *
 * @example
 * ```ts
 * const message = await builder.buildRequest({ accountRef: 'acc_8f2c', identifiers, user });
 * ```
 */
export interface ProvisioningRequestBuilder<User> {
  /**
   * Checks the wallet provider against `walletProviders`, looks the card
   * up, binds the claims to the identifiers (the device key as `cnf.jkt`),
   * signs and encrypts them, and returns the `provisioning-request` message.
   * Codes: `invalid_message`, `wallet_provider_not_allowed`, `not_found` (no
   * such account for this user), `card_invalid`, `card_expired`,
   * `unknown_key`, `network_error`, `timeout`.
   *
   * With `accounts`: the wallet must have picked them (`identifiers.accountIds`
   * lists each, else `invalid_message`); the failures of one account
   * (`not_found`, `card_expired`, `card_invalid`, and `forbidden` when the
   * card record's `accountId`, else its accountRef, is not the account's
   * `accountId`: the id the wallet sees is the one the token service stores)
   * become refusals in the message; a failure of the whole call (the wallet
   * provider, the token service key, a failing lookup) stays an error.
   */
  buildRequest(input: BuildProvisioningRequestInput<User>): Promise<ProvisioningRequestMessage>;
  /**
   * Signs an invocation for an account of this user, after checking that it
   * names this issuer, shows that account's last 4 digits, has a short,
   * current lifetime, (with `allowedReplyTo`) an allowed `replyTo`, and no
   * card art but the configured `cardArtUrl`. With `accountRefs` (an
   * invocation with `accounts`): each entry is checked against its reference
   * (last 4 digits, card art, and its `accountId` is the card record's
   * `accountId`, else the reference); an expired or invalid card is still
   * signed for (the build answers it as a refusal), an unknown one is
   * `not_found`.
   * Codes: `invalid_message`, `not_found`, `forbidden`, `lifetime_exceeded`,
   * `not_yet_valid`, `expired`.
   */
  signInvocation(input: SignInvocationInput<User>): Promise<Invocation>;
  /**
   * Signs a status query (protocol section 4.22) for this user (optional in
   * a builder of your own: the handler then answers `not_found`), after
   * checking that it names this issuer, only account ids `listAccounts`
   * gives for this user, a lifetime of at most 300 s that is current, and
   * (with `allowedReplyTo`) an allowed `replyTo`.
   * Codes: `forbidden`, `not_found` (no `listAccounts`), `lifetime_exceeded`, `not_yet_valid`, `expired`.
   */
  signStatusQuery?(input: SignStatusQueryInput<User>): Promise<StatusQuery>;
  /**
   * The cards offered to a wallet provider (wallet-initiated provisioning):
   * `wallet_provider_not_allowed` unless it is in `walletProviders`, else
   * `listAccounts(user)`, checked (`not_found` without `listAccounts`).
   */
  listAccounts?(input: ListAccountsInput<User>): Promise<OfferedAccount[]>;
  /** The token service's keys (to force a refresh, or inspect). */
  readonly tokenServiceKeys: RemoteJwks;
}

const MAX_LIFETIME_SECONDS = 900;
const CLOCK_SKEW_SECONDS = 60;

/**
 * Creates the issuer backend's request builder: only for the wallet
 * providers in `walletProviders`, the card is looked up by the host from an
 * account reference, the claims are bound to the session id, wallet provider
 * id, wallet account id, device id, wallet nonce and device key, signed
 * with the issuer key (`kid`) and encrypted to the token service key found by
 * `kid` in its JWK set, fetched over HTTPS, cached and refreshed on rotation.
 *
 * @example
 * ```ts
 * import { createProvisioningRequestBuilder } from '@pushprov/issuer-sdk/server';
 *
 * const builder = createProvisioningRequestBuilder<User>({
 *   issuerId: 'bank-a',
 *   signingKey: JSON.parse(process.env.ISSUER_SIGNING_JWK!),
 *   tokenService: { audience: 'token-service.example', jwksUrl: 'https://ts.example/.well-known/jwks.json' },
 *   walletProviders: ['wallet-co'], // the wallets this bank provisions to
 *   lookupCard: async (accountRef, user) => db.cards.findForUser(accountRef, user.id), // null when not theirs
 * });
 * ```
 */
export function createProvisioningRequestBuilder<User>(options: ProvisioningRequestBuilderOptions<User>): ProvisioningRequestBuilder<User> {
  const { tokenService } = options;
  if (!zPartyId.safeParse(options.issuerId).success) throw createError('configuration_invalid', 'issuerId must be a lower-case slug');
  let signingKey: SigningKeyHandle;
  try {
    signingKey = toSigningKeyHandle(options.signingKey);
  } catch (cause) {
    throw createError('configuration_invalid', 'signingKey must be a private ES256 or EdDSA JWK with a kid, or a signing key handle', { cause });
  }
  if (!zPartyId.safeParse(tokenService?.audience).success) throw createError('configuration_invalid', 'tokenService.audience must be a lower-case slug');
  const walletProviders = options.walletProviders;
  if (!Array.isArray(walletProviders) || walletProviders.length === 0 || !walletProviders.every((id) => zPartyId.safeParse(id).success)) {
    throw createError(
      'configuration_invalid',
      'walletProviders must list the wallet provider ids this issuer provisions to (at least one lower-case slug, as the token service registers them)',
    );
  }
  const allowedWalletProviders: ReadonlySet<string> = new Set(walletProviders);
  if (typeof options.lookupCard !== 'function') throw createError('configuration_invalid', 'lookupCard must be a function');
  if (options.cardArtUrl !== undefined && !zHttpsUrl.safeParse(options.cardArtUrl).success) {
    throw createError('configuration_invalid', 'cardArtUrl must be an https URL');
  }
  const lifetime = options.requestLifetimeSeconds;
  if (lifetime !== undefined && !(Number.isInteger(lifetime) && lifetime > 0 && lifetime <= MAX_LIFETIME_SECONDS)) {
    throw createError('configuration_invalid', `requestLifetimeSeconds must be an integer from 1 to ${MAX_LIFETIME_SECONDS}`);
  }
  const allowedReplyTo = options.allowedReplyTo;
  if (allowedReplyTo !== undefined && (!Array.isArray(allowedReplyTo) || !allowedReplyTo.every((u) => zHttpsUrl.safeParse(u).success))) {
    throw createError('configuration_invalid', 'allowedReplyTo must list https URLs');
  }
  const clock = options.clock ?? systemClock;
  if (options.listAccounts !== undefined && typeof options.listAccounts !== 'function') throw createError('configuration_invalid', 'listAccounts must be a function');
  const offer = offerMethods({
    issuerId: options.issuerId,
    signingKey,
    listAccounts: options.listAccounts,
    allowedWalletProviders,
    allowedReplyTo,
    clock,
    skewSeconds: CLOCK_SKEW_SECONDS,
  });
  const keys = createRemoteJwks({
    url: tokenService.jwksUrl,
    fetch: tokenService.fetch,
    cacheTtlMs: tokenService.cacheTtlMs,
    minRefreshIntervalMs: tokenService.minRefreshIntervalMs,
    timeoutMs: tokenService.timeoutMs,
    clock,
  });

  async function findCard(accountRef: unknown, user: User, checkValidity = true): Promise<{ accountRef: string; card: Card; accountId: string | undefined }> {
    if (!zOpaqueId.safeParse(accountRef).success) throw new SchemaError('invalid_message', 'accountRef must be 1-128 characters of [A-Za-z0-9._:@-]');
    let found: CardRecord | null | undefined;
    try {
      found = await options.lookupCard(accountRef as string, user);
    } catch (cause) {
      if (isProvisioningError(cause)) throw cause;
      throw new InternalError('internal_error', 'The card lookup failed', { cause });
    }
    if (found === null || found === undefined) throw new HttpError('not_found', 'No such account for this user');
    const { accountId, ...cardFields } = found;
    if (accountId !== undefined && !zOpaqueId.safeParse(accountId).success) {
      throw new InternalError('internal_error', 'The card record’s accountId must be 1-128 characters of [A-Za-z0-9._:@-]');
    }
    let card: Card;
    try {
      card = parseWith(zCard, cardFields, { name: 'card record' });
    } catch (cause) {
      if (isProvisioningError(cause, 'invalid_message')) {
        throw new InternalError('internal_error', 'The card record does not match the card schema', { cause, details: cause.details });
      }
      throw cause;
    }
    if (checkValidity) checkCard(card, { nowMs: clock.now() });
    return { accountRef: accountRef as string, card, accountId };
  }

  return {
    tokenServiceKeys: keys,
    ...offer,

    async buildRequest(input) {
      const identifiers = parseIdentifiers(input.identifiers);
      if (!allowedWalletProviders.has(identifiers.walletProviderId)) {
        throw new AuthError('wallet_provider_not_allowed', 'This issuer does not provision its cards to that wallet provider');
      }
      const { accounts } = input;
      if ((input.accountRef === undefined) === (accounts === undefined)) throw new SchemaError('invalid_message', 'Give exactly one of accountRef and accounts');
      const seal = async (card: Card, accountId: string | undefined) =>
        sealBoundRequest({
          issuerId: options.issuerId,
          signingKey,
          audience: tokenService.audience,
          encryptionKey: await keys.getEncryptionKey({ kid: tokenService.kid, signal: input.signal }),
          identifiers,
          card,
          accountId,
          lifetimeSeconds: lifetime,
          clock,
          random: options.random,
        });
      if (accounts === undefined) {
        const { card, accountId } = await findCard(input.accountRef, input.user);
        return seal(card, accountId);
      }
      const picked = identifiers.accountIds ?? [];
      const ids = accounts.map((a) => a.accountId);
      if (ids.length === 0 || ids.length > MAX_SESSION_ACCOUNTS || new Set(ids).size !== ids.length || !ids.every((id) => picked.includes(id))) {
        throw new SchemaError('invalid_message', 'accounts must be 1 to 8 distinct accounts the wallet picked');
      }
      // The key first: a token service that cannot be reached fails the whole call, not each account.
      await keys.getEncryptionKey({ kid: tokenService.kid, signal: input.signal });
      return sealEach(identifiers.sessionId, accounts, async ({ accountRef, accountId }) => {
        const found = await findCard(accountRef, input.user);
        if ((found.accountId ?? accountRef) !== accountId) throw new AuthError('forbidden', 'The account id is not this card’s');
        return (await seal(found.card, accountId)).encryptedRequest!;
      });
    },

    async signInvocation(input) {
      const { signature: _previous, ...invocation } = parseInvocation(input.invocation);
      if (invocation.issuerId !== options.issuerId) throw new SchemaError('invalid_message', 'The invocation names another issuer');
      checkSignable(invocation, { what: 'invocation', maxLifetimeSeconds: MAX_LIFETIME_SECONDS, skewSeconds: CLOCK_SKEW_SECONDS, clock, allowedReplyTo });
      const multi = invocation.accounts !== undefined;
      const refs = multi ? input.accountRefs : input.accountRef === undefined ? undefined : [input.accountRef];
      const hints = invocationAccounts(invocation);
      if (refs === undefined || (multi ? input.accountRef !== undefined : input.accountRefs !== undefined) || refs.length !== hints.length) {
        throw new SchemaError('invalid_message', 'Give one account reference per account of the invocation: accountRef for account, accountRefs for accounts');
      }
      for (const [i, hint] of hints.entries()) {
        // Several accounts: a card that cannot be provisioned (expired) may still be offered; the build refuses it.
        const { card, accountId } = await findCard(refs[i], input.user, !multi);
        if (card.pan.slice(-4) !== hint.last4 || (multi && hint.accountId !== (accountId ?? refs[i]))) {
          throw new AuthError('forbidden', 'The invocation does not show this account');
        }
        if (hint.cardArtUrl !== undefined && hint.cardArtUrl !== options.cardArtUrl) {
          throw new AuthError('forbidden', 'The invocation shows card art this backend does not sign');
        }
      }
      return signInvocation(invocation, signingKey);
    },
  };
}
