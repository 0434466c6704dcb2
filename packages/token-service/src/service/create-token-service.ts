import {
  type Clock,
  type DecryptionKeyHandle,
  type DecryptionKeyInput,
  AuthError,
  HttpError,
  InternalError,
  type Jwks,
  type RandomSource,
  type SigningKeyHandle,
  type CardLifecycleResult,
  type IssuerTokenSearchResult,
  type LifecycleResponse,
  type TokenHistory,
  type TokenQueryResponse,
  type IssuerTokenStatusResponse,
  type TokenStatusResponse,
  type VerificationStarted,
  secureRandom,
  signingKeyFromJwk,
  systemClock,
  toProvisioningError,
  toPublicJwk,
} from '@pushprov/protocol';
import { toDecryptionKeyHandle } from '@pushprov/protocol/internal';
import {
  type ActivationResult,
  type IssuerActivationInput,
  type WalletActivationInput,
  activateByIssuer,
  activateWithCode,
  findOwnedToken,
  startVerification,
  issuerTokenStatusOf,
  tokenStatusOf,
} from '../activation/activation.js';
import { type AuthenticatedIssuer, createIssuerAuthenticator } from '../auth/issuer-authenticator.js';
import {
  type IssuerCardInput,
  type IssuerLifecycleInput,
  type WalletLifecycleInput,
  cardEventByIssuer,
  changeByIssuer,
  changeByWallet,
  changeCardByIssuer,
  searchTokens,
  tokenHistory,
} from '../lifecycle/lifecycle.js';
import { type TokenQueryInput, queryTokens } from '../query/query-tokens.js';
import { type Sandbox, createSandbox } from '../sandbox/sandbox.js';
import { type AuthenticatedCaller, createAuthenticator } from '../auth/create-authenticator.js';
import { ConfigError, type ParseConfigOptions, type TokenServiceConfig, parseConfig } from '../config/parse-config.js';
import type { TokenServiceConfigInput } from '../config/z-config.js';
import type { ProvisioningContext } from '../provisioning/context.js';
import { createProvisioningPipeline } from '../provisioning/pipeline.js';
import { createPipelineObserver, instrumentHooks, instrumentStore } from '../observability/instrument.js';
import type { TokenServiceMetrics } from '../observability/metrics.js';
import { checkWalletProviderLimit } from '../ratelimit/rate-limits.js';
import type { SubmitInput, SubmitResult } from '../provisioning/types.js';
import { createMemoryStore } from '../store/memory/memory-store.js';
import type { PurgeResult, TokenServiceStore } from '../store/types.js';
import { checkStoreKeys } from '../vault/store-keys.js';
import { type VaultCipher, createVaultCipherFromConfig } from '../vault/vault-cipher.js';
import type { AccountResolver, DecisionHook, VerificationCodeSender } from './hooks.js';
import { type InspectSubmissionInput, type InspectionReport, inspectSubmission } from '../inspector/inspect-submission.js';

export type { SubmitInput, SubmitResult } from '../provisioning/types.js';

