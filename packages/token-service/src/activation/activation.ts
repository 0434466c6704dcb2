// Step-up verification and activation (docs/protocol.md section 11): the
// wallet's OTP endpoints (11.3, 11.4) and the issuer API (11.5), over the
// store's atomic verification operations. Each function runs the numbered
// steps of its section; authentication, the rate limit and the HTTP rules
// (steps 1 and 2) belong to the HTTP layer.
import {
  HttpError,
  InternalError,
  ISSUER_METHOD_TYPES,
  OTP_METHOD_TYPES,
  type ProvisioningError,
  type IssuerTokenStatusResponse,
  type TokenStatusResponse,
  type VerificationMethod,
  type VerificationStarted,
  VerificationError,
  canonicalJson,
  createId,
  parseActivationRequest,
  parseIssuerActivation,
  parseTokenStatusResponse,
  parseVerificationRequest,
  parseVerificationStarted,
  reportedTokenStatus,
  timingSafeEqual,
  toProvisioningError,
  zOpaqueId,
} from '@pushprov/protocol';
import { idempotencyContext } from '../idempotency/idempotency.js';
import { sha256Hex } from '../lib/hash.js';
import { checkIdempotencyKey } from '../lib/idempotency-key.js';
import { runWithTimeout } from '../lib/run-with-timeout.js';
import type { ProvisioningContext } from '../provisioning/context.js';
import { pendingVerification } from '../provisioning/response.js';
import type { IdempotencyRecord, TokenRecord } from '../store/types.js';
import { VerificationCooldownError, generateVerificationCode } from './otp.js';

/** The answer of an activation endpoint: `200`, and whether it is a stored answer replayed. */
export interface ActivationResult<T> {
  status: 200;
  body: T;
  replayed: boolean;
}

/** Input of the wallet's verification and activation calls. */
export interface WalletActivationInput {
  tokenReferenceId: string;
  /** The authenticated wallet provider. Never taken from the body. */
  walletProviderId: string;
  /** The request body: a message or its JSON text. */
  body: unknown;
  idempotencyKey: string | null | undefined;
}

/** Input of the issuer's activation call. */
export interface IssuerActivationInput {
  tokenReferenceId: string;
  /** The authenticated issuer. Never taken from the body. */
  issuerId: string;
  body: unknown;
  idempotencyKey: string | null | undefined;
}

/** The idempotency scope of an issuer (a wallet provider's is its id; `:` is not allowed in party ids). */
export const issuerIdempotencyScope = (issuerId: string): string => `issuer:${issuerId}`;

/** What the activation functions need: the provisioning context (store, cipher, clock, hooks). */
export type ActivationContext = ProvisioningContext;

const OTP_TYPES: ReadonlySet<string> = new Set(OTP_METHOD_TYPES);
const ISSUER_TYPES: ReadonlySet<string> = new Set(ISSUER_METHOD_TYPES);
const noSuchToken = () => new HttpError('not_found', 'No such token');

/**
 * The token status body of a token (`verification` while pending): its
 * status as reported (spec section 12.1), `expired` past its expiry month.
 */
export function tokenStatusOf(ctx: ActivationContext, token: TokenRecord): TokenStatusResponse {
  const status = reportedTokenStatus(token, ctx.clock.now());
  const verification = status === 'pending_activation' ? pendingVerification(ctx, token) : undefined;
  return {
    type: 'token-status',
    version: 1,
    tokenReferenceId: token.tokenReferenceId,
    status,
    tokenLast4: token.tokenLast4,
    tokenExpiry: token.tokenExpiry,
    updatedAt: Math.floor(token.updatedAt / 1000),
    ...(verification === undefined ? {} : { verification }),
  };
}

/** The token status an issuer reads (`GET /v1/issuer/tokens/{id}`): also the wallet provider, the card's last four digits and the account id. */
export function issuerTokenStatusOf(ctx: ActivationContext, token: TokenRecord): IssuerTokenStatusResponse {
  return {
    ...tokenStatusOf(ctx, token),
    walletProviderId: token.walletProviderId,
    ...(token.panLast4 === undefined ? {} : { panLast4: token.panLast4 }),
    ...(token.accountId === undefined ? {} : { accountId: token.accountId }),
  };
}

