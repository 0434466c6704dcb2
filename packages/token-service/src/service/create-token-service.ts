import {
  type AccessData,
  AuthError,
  type Card,
  CardError,
  type Clock,
  DecisionError,
  HttpError,
  InternalError,
  type Jwks,
  type ProvisioningResponse,
  type RandomSource,
  ReplayError,
  type Submission,
  type TokenStatusResponse,
  TransportError,
  canonicalJson,
  checkBinding,
  checkCard,
  createId,
  encryptAccessData,
  isExpired,
  openProvisioningRequest,
  parseProvisioningResponse,
  parseSubmission,
  replayKey,
  secureRandom,
  systemClock,
  toProvisioningError,
  toPublicJwk,
  zCard,
  zOpaqueId,
} from '@pushprov/protocol';
import { type AuthenticatedCaller, createAuthenticator } from '../auth/create-authenticator.js';
import { type TokenServiceConfig, type IssuerConfig, parseConfig, type ParseConfigOptions } from '../config/parse-config.js';
import type { TokenServiceConfigInput } from '../config/z-config.js';
import { createTokenNumber } from '../issuance/create-token-number.js';
import { computeTokenExpiry } from '../issuance/token-expiry.js';
import { checkDevicePublicKey } from '../lib/check-device-key.js';
import { sha256Hex } from '../lib/hash.js';
import { checkIdempotencyKey } from '../lib/idempotency-key.js';
import { runWithTimeout } from '../lib/run-with-timeout.js';
import { createMemoryStore } from '../store/memory-store.js';
import type { CommitInput, IdempotencyRecord, PurgeResult, ReplayRecord, TokenRecord, TokenServiceStore } from '../store/types.js';
import { type VaultCipher, createVaultCipher, deriveFingerprintKey } from '../vault/vault-cipher.js';
import { type AccountResolver, type DecisionHook, decideByRules } from './hooks.js';

/** Options of {@link createTokenService}. */
export interface TokenServiceOptions {
  clock?: Clock;
  random?: RandomSource;
  /** The issuer's decision hook. Default: each issuer's configured sandbox rules. */
  decide?: DecisionHook;
  /** Resolves `accountRef` requests to a card. Without one, such requests are refused with `card_invalid`. */
  resolveAccount?: AccountResolver;
  /** How configuration file paths and the environment are read (see `parseConfig`). */
  configOptions?: ParseConfigOptions;
}

/** Input of {@link TokenService.submit}. */
export interface SubmitInput {
  /** The request body: a `Submission` or its JSON text. */
  submission: unknown;
  /** The authenticated wallet provider. Never taken from the body. */
  walletProviderId: string;
  /** The `Idempotency-Key`. */
  idempotencyKey: string;
  /** The client assertion's replay record, when the caller authenticated with one; stored with the provisioning. */
  assertionReplay?: ReplayRecord | undefined;
  /** Cancels the provisioning; honoured up to the moment it is committed. */
  signal?: AbortSignal | undefined;
}

/** The answer of {@link TokenService.submit}. */
export interface SubmitResult {
  /** `201` for a new token, `200` for a card already provisioned to this wallet account and device (its unexpired token). */
  status: 200 | 201;
  body: ProvisioningResponse;
  /** True when this is the stored answer of an earlier request with the same idempotency key and body. */
  replayed: boolean;
}

/**
 * The token service: the validation pipeline, issuance, the vault and token
 * status, over a {@link TokenServiceStore}. The HTTP app
 * ({@link createTokenServiceApp}) is a thin layer over it.
 *
 * @example
 * ```ts
 * const caller = await service.authenticate(`Bearer ${apiKey}`);
 * const status = await service.getTokenStatus({ tokenReferenceId, walletProviderId: caller.walletProviderId });
 * ```
 */