/** Options of {@link createTokenService}. */
export interface TokenServiceOptions {
  clock?: Clock | undefined;
  random?: RandomSource | undefined;
  /** The issuer's decision hook. Default: each issuer's configured sandbox rules. */
  decide?: DecisionHook | undefined;
  /** Resolves `accountRef` requests to a card. Without one, such requests are refused with `card_invalid`. */
  resolveAccount?: AccountResolver | undefined;
  /**
   * Delivers the one-time codes of the OTP verification methods (`otp_sms`,
   * `otp_email`): the issuer sends each code to the cardholder. Without one
   * (and outside sandbox mode), those methods are `verification_method_unavailable`.
   */
  sendVerificationCode?: VerificationCodeSender | undefined;
  /**
   * Sandbox mode, one switch with the configuration's `"sandbox": true`
   * (either turns on all of it): the sandbox test cards decide when no
   * `decide` hook is given (`SANDBOX_CARDS`, by the PAN's last four digits;
   * an issuer's own `decision.byLast4` wins), without a
   * `sendVerificationCode` hook the codes are kept in memory for
   * `GET /sandbox/inbox`, and the request inspector is served
   * (`/sandbox/inspector`, recent requests kept in memory). Never in
   * production. Default false.
   */
  sandbox?: boolean | undefined;
  /** How configuration file paths and the environment are read (see `parseConfig`). */
  configOptions?: ParseConfigOptions | undefined;
  /**
   * How long a request holds its idempotency key while it runs, ms (default:
   * the configuration's `lifetimes.idempotencyLeaseSeconds`, 30 s). An instance that dies mid-request blocks its key no longer than
   * this; it must exceed the longest a request can take (the hooks' timeouts
   * included).
   */
  idempotencyLeaseMs?: number | undefined;
  /**
   * The service's decryption keys as handles (`decryptionKeyFromCryptoKey`, or
   * any `DecryptionKeyHandle` an HSM or KMS provider gives), instead of the
   * private JWKs of the key set file. The key set then holds only the public
   * halves (what `/.well-known/jwks.json` publishes, in its order; a `d` is
   * refused), and every configured key must have exactly one handle with its
   * `kid` and public key, and every handle a configured key: otherwise
   * `ConfigError`. Default: the key set's private JWKs.
   */
  decryptionKeys?: readonly DecryptionKeyHandle[] | undefined;
  /**
   * Where the service's metrics go (`createTokenServiceMetrics`): the time of
   * each validation step and store call, the outcome of each provisioning.
   * Default: none. Spans (OpenTelemetry) are made either way, through the
   * global tracer provider: a no-op until the host registers one.
   */
  metrics?: TokenServiceMetrics | undefined;
  /**
   * Decryption keys of an earlier configuration, each still accepted until
   * its `untilMs` (milliseconds since the epoch, on the service's clock) and
   * then refused (`unknown_key`); never published. What a reload keeps of
   * the configuration it replaces (`RunningTokenServer.reload`, for
   * `lifetimes.keyGraceSeconds`). A key whose `kid` the configuration has
   * is left out: the configured key wins.
   */
  graceDecryptionKeys?: readonly { key: DecryptionKeyInput; untilMs: number }[] | undefined;
}

/**
 * The configuration as the service shows it: everything but secrets. The
 * encryption keys are their public halves; of the vault keys only their ids.
 */
export type PublicTokenServiceConfig = Readonly<
  Omit<TokenServiceConfig, 'keys' | 'store'> & {
    keys: { encryptionKeys: Jwks; vault: { keyIds: string[]; fingerprintKeyConfigured: boolean }; signingKeyIds: string[] };
    storeConfigured: boolean;
  }
>;

/**
 * The token service: the validation pipeline, issuance, the vault and token
 * status, over a {@link TokenServiceStore}. The HTTP app
 * ({@link createTokenServiceApp}) is a thin layer over it. It holds no
 * secret in any property: private keys live only inside its functions.
 *
 * @example
 * ```ts
 * const caller = await service.authenticate(`Bearer ${apiKey}`);
 * const status = await service.getTokenStatus({ tokenReferenceId, walletProviderId: caller.walletProviderId });
 * ```
 */