/**
 * The token `tokenReferenceId` if `owns` it, else `not_found` (unknown and
 * foreign tokens are not told apart). A pending token past its pending time
 * is deleted first (`expirePending`), and answered as deleted.
 */
export async function findOwnedToken(ctx: ActivationContext, tokenReferenceId: string, owns: (token: TokenRecord) => boolean): Promise<TokenRecord> {
  if (!zOpaqueId.safeParse(tokenReferenceId).success) throw noSuchToken();
  let token = await ctx.store.tokens.find(tokenReferenceId);
  if (!token || !owns(token)) throw noSuchToken();
  const now = ctx.clock.now();
  if (token.status === 'pending_activation' && token.verification !== undefined && token.verification.expiresAt <= now) {
    await ctx.store.verification.expirePending({ nowMs: now, tokenReferenceId });
    token = (await ctx.store.tokens.find(tokenReferenceId)) ?? token;
  }
  return token;
}

const notPending = () => new VerificationError('token_not_pending', 'The token is not pending activation');
const unavailable = (why: string) => new VerificationError('verification_method_unavailable', why);

/** The pending token's method `methodId`, of one of `types`. */
function methodOf(ctx: ActivationContext, token: TokenRecord, methodId: string, types: ReadonlySet<string>): VerificationMethod {
  const method = pendingVerification(ctx, token)?.methods.find((m) => m.id === methodId);
  if (!method) throw unavailable('The token offers no verification method with this id');
  if (!types.has(method.type)) throw unavailable('This verification method cannot be used on this endpoint');
  return method;
}

/** A request's hold on its idempotency key, and how to finish it. */
export interface Held {
  lease: { scope: string; key: string; requestHash: string; leaseId: string };
  /** The record that completes the entry with `body`. */
  record(body: unknown): IdempotencyRecord & { leaseId: string };
  release(): Promise<void>;
}

/**
 * Step 3's second half: begins the request for its key (scoped to `scope`),
 * the request hash binding the path and the canonical body. A stored answer
 * of the same request is returned (`stored`, checked with `parse`).
 */
export async function begin<T>(
  ctx: ActivationContext,
  scope: string,
  key: string,
  path: string,
  message: unknown,
  parse: (text: string) => T,
): Promise<{ held: Held } | { stored: ActivationResult<T> }> {
  const requestHash = sha256Hex(canonicalJson({ path, body: message }));
  const leaseId = createId('lease', ctx.random);
  const nowMs = ctx.clock.now();
  const outcome = await ctx.store.idempotency.begin({ scope, key, requestHash, leaseId, nowMs, leaseMs: ctx.idempotencyLeaseMs });
  switch (outcome.state) {
    case 'stored': {
      if (outcome.record.requestHash !== requestHash) throw new HttpError('idempotency_key_reused', 'This idempotency key was used with another request');
      const text = ctx.cipher.open(outcome.record.sealedResponse, 'idempotency-response', idempotencyContext(scope, key));
      return { stored: { status: 200, body: parse(text), replayed: true } };
    }
    case 'mismatch':
      throw new HttpError('idempotency_key_reused', 'This idempotency key was used with another request');
    case 'in_flight':
      throw new HttpError('idempotency_in_flight', 'A request with this idempotency key is in progress');
    case 'started':
      break;
    default:
      throw new InternalError('internal_error', 'The store answered an unknown idempotency state');
  }
  const lease = { scope, key, requestHash, leaseId };
  return {
    held: {
      lease,
      record: (body) => {
        const now = ctx.clock.now();
        return {
          scope,
          key,
          requestHash,
          status: 200,
          sealedResponse: ctx.cipher.seal(JSON.stringify(body), 'idempotency-response', idempotencyContext(scope, key)),
          createdAt: now,
          expiresAt: now + ctx.config.lifetimes.idempotencySeconds * 1000,
          leaseId,
        };
      },
      release: () => ctx.store.idempotency.release(scope, key, leaseId).catch(() => undefined),
    },
  };
}

/** Runs `steps` holding the key; any refusal releases it. */
export async function holding<T>(held: Held, steps: () => Promise<T>): Promise<T> {
  try {
    return await steps();
  } catch (error) {
    await held.release();
    throw error;
  }
}