export interface TokenService {
  readonly config: TokenServiceConfig;
  readonly store: TokenServiceStore;
  readonly clock: Clock;
  readonly random: RandomSource;
  /** The public encryption keys issuers encrypt requests to (`/.well-known/jwks.json`). */
  publicJwks(): Jwks;
  /** Authenticates an `Authorization` header value (API key or client assertion). */
  authenticate(authorization: string | null | undefined): Promise<AuthenticatedCaller>;
  /** Validates a submission and issues (or finds) its token. See the pipeline in {@link createTokenService}. */
  submit(input: SubmitInput): Promise<SubmitResult>;
  /** The status of a token, for the wallet provider that owns it; anything else is `not_found`. */
  getTokenStatus(input: { tokenReferenceId: string; walletProviderId: string }): Promise<TokenStatusResponse>;
  /** Removes expired replay and idempotency records. */
  purgeExpired(): Promise<PurgeResult>;
  /** Closes the store. */
  close(): Promise<void>;
}

const MAX_COMMIT_ATTEMPTS = 8;

function createCipher(config: TokenServiceConfig): VaultCipher {
  const keks = config.keys.vault.keks.map((k) => ({ id: k.id, key: new Uint8Array(Buffer.from(k.key, 'base64url')) }));
  const fingerprintKey =
    config.keys.vault.fingerprintKey === undefined ? deriveFingerprintKey(keks[0]!.key) : new Uint8Array(Buffer.from(config.keys.vault.fingerprintKey, 'base64url'));
  return createVaultCipher({ keys: keks, fingerprintKey });
}

/**
 * Creates the token service from a configuration (validated with
 * {@link parseConfig}) and a store (default: in memory).
 *
 * `submit` runs the steps below (numbered as in `docs/protocol.md`, section
 * 6; steps 1 and 2, authentication and the HTTP rules, belong to the HTTP
 * layer), one check per step, stopping at the first failure with that
 * step's code. Steps 4 to 11 are `openProvisioningRequest`, in its
 * documented order.
 *
 * 3. the body: strict JSON and the `Submission` schema, the device key a
 *    point on P-256 (`invalid_json`, `invalid_message`,
 *    `unsupported_version`, `payload_too_large`); then
 *    idempotency: a stored answer for the same key and body is replayed, the
 *    same key with another body is `idempotency_key_reused`, the same key
 *    still in progress is `idempotency_in_flight`
 * 4. JWE header allow-list and known `kid` (`jwe_header_rejected`, `unknown_key`)
 * 5. decrypt (`decryption_failed`)
 * 6. JWS header allow-list (`jws_header_rejected`)
 * 7. issuer key by `iss` + `kid` (`unknown_issuer`)
 * 8. signature (`signature_invalid`)
 * 9. claims schema (`invalid_claims`, `card_invalid`)
 * 10. `aud` (`audience_mismatch`)
 * 11. lifetime, `iat`, `exp` with clock skew (`lifetime_exceeded`,
 *     `not_yet_valid`, `expired`)
 * 12. `jti` never seen (`replayed`)
 * 13. binding: session, wallet provider (the authenticated caller), wallet
 *     account, device, nonce (`session_mismatch`, `wallet_provider_mismatch`,
 *     `wallet_account_mismatch`, `device_mismatch`, `nonce_mismatch`)
 * 14. the card: an `accountRef` is resolved with the `resolveAccount` hook
 *     (none, or unknown reference: `card_invalid`); Luhn and expiry month
 *     (`card_invalid`), not expired (`card_expired`), inside the issuer's
 *     BIN ranges (`card_not_eligible`)
 * 15. the issuer's decision (`declined`; `step_up` issues the token pending
 *     activation)
 * 16. issuance, in one atomic commit: the idempotency record, the `jti`
 *     (kept until `exp` + skew), and a new token with its vault entry, or,
 *     when the card is already provisioned to this wallet account and
 *     device, the existing token (status 200). An existing token past its
 *     expiry month is not answered: a new token replaces it in the same
 *     commit (status 201), and the expired one becomes `deleted`.
 *
 * Steps 3 to 15 only read; nothing is written unless step 16 commits, so a
 * refused request leaves the store unchanged and does not burn its `jti`.
 * Step 12 is checked early and enforced again by the commit (a unique key),
 * so two racing copies of one request issue exactly one token.
 *
 * @example
 * ```ts
 * const service = createTokenService(loadConfig('token-service.json'), openSqliteStore('tokens.db'));
 * const { status, body } = await service.submit({ submission, walletProviderId: 'wallet-co', idempotencyKey: 'k-1' });
 * ```
 */