export interface TokenService {
  /** The configuration without its secrets. */
  readonly config: PublicTokenServiceConfig;
  readonly store: TokenServiceStore;
  readonly clock: Clock;
  readonly random: RandomSource;
  /**
   * What `/.well-known/jwks.json` publishes: the public encryption keys
   * issuers encrypt requests to, then the public notification signing keys
   * (`use: sig`; spec section 14).
   */
  publicJwks(): Jwks;
  /**
   * The key notifications are signed with (the key set's first
   * `signingKeys` entry), or undefined when the key set has none.
   */
  readonly notificationSigningKey?: SigningKeyHandle | undefined;
  /**
   * Authenticates an `Authorization` header value (API key or client
   * assertion). A client assertion is claimed in the store as it is
   * checked: presented once, it is used up, whatever happens to the request.
   */
  authenticate(authorization: string | null | undefined): Promise<AuthenticatedCaller>;
  /**
   * The wallet provider's rate limit (`walletProviders[].rateLimit.perMinute`),
   * counted in the store across every instance: resolves when this request
   * is within it (or none is configured), rejects with `429 rate_limited`
   * (a `RateLimitedError`, carrying `retryAfterSeconds`) otherwise. The HTTP
   * app calls it for each `POST /v1/provisioning-requests` right after
   * `authenticate`; a caller of `submit` without the app calls it the same way.
   */
  checkWalletProviderLimit(walletProviderId: string): Promise<void>;
  /** Validates a submission and issues (or finds) its token: the steps of `docs/protocol.md` section 6 (see `src/provisioning/pipeline.ts`). */
  submit(input: SubmitInput): Promise<SubmitResult>;
  /** The status of a token, for the wallet provider that owns it; anything else is `not_found`. */
  getTokenStatus(input: { tokenReferenceId: string; walletProviderId: string }): Promise<TokenStatusResponse>;
  /**
   * `POST /v1/tokens/{id}/verification` (spec section 11.3): a new one-time
   * code for an OTP method of a pending token of this wallet provider,
   * delivered by the `sendVerificationCode` hook. The HTTP app runs
   * `authenticate` and `checkWalletProviderLimit` first.
   */
  startVerification(input: WalletActivationInput): Promise<ActivationResult<VerificationStarted>>;
  /** `POST /v1/tokens/{id}/activation` (spec section 11.4): the code the user typed; the token becomes `active`. */
  activate(input: WalletActivationInput): Promise<ActivationResult<TokenStatusResponse>>;
  /**
   * Authenticates an issuer API request: `Authorization: Bearer` with an
   * issuer assertion (`createIssuerAssertion`), claimed in the store as it is
   * checked. Every failure is `unauthenticated`.
   */
  authenticateIssuer(authorization: string | null | undefined): Promise<AuthenticatedIssuer>;
  /** `POST /v1/issuer/tokens/{id}/activation` (spec section 11.5): the issuer verified the cardholder itself. */
  activateByIssuer(input: IssuerActivationInput): Promise<ActivationResult<TokenStatusResponse>>;
  /** `GET /v1/issuer/tokens/{id}`: the status of a token of one of the issuer's cards; any other is `not_found`. */
  getIssuerTokenStatus(input: { tokenReferenceId: string; issuerId: string }): Promise<IssuerTokenStatusResponse>;
  /** `POST /v1/tokens/{id}/lifecycle` (spec section 7.10): the wallet provider suspends, resumes or deletes one of its tokens. */
  changeTokenLifecycle(input: WalletLifecycleInput): Promise<ActivationResult<LifecycleResponse>>;
  /** `GET /v1/tokens/{id}/history`: the recorded changes of one of the wallet provider's tokens; any other is `not_found`. */
  getTokenHistory(input: { tokenReferenceId: string; walletProviderId: string }): Promise<TokenHistory>;
  /**
   * `POST /v1/tokens/query` (spec section 7.14): the wallet provider's live
   * tokens of one wallet account for some of one issuer's accounts (no card
   * or token number in the answer). The HTTP app runs `authenticate` and
   * `checkWalletProviderLimit` first.
   */
  queryTokens(input: TokenQueryInput): Promise<TokenQueryResponse>;
  /** `POST /v1/issuer/tokens/search` (spec section 7.11): the issuer's tokens of one card, by account id or card number. */
  searchIssuerTokens(input: IssuerCardInput): Promise<IssuerTokenSearchResult>;
  /** `POST /v1/issuer/tokens/{id}/lifecycle`: the issuer suspends, resumes or deletes a token of its card. */
  changeIssuerTokenLifecycle(input: IssuerLifecycleInput): Promise<ActivationResult<LifecycleResponse>>;
  /** `POST /v1/issuer/cards/lifecycle`: the same action on every token of one of the issuer's cards. */
  changeIssuerCardLifecycle(input: IssuerCardInput): Promise<ActivationResult<CardLifecycleResult>>;
  /** `POST /v1/issuer/cards/events`: a card reissued (new expiry) or closed (its tokens deleted). */
  reportIssuerCardEvent(input: IssuerCardInput): Promise<ActivationResult<CardLifecycleResult>>;
  /** `GET /v1/issuer/tokens/{id}/history`: the recorded changes of a token of the issuer's card; any other is `not_found`. */
  getIssuerTokenHistory(input: { tokenReferenceId: string; issuerId: string }): Promise<TokenHistory>;
  /** Sandbox mode only: the codes the sandbox sender kept (see `GET /sandbox/inbox`). */
  readonly sandbox?: Pick<Sandbox, 'inbox'> | undefined;
  /**
   * Whether the store answers (`GET /health/ready`) and belongs to this
   * configuration's vault keys; rejects with `store_unavailable`, or
   * `configuration_invalid` when the store was built with another
   * fingerprint key or holds values sealed under a vault key id the
   * configuration lacks (see `checkStoreKeys`). `startTokenServer` calls it
   * before listening. The key check runs once (again after a store failure):
   * `authenticate`, `submit` and `getTokenStatus` wait for it too, so a
   * service that skips `ready()` still never serves a store of other keys.
   */
  ready(): Promise<void>;
  /**
   * The request inspector's dry run (sandbox mode only, `sandbox: true`;
   * otherwise `not_found`): each validation step over a submission, with the
   * decoded headers, the claims (PAN masked) and the binding beside the
   * submission. Changes nothing (see `inspectSubmission`).
   */
  inspect(input: InspectSubmissionInput): Promise<InspectionReport>;
  /**
   * Removes expired replay and idempotency records, idempotency entries
   * whose lease ended, and rate limit counters whose window ended; and
   * deletes pending tokens whose pending time is over (`pendingTokens`).
   */
  purgeExpired(): Promise<PurgeResult & { pendingTokens: number }>;
  /** Closes the store. */
  close(): Promise<void>;
}