/**
 * `POST /v1/tokens/{id}/verification`, steps 3 to 10 of spec section 11.3:
 * makes a new code for an OTP method of a pending token and has the issuer
 * deliver it. Never answers or logs the code.
 */
export async function startVerification(ctx: ActivationContext, input: WalletActivationInput): Promise<ActivationResult<VerificationStarted>> {
  try {
    const key = checkIdempotencyKey(input.idempotencyKey);
    // Step 3.
    const request = parseVerificationRequest(input.body);
    const begun = await begin(ctx, input.walletProviderId, key, `/v1/tokens/${input.tokenReferenceId}/verification`, request, parseVerificationStarted);
    if ('stored' in begun) return begun.stored;
    const { held } = begun;
    return await holding(held, async () => {
      // Steps 4 to 6.
      const token = await findOwnedToken(ctx, input.tokenReferenceId, (t) => t.walletProviderId === input.walletProviderId);
      if (token.status !== 'pending_activation') throw notPending();
      const method = methodOf(ctx, token, request.methodId, OTP_TYPES);
      const send = ctx.sendVerificationCode;
      if (!send) throw unavailable('This token service cannot send one-time codes for this issuer');
      // Steps 7 to 9, in one atomic write.
      const v = ctx.config.verification;
      const code = generateVerificationCode(v.codeLength, ctx.random);
      const now = ctx.clock.now();
      const codeExpiresAt = now + v.codeTtlSeconds * 1000;
      const resendAfter = now + v.resendCooldownSeconds * 1000;
      const issued = await ctx.store.verification.issue({
        tokenReferenceId: token.tokenReferenceId,
        methodId: method.id,
        codeHash: ctx.cipher.hashVerificationCode(token.tokenReferenceId, method.id, code),
        codeExpiresAt,
        resendAfter,
        nowMs: now,
        maxAttempts: v.maxAttempts,
      });
      if (!issued.ok) {
        if (issued.reason === 'not_pending') throw notPending();
        if (issued.reason === 'locked') throw new VerificationError('verification_attempts_exhausted', 'No attempts are left for this verification method');
        throw new VerificationCooldownError(issued.resendAfter - now);
      }
      // Step 10: delivery by the issuer.
      try {
        await runWithTimeout((signal) => send({ issuerId: token.issuerId, tokenReferenceId: token.tokenReferenceId, method: structuredClone(method), code, signal }), ctx.config.limits.hookTimeoutMs);
      } catch (cause) {
        throw new InternalError('internal_error', 'The verification code could not be delivered', { cause });
      }
      const body: VerificationStarted = {
        type: 'verification-started',
        version: 1,
        tokenReferenceId: token.tokenReferenceId,
        methodId: method.id,
        codeLength: v.codeLength,
        codeExpiresAt: Math.floor(codeExpiresAt / 1000),
        resendAfter: Math.ceil(resendAfter / 1000),
        attemptsLeft: Math.max(0, v.maxAttempts - issued.attempts),
      };
      // The code is out: the answer is kept for a retry with the same key (a lost write only means a retry meets the cooldown).
      await ctx.store.commit({ idempotency: held.record(body), replay: [] }).catch(() => undefined);
      return { status: 200, body, replayed: false };
    });
  } catch (error) {
    throw toProvisioningError(error);
  }
}

/**
 * `POST /v1/tokens/{id}/activation`, steps 3 to 10 of spec section 11.4:
 * the attempt is counted in the store before the code is compared (in
 * constant time), so the attempt after the last allowed is refused even with
 * the right code; the code is consumed and the token activated in one commit.
 */