export function createTokenService(
  config: TokenServiceConfigInput | TokenServiceConfig,
  store: TokenServiceStore = createMemoryStore(),
  options: TokenServiceOptions = {},
): TokenService {
  const resolved = parseConfig(config, options.configOptions);
  const clock = options.clock ?? systemClock;
  const random = options.random ?? secureRandom;
  const cipher = createCipher(resolved);
  const issuers = new Map(resolved.issuers.map((i) => [i.id, i]));
  const providers = new Set(resolved.walletProviders.map((p) => p.id));
  const decryptionKeys: Jwks = resolved.keys.encryptionKeys;
  const publicJwks: Jwks = { keys: decryptionKeys.keys.map(toPublicJwk) };
  const skew = resolved.lifetimes.clockSkewSeconds;
  const authenticate = createAuthenticator(resolved, { replay: store.replay, clock });
  /** Idempotency slots in progress in this process: slot -> request hash. */
  const inFlight = new Map<string, string>();

  const idempotencyContext = (scope: string, key: string) => `${scope}\u0000${key}`;

  const replayStored = (record: IdempotencyRecord, requestHash: string): SubmitResult => {
    if (record.requestHash !== requestHash) {
      throw new HttpError('idempotency_key_reused', 'This idempotency key was used with another request body');
    }
    const text = cipher.open(record.sealedResponse, 'idempotency-response', idempotencyContext(record.scope, record.key));
    parseProvisioningResponse(text);
    // The stored text is what was answered; JSON.parse keeps its member order, so the replay is byte for byte the same.
    const body = JSON.parse(text) as ProvisioningResponse;
    return { status: record.status === 200 ? 200 : 201, body, replayed: true };
  };

  const respond = async (
    submission: Submission,
    token: Pick<TokenRecord, 'tokenReferenceId' | 'tokenExpiry' | 'status' | 'network' | 'createdAt'>,
    tokenNumber: string,
    panLast4: string,
  ): Promise<ProvisioningResponse> => {
    if (token.status !== 'active' && token.status !== 'pending_activation') {
      throw new DecisionError('declined', 'The card is already provisioned to this device and its token is not usable');
    }
    const accessData: AccessData = {
      tokenReferenceId: token.tokenReferenceId,
      tokenNumber,
      tokenExpiry: token.tokenExpiry,
      status: token.status,
      panLast4,
      issuedAt: Math.floor(token.createdAt / 1000),
    };
    if (token.network !== undefined) accessData.network = token.network as NonNullable<AccessData['network']>;
    const base = {
      type: 'provisioning-response' as const,
      version: 1 as const,
      sessionId: submission.sessionId,
      tokenReferenceId: token.tokenReferenceId,
      status: token.status,
    };
    return submission.devicePublicKey === undefined
      ? { ...base, accessData }
      : { ...base, encryptedAccessData: await encryptAccessData(accessData, submission.devicePublicKey) };
  };

  const resolveCard = async (
    claims: { card?: Card | undefined; accountRef?: string | undefined; iss: string; sid: string },
    submission: Submission,
    walletProviderId: string,
    signal: AbortSignal | undefined,
  ): Promise<Card> => {
    if (claims.card) return claims.card;
    const resolver = options.resolveAccount;
    if (!resolver || claims.accountRef === undefined) throw new CardError('card_invalid', 'Account references cannot be resolved by this token service');
    const accountRef = claims.accountRef;
    const card = await runWithTimeout(
      (hookSignal) =>
        resolver({
          issuerId: claims.iss,
          accountRef,
          walletProviderId,
          walletAccountId: submission.walletAccountId,
          deviceId: submission.deviceId,
          sessionId: claims.sid,
          signal: hookSignal,
        }),
      resolved.limits.hookTimeoutMs,
      signal,
    );
    if (card === undefined) throw new CardError('card_invalid', 'The account reference is not known to the issuer');
    const checked = zCard.safeParse(card, { reportInput: false });
    if (!checked.success) throw new CardError('card_invalid', 'The account reference resolved to an invalid card');
    return checked.data;
  };

  const decide = async (issuer: IssuerConfig, context: Omit<Parameters<DecisionHook>[0], 'signal'>, signal: AbortSignal | undefined) => {
    const hook = options.decide;
    const decision = hook === undefined ? decideByRules(issuer, context.panLast4) : await runWithTimeout((s) => hook({ ...context, signal: s }), resolved.limits.hookTimeoutMs, signal);
    if (decision !== 'approve' && decision !== 'decline' && decision !== 'step_up') throw new InternalError('internal_error', 'The decision hook returned an unknown decision');
    return decision;
  };

  const provision = async (input: SubmitInput, submission: Submission, requestHash: string): Promise<SubmitResult> => {
    const { walletProviderId, idempotencyKey, signal } = input;
    // Steps 4-11.
    const { claims } = await openProvisioningRequest(submission.encryptedRequest, {
      decryptionKeys,
      issuerKeys: (iss, kid) => issuers.get(iss)?.jwks.keys.find((k) => k.kid === kid),
      audience: resolved.serviceId,
      clock,
      clockSkewSeconds: skew,
      maxLifetimeSeconds: resolved.lifetimes.maxRequestSeconds,
    });
    const issuer = issuers.get(claims.iss);
    if (!issuer) throw new InternalError('internal_error', 'The issuer disappeared');
    // Step 12: read-only here; the commit enforces it atomically.
    const requestReplayKey = replayKey(claims.iss, claims.jti, sha256Hex);
    if (await store.replay.has(requestReplayKey)) throw new ReplayError('replayed', 'This provisioning request was already used');
    // Step 13.
    checkBinding(claims, {
      sessionId: submission.sessionId,
      walletProviderId,
      walletAccountId: submission.walletAccountId,
      deviceId: submission.deviceId,
      nonce: submission.nonce,
    });
    // Step 14.
    const card = await resolveCard(claims, submission, walletProviderId, signal);
    const now = clock.now();
    checkCard(card, { nowMs: now, binRanges: issuer.binRanges });
    // Step 15.
    const panLast4 = card.pan.slice(-4);
    const panFingerprint = cipher.fingerprintPan(card.pan);
    const decision = await decide(
      issuer,
      {
        issuerId: issuer.id,
        walletProviderId,
        walletAccountId: submission.walletAccountId,
        deviceId: submission.deviceId,
        sessionId: submission.sessionId,
        panLast4,
        panFingerprint,
        cardExpiry: card.expiry,
        accountRef: claims.accountRef,
      },
      signal,
    );
    if (decision === 'decline') throw new DecisionError('declined', 'The issuer declined the provisioning');

    // Step 16.
    const replay: ReplayRecord[] = [{ key: requestReplayKey, expiresAt: (claims.exp + skew) * 1000 }];
    if (input.assertionReplay) replay.push(input.assertionReplay);
    const provisionedQuery = { panFingerprint, walletProviderId, walletAccountId: submission.walletAccountId, deviceId: submission.deviceId };
    for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt++) {
      const existing = await store.vault.findProvisioned(provisionedQuery);
      const existingToken = existing && (await store.tokens.find(existing.tokenReferenceId));
      if (existing && !existingToken) throw new InternalError('internal_error', 'A vault entry has no token');
      let status: 200 | 201;
      let body: ProvisioningResponse;
      let issuance: CommitInput['issuance'];
      if (existing && existingToken && !isExpired(existingToken.tokenExpiry, now)) {
        const tokenNumber = cipher.open(existingToken.sealedTokenNumber, 'token-number', existingToken.tokenReferenceId);
        status = 200;
        body = await respond(submission, existingToken, tokenNumber, existing.panLast4);
      } else {
        // A new token; when the card's token for this wallet account and device has expired, it replaces that one.
        const tokenReferenceId = createId('tok', random);
        const tokenNumber = createTokenNumber(resolved.tokenRange, random);
        const token: TokenRecord = {
          tokenReferenceId,
          tokenNumberHash: cipher.hashTokenNumber(tokenNumber),
          sealedTokenNumber: cipher.seal(tokenNumber, 'token-number', tokenReferenceId),
          tokenLast4: tokenNumber.slice(-4),
          tokenExpiry: computeTokenExpiry(now, resolved.lifetimes.tokenMonths),
          status: decision === 'step_up' ? 'pending_activation' : 'active',
          issuerId: issuer.id,
          walletProviderId,
          walletAccountId: submission.walletAccountId,
          deviceId: submission.deviceId,
          network: issuer.network,
          createdAt: now,
          updatedAt: now,
        };
        const sealedCard = cipher.seal(JSON.stringify({ pan: card.pan, expiry: card.expiry }), 'card', tokenReferenceId);
        issuance = { token, vault: { tokenReferenceId, ...provisionedQuery, sealedCard, panLast4, createdAt: now } };
        if (existingToken) issuance.replaces = existingToken.tokenReferenceId;
        status = 201;
        body = await respond(submission, token, tokenNumber, panLast4);
      }
      if (signal?.aborted) throw new TransportError('aborted', 'The request was cancelled');
      const idempotency: IdempotencyRecord = {
        scope: walletProviderId,
        key: idempotencyKey,
        requestHash,
        status,
        sealedResponse: cipher.seal(JSON.stringify(body), 'idempotency-response', idempotencyContext(walletProviderId, idempotencyKey)),
        createdAt: now,
        expiresAt: now + resolved.lifetimes.idempotencySeconds * 1000,
      };
      const outcome = await store.commit(issuance ? { idempotency, replay, issuance } : { idempotency, replay });
      if (outcome.ok) return { status, body, replayed: false };
      switch (outcome.conflict) {
        case 'idempotency': {
          // Another process answered this key first.
          const record = await store.idempotency.find(walletProviderId, idempotencyKey);
          if (!record) throw new InternalError('internal_error', 'The idempotency record vanished');
          return replayStored(record, requestHash);
        }
        case 'replay':
          throw new ReplayError('replayed', 'This provisioning request was already used');
        case 'token_number':
        case 'already_provisioned':
          continue;
      }
    }
    throw new InternalError('internal_error', 'The token could not be issued');
  };

  return {
    config: resolved,
    store,
    clock,
    random,
    publicJwks: () => structuredClone(publicJwks),
    authenticate,
    async submit(input) {
      try {
        if (!providers.has(input.walletProviderId)) throw new AuthError('unauthenticated', 'Unknown wallet provider');
        const idempotencyKey = checkIdempotencyKey(input.idempotencyKey);
        // Step 3.
        const submission = parseSubmission(input.submission);
        if (submission.devicePublicKey !== undefined) await checkDevicePublicKey(submission.devicePublicKey);
        // The protocol's sha256Hex(canonicalJson(submission)), hashed natively.
        const requestHash = sha256Hex(canonicalJson(submission));
        const slot = idempotencyContext(input.walletProviderId, idempotencyKey);
        const flying = inFlight.get(slot);
        // While the first request runs, its outcome is unknown: it may still be
        // refused and store nothing, after which the key is free again. So any
        // body gets the retryable 409, never a final 422.
        if (flying !== undefined) throw new HttpError('idempotency_in_flight', 'A request with this idempotency key is in progress');
        inFlight.set(slot, requestHash);
        try {
          const stored = await store.idempotency.find(input.walletProviderId, idempotencyKey);
          if (stored) return replayStored(stored, requestHash);
          return await provision({ ...input, idempotencyKey }, submission, requestHash);
        } finally {
          inFlight.delete(slot);
        }
      } catch (error) {
        throw toProvisioningError(error);
      }
    },
    async getTokenStatus({ tokenReferenceId, walletProviderId }) {
      try {
        if (!zOpaqueId.safeParse(tokenReferenceId).success) throw new HttpError('not_found', 'No such token');
        const token = await store.tokens.find(tokenReferenceId);
        if (!token || token.walletProviderId !== walletProviderId) throw new HttpError('not_found', 'No such token');
        return {
          type: 'token-status',
          version: 1,
          tokenReferenceId: token.tokenReferenceId,
          status: token.status,
          tokenLast4: token.tokenLast4,
          tokenExpiry: token.tokenExpiry,
          updatedAt: Math.floor(token.updatedAt / 1000),
        };
      } catch (error) {
        throw toProvisioningError(error);
      }
    },
    purgeExpired: () => store.purgeExpired(clock.now()),
    close: () => store.close(),
  };
}