/** The default idempotency lease, ms (`lifetimes.idempotencyLeaseSeconds` × 1000 unless configured). */
export const DEFAULT_IDEMPOTENCY_LEASE_MS = 30_000;

/** The vault cipher of a configuration: its KEKs, and its fingerprint key (derived from the first KEK when none is configured). */
function createCipher(config: TokenServiceConfig): VaultCipher {
  return createVaultCipherFromConfig(config.keys.vault);
}

function publicView(config: TokenServiceConfig, publicJwks: Jwks): PublicTokenServiceConfig {
  const { keys, store: _store, ...rest } = structuredClone(config);
  return Object.freeze({
    ...rest,
    keys: {
      encryptionKeys: publicJwks,
      vault: { keyIds: keys.vault.keks.map((k) => k.id), fingerprintKeyConfigured: keys.vault.fingerprintKey !== undefined },
      signingKeyIds: (keys.signingKeys?.keys ?? []).map((k) => k.kid),
    },
    // A store URL may carry a password: only whether one is configured.
    storeConfigured: config.store !== undefined,
  });
}

/**
 * Checks decryption key handles against the configured public encryption keys:
 * one handle per configured key, with its `kid` and public key, and no other.
 * Names kids only, never key material.
 */
function checkDecryptionKeys(input: readonly DecryptionKeyHandle[], configured: Jwks): readonly DecryptionKeyHandle[] {
  if (!Array.isArray(input) || input.length === 0) throw new ConfigError(['decryptionKeys: must hold at least one decryption key handle']);
  const issues: string[] = [];
  const handles: DecryptionKeyHandle[] = [];
  input.forEach((candidate, i) => {
    try {
      const handle = toDecryptionKeyHandle(candidate);
      if (handles.some((h) => h.kid === handle.kid)) issues.push(`decryptionKeys[${i}]: kid ${JSON.stringify(handle.kid)} is given twice`);
      handles.push(handle);
      const key = configured.keys.find((k) => k.kid === handle.kid);
      if (!key) issues.push(`decryptionKeys[${i}]: kid ${JSON.stringify(handle.kid)} is not an encryption key of the configuration (keys.encryptionKeys)`);
      else if (key.x !== handle.publicJwk.x || key.y !== handle.publicJwk.y || key.crv !== handle.publicJwk.crv) {
        issues.push(`decryptionKeys[${i}]: its public key is not the configured key ${JSON.stringify(handle.kid)}`);
      }
    } catch {
      issues.push(`decryptionKeys[${i}]: must be a decryption key handle (kid, alg ECDH-ES+A256KW, publicJwk, key())`);
    }
  });
  for (const key of configured.keys) {
    if (!handles.some((h) => h.kid === key.kid)) issues.push(`decryptionKeys: no handle for the configured encryption key ${JSON.stringify(key.kid)}`);
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return Object.freeze(handles);
}

/**
 * Creates the token service from a configuration (validated with
 * {@link parseConfig}) and a store (default: in memory, one process).
 *
 * `submit` runs the steps of `docs/protocol.md` section 6, each in the module
 * of `src/provisioning/steps/` named after its number, stopping at the first
 * failure with that step's code. Every guarantee that must hold across
 * requests is held by the store (idempotency entries with a lease, claimed
 * client assertions, replay keys), so any number of service processes may
 * share one store.
 *
 * @example
 * ```ts
 * const service = createTokenService(loadConfig('token-service.json'), openSqliteStore('tokens.db'));
 * const { status, body } = await service.submit({ submission, walletProviderId: 'wallet-co', idempotencyKey: 'k-1' });
 * ```
 */
export function createTokenService(
  config: TokenServiceConfigInput | TokenServiceConfig,
  storeToWrap: TokenServiceStore = createMemoryStore(),
  options: TokenServiceOptions = {},
): TokenService {
  // Every store call timed (metrics) and traced; the hooks traced.
  const store = instrumentStore(storeToWrap, options.metrics);
  const hooks = instrumentHooks(options);
  const parsed = parseConfig(
    config,
    options.decryptionKeys === undefined ? options.configOptions : { ...options.configOptions, publicEncryptionKeys: true },
  );
  // One sandbox switch: the option or the configuration's `sandbox` turns on every sandbox feature (cards, inbox, inspector).
  const resolved: TokenServiceConfig = options.sandbox === true && parsed.sandbox !== true ? { ...parsed, sandbox: true } : parsed;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? secureRandom;
  const encryptionJwks: Jwks = { keys: resolved.keys.encryptionKeys.keys.map(toPublicJwk) };
  // Notification signing keys: the first signs; all are published, so a rotation keeps the old one known for a while.
  const signingHandles = (resolved.keys.signingKeys?.keys ?? []).map((k) => signingKeyFromJwk(k));
  const publicJwks: Jwks = { keys: [...encryptionJwks.keys, ...signingHandles.map((h) => ({ ...h.publicJwk, use: 'sig' }))] };
  const decryptionKeys = options.decryptionKeys === undefined ? resolved.keys.encryptionKeys : checkDecryptionKeys(options.decryptionKeys, encryptionJwks);
  const leaseMs = Math.floor(options.idempotencyLeaseMs ?? resolved.lifetimes.idempotencyLeaseSeconds * 1000);
  if (!(leaseMs >= 1000 && leaseMs <= 600_000)) throw new RangeError('idempotencyLeaseMs must be from 1 000 to 600 000');
  const cipher = createCipher(resolved);
  // Keys of an earlier configuration, as handles beside the configured ones until each one's time is up.
  const configuredKids = new Set(encryptionJwks.keys.map((k) => k.kid));
  const grace = (options.graceDecryptionKeys ?? [])
    .map((g) => ({ handle: toDecryptionKeyHandle(g.key), untilMs: g.untilMs }))
    .filter((g) => !configuredKids.has(g.handle.kid) && Number.isFinite(g.untilMs));
  const configuredHandles: readonly DecryptionKeyHandle[] =
    grace.length === 0 ? [] : Array.isArray(decryptionKeys) ? decryptionKeys : (decryptionKeys as Jwks).keys.map((k) => toDecryptionKeyHandle(k));
  const currentDecryptionKeys = (): Jwks | readonly DecryptionKeyHandle[] => {
    if (grace.length === 0) return decryptionKeys;
    const now = clock.now();
    const live = grace.filter((g) => now < g.untilMs);
    return live.length === 0 ? decryptionKeys : [...configuredHandles, ...live.map((g) => g.handle)];
  };
  const sandbox = resolved.sandbox === true ? createSandbox(clock) : undefined;
  const context: ProvisioningContext = {
    config: resolved,
    store,
    clock,
    random,
    cipher,
    issuers: new Map(resolved.issuers.map((i) => [i.id, i])),
    get decryptionKeys() {
      return currentDecryptionKeys();
    },
    idempotencyLeaseMs: leaseMs,
    decide: hooks.decide,
    resolveAccount: hooks.resolveAccount,
    sendVerificationCode: options.sendVerificationCode ?? sandbox?.sendVerificationCode,
    sandbox,
    observer: createPipelineObserver(resolved, options.metrics),
  };
  const runSubmit = createProvisioningPipeline(context);
  const runAuthenticate = createAuthenticator(resolved, { replay: store.replay, clock });
  const runAuthenticateIssuer = createIssuerAuthenticator(resolved, { replay: store.replay, clock });
  const providers = new Map(resolved.walletProviders.map((p) => [p.id, p]));

  // The store's key check (see checkStoreKeys), once: a refusal stays, a store that did not answer is asked again.
  let keysChecked = false;
  let keyCheck: Promise<void> | undefined;
  const checkKeys = (): Promise<void> =>
    (keyCheck ??= checkStoreKeys(store, cipher, { fingerprintKeyConfigured: resolved.keys.vault.fingerprintKey !== undefined }).then(
      () => {
        keysChecked = true;
      },
      (error: unknown) => {
        if (!(error instanceof InternalError && error.code === 'configuration_invalid')) keyCheck = undefined;
        throw error;
      },
    ));
  const keysReady = async (): Promise<void> => {
    if (keysChecked) return;
    try {
      await checkKeys();
    } catch (error) {
      throw toProvisioningError(error);
    }
  };
  const submit = async (input: SubmitInput): Promise<SubmitResult> => {
    await keysReady();
    return runSubmit(input);
  };
  const authenticate = async (authorization: string | null | undefined): Promise<AuthenticatedCaller> => {
    await keysReady();
    return runAuthenticate(authorization);
  };

  return {
    config: publicView(resolved, encryptionJwks),
    store,
    clock,
    random,
    publicJwks: () => structuredClone(publicJwks),
    ...(signingHandles[0] === undefined ? {} : { notificationSigningKey: signingHandles[0] }),
    authenticate,
    async checkWalletProviderLimit(walletProviderId) {
      try {
        await checkWalletProviderLimit(store, clock, providers.get(walletProviderId));
      } catch (error) {
        throw toProvisioningError(error);
      }
    },
    submit,
    async getTokenStatus({ tokenReferenceId, walletProviderId }) {
      await keysReady();
      try {
        if (!providers.has(walletProviderId)) throw new HttpError('not_found', 'No such token');
        return tokenStatusOf(context, await findOwnedToken(context, tokenReferenceId, (t) => t.walletProviderId === walletProviderId));
      } catch (error) {
        throw toProvisioningError(error);
      }
    },
    async startVerification(input) {
      await keysReady();
      if (!providers.has(input.walletProviderId)) throw new AuthError('unauthenticated', 'Unknown wallet provider');
      return startVerification(context, input);
    },
    async activate(input) {
      await keysReady();
      if (!providers.has(input.walletProviderId)) throw new AuthError('unauthenticated', 'Unknown wallet provider');
      return activateWithCode(context, input);
    },
    async authenticateIssuer(authorization) {
      await keysReady();
      try {
        return await runAuthenticateIssuer(authorization);
      } catch (error) {
        throw toProvisioningError(error);
      }
    },
    async activateByIssuer(input) {
      await keysReady();
      if (!context.issuers.has(input.issuerId)) throw new AuthError('unauthenticated', 'Unknown issuer');
      return activateByIssuer(context, input);
    },
    async changeTokenLifecycle(input) {
      await keysReady();
      if (!providers.has(input.walletProviderId)) throw new AuthError('unauthenticated', 'Unknown wallet provider');
      return changeByWallet(context, input);
    },
    async getTokenHistory({ tokenReferenceId, walletProviderId }) {
      await keysReady();
      if (!providers.has(walletProviderId)) throw new HttpError('not_found', 'No such token');
      return tokenHistory(context, tokenReferenceId, (t) => t.walletProviderId === walletProviderId);
    },
    async queryTokens(input) {
      await keysReady();
      if (!providers.has(input.walletProviderId)) throw new AuthError('unauthenticated', 'Unknown wallet provider');
      return queryTokens(context, input);
    },
    async searchIssuerTokens(input) {
      await keysReady();
      if (!context.issuers.has(input.issuerId)) throw new AuthError('unauthenticated', 'Unknown issuer');
      return searchTokens(context, input);
    },
    async changeIssuerTokenLifecycle(input) {
      await keysReady();
      if (!context.issuers.has(input.issuerId)) throw new AuthError('unauthenticated', 'Unknown issuer');
      return changeByIssuer(context, input);
    },
    async changeIssuerCardLifecycle(input) {
      await keysReady();
      if (!context.issuers.has(input.issuerId)) throw new AuthError('unauthenticated', 'Unknown issuer');
      return changeCardByIssuer(context, input);
    },
    async reportIssuerCardEvent(input) {
      await keysReady();
      if (!context.issuers.has(input.issuerId)) throw new AuthError('unauthenticated', 'Unknown issuer');
      return cardEventByIssuer(context, input);
    },
    async getIssuerTokenHistory({ tokenReferenceId, issuerId }) {
      await keysReady();
      if (!context.issuers.has(issuerId)) throw new HttpError('not_found', 'No such token');
      return tokenHistory(context, tokenReferenceId, (t) => t.issuerId === issuerId);
    },
    async getIssuerTokenStatus({ tokenReferenceId, issuerId }) {
      await keysReady();
      try {
        if (!context.issuers.has(issuerId)) throw new HttpError('not_found', 'No such token');
        return issuerTokenStatusOf(context, await findOwnedToken(context, tokenReferenceId, (t) => t.issuerId === issuerId));
      } catch (error) {
        throw toProvisioningError(error);
      }
    },
    ...(sandbox === undefined ? {} : { sandbox: { inbox: (tokenReferenceId: string) => sandbox.inbox(tokenReferenceId) } }),
    async ready() {
      await store.ping();
      await keysReady();
    },
    async inspect(input) {
      if (resolved.sandbox !== true) throw new HttpError('not_found', 'The request inspector is served in sandbox mode only');
      // No store key check: it may record the fingerprint key's check value, and the inspector writes nothing.
      return inspectSubmission(context, input);
    },
    async purgeExpired() {
      const now = clock.now();
      const purged = await store.purgeExpired(now);
      return { ...purged, pendingTokens: await store.verification.expirePending({ nowMs: now }) };
    },
    close: () => store.close(),
  };
}