export async function activateWithCode(ctx: ActivationContext, input: WalletActivationInput): Promise<ActivationResult<TokenStatusResponse>> {
  try {
    const key = checkIdempotencyKey(input.idempotencyKey);
    // Step 3.
    const request = parseActivationRequest(input.body);
    // The code enters the request hash only as its keyed hash: the stored request hash cannot be searched for the code.
    const hashed = { ...request, code: ctx.cipher.hashVerificationCode(input.tokenReferenceId, request.methodId, request.code) };
    const begun = await begin(ctx, input.walletProviderId, key, `/v1/tokens/${input.tokenReferenceId}/activation`, hashed, parseTokenStatusResponse);
    if ('stored' in begun) return begun.stored;
    const { held } = begun;
    return await holding(held, async () => {
      // Steps 4 to 6.
      const token = await findOwnedToken(ctx, input.tokenReferenceId, (t) => t.walletProviderId === input.walletProviderId);
      if (token.status !== 'pending_activation') throw notPending();
      const method = methodOf(ctx, token, request.methodId, OTP_TYPES);
      const maxAttempts = ctx.config.verification.maxAttempts;
      // Step 7: the attempt, counted atomically before anything is compared.
      const attempt = await ctx.store.verification.attempt({ tokenReferenceId: token.tokenReferenceId, methodId: method.id, maxAttempts });
      if (!attempt.ok) {
        if (attempt.reason === 'no_code') throw unavailable('No code was sent for this verification method yet');
        throw new VerificationError('verification_attempts_exhausted', 'No attempts are left for this verification method');
      }
      const attemptsLeft = Math.max(0, maxAttempts - attempt.attempts);
      const wrong = (): ProvisioningError =>
        new VerificationError('verification_code_invalid', 'The verification code is not correct', { details: { attemptsLeft } });
      // Step 8.
      const now = ctx.clock.now();
      if (attempt.codeExpiresAt <= now) throw new VerificationError('verification_code_expired', 'The verification code has expired');
      // Step 9.
      const presented = ctx.cipher.hashVerificationCode(token.tokenReferenceId, method.id, request.code);
      if (!timingSafeEqual(presented, attempt.codeHash)) throw wrong();
      // Step 10.
      const active: TokenRecord = { ...token, status: 'active', updatedAt: now };
      const body = tokenStatusOf(ctx, active);
      const outcome = await ctx.store.verification.activate({
        tokenReferenceId: token.tokenReferenceId,
        nowMs: now,
        code: { methodId: method.id, codeHash: attempt.codeHash },
        idempotency: held.record(body),
      });
      if (!outcome.ok) {
        if (outcome.conflict === 'code') throw wrong();
        if (outcome.conflict === 'idempotency') throw new HttpError('idempotency_in_flight', 'Another attempt with this idempotency key holds it now');
        throw notPending();
      }
      return { status: 200, body, replayed: false };
    });
  } catch (error) {
    throw toProvisioningError(error);
  }
}

/**
 * `POST /v1/issuer/tokens/{id}/activation`, steps 3 to 7 of spec section
 * 11.5: the issuer has verified the cardholder (its app, its customer
 * service) and activates a pending token of its own card.
 */
export async function activateByIssuer(ctx: ActivationContext, input: IssuerActivationInput): Promise<ActivationResult<TokenStatusResponse>> {
  try {
    const key = checkIdempotencyKey(input.idempotencyKey);
    const request = parseIssuerActivation(input.body);
    const scope = issuerIdempotencyScope(input.issuerId);
    const begun = await begin(ctx, scope, key, `/v1/issuer/tokens/${input.tokenReferenceId}/activation`, request, parseTokenStatusResponse);
    if ('stored' in begun) return begun.stored;
    const { held } = begun;
    return await holding(held, async () => {
      const token = await findOwnedToken(ctx, input.tokenReferenceId, (t) => t.issuerId === input.issuerId);
      if (token.status !== 'pending_activation') throw notPending();
      const offered = pendingVerification(ctx, token)?.methods.some((m) => m.type === request.method && ISSUER_TYPES.has(m.type));
      if (!offered) throw unavailable('The token offers no verification method of this type');
      const now = ctx.clock.now();
      const body = tokenStatusOf(ctx, { ...token, status: 'active', updatedAt: now });
      const outcome = await ctx.store.verification.activate({ tokenReferenceId: token.tokenReferenceId, nowMs: now, idempotency: held.record(body) });
      if (!outcome.ok) {
        if (outcome.conflict === 'idempotency') throw new HttpError('idempotency_in_flight', 'Another attempt with this idempotency key holds it now');
        throw notPending();
      }
      return { status: 200, body, replayed: false };
    });
  } catch (error) {
    throw toProvisioningError(error);
  }
}
