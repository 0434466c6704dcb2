// The token lifecycle (docs/protocol.md sections 7.10, 7.11 and 12): the
// wallet provider's and the issuer's changes of a token, the issuer's card
// operations and search, and the history. Authentication and the HTTP rules
// belong to the HTTP layer; each function here checks the body, holds the
// idempotency key (as the activation endpoints do), finds the token only
// among the caller's own (another party's token is `not_found`, exactly as an
// unknown one), and writes each change in one atomic store write.
import {
  type CardLifecycleResult,
  type CardTokenChange,
  HttpError,
  InternalError,
  type IssuerTokenSearchResult,
  type IssuerTokenSummary,
  LIFECYCLE_TRANSITIONS,
  type LifecycleAction,
  type LifecycleActor,
  LifecycleError,
  type LifecycleReason,
  type LifecycleResponse,
  type TokenHistory,
  parseCardEvent,
  parseCardLifecycleRequest,
  parseIssuerLifecycleRequest,
  parseIssuerTokenSearch,
  parseLifecycleRequest,
  parseLifecycleResponse,
  parseWith,
  reportedTokenStatus,
  toProvisioningError,
  zCardLifecycleResult,
} from '@pushprov/protocol';
import { type ActivationContext, type ActivationResult, begin, findOwnedToken, holding, issuerIdempotencyScope } from '../activation/activation.js';
import { checkIdempotencyKey } from '../lib/idempotency-key.js';
import type { LifecycleEventType, TokenRecord } from '../store/types.js';
import { updateCardExpiry } from './card-expiry.js';

/** The event type of each action. */
const EVENT_TYPE: Readonly<Record<LifecycleAction, LifecycleEventType>> = { suspend: 'token.suspended', resume: 'token.resumed', delete: 'token.deleted' };

/** Input of the wallet provider's change of one of its tokens. */
export interface WalletLifecycleInput {
  tokenReferenceId: string;
  /** The authenticated wallet provider. Never taken from the body. */
  walletProviderId: string;
  body: unknown;
  idempotencyKey: string | null | undefined;
}

/** Input of the issuer's change of a token of its card. */
export interface IssuerLifecycleInput {
  tokenReferenceId: string;
  /** The authenticated issuer. Never taken from the body. */
  issuerId: string;
  body: unknown;
  idempotencyKey: string | null | undefined;
}

/** Input of the issuer's card operations (search, card lifecycle, card events). */
export interface IssuerCardInput {
  issuerId: string;
  body: unknown;
  idempotencyKey: string | null | undefined;
}

const parseCardResult = (text: string): CardLifecycleResult => parseWith(zCardLifecycleResult, text, { name: 'card-lifecycle-result', maxLength: 200_000 });

const conflict = (status: string): LifecycleError => new LifecycleError('token_state_conflict', `The token is ${status}: this change does not apply to it`);

/**
 * One change of one owned token, the answer stored under the idempotency
 * key in the same write. A racing change that came first makes this
 * `token_state_conflict`.
 */
async function changeToken(
  ctx: ActivationContext,
  input: { tokenReferenceId: string; scope: string; key: string; path: string; owns: (t: TokenRecord) => boolean },
  request: { action: LifecycleAction; reason: LifecycleReason; actor: LifecycleActor },
): Promise<ActivationResult<LifecycleResponse>> {
  const begun = await begin(ctx, input.scope, input.key, input.path, request, parseLifecycleResponse);
  if ('stored' in begun) return begun.stored;
  const { held } = begun;
  return holding(held, async () => {
    const token = await findOwnedToken(ctx, input.tokenReferenceId, input.owns);
    const rule = LIFECYCLE_TRANSITIONS[request.action];
    if (!rule.from.includes(token.status)) throw conflict(token.status);
    const now = ctx.clock.now();
    const body: LifecycleResponse = { tokenReferenceId: token.tokenReferenceId, status: rule.to, previousStatus: token.status, changedAt: Math.floor(now / 1000) };
    const outcome = await ctx.store.lifecycle.transition({
      tokenReferenceId: token.tokenReferenceId,
      // Only from the status this answer names: a change that came in between is a conflict.
      from: [token.status],
      to: rule.to,
      type: EVENT_TYPE[request.action],
      actor: request.actor,
      reason: request.reason,
      nowMs: now,
      idempotency: held.record(body),
    });
    if (!outcome.ok) {
      if (outcome.conflict === 'idempotency') throw new HttpError('idempotency_in_flight', 'Another attempt with this idempotency key holds it now');
      if (outcome.conflict === 'state') throw conflict(outcome.status);
      throw new HttpError('not_found', 'No such token');
    }
    return { status: 200, body, replayed: false };
  });
}

/** `POST /v1/tokens/{id}/lifecycle` (spec section 7.10): the wallet provider suspends, resumes or deletes one of its tokens. */
export async function changeByWallet(ctx: ActivationContext, input: WalletLifecycleInput): Promise<ActivationResult<LifecycleResponse>> {
  try {
    const key = checkIdempotencyKey(input.idempotencyKey);
    const request = parseLifecycleRequest(input.body);
    return await changeToken(
      ctx,
      {
        tokenReferenceId: input.tokenReferenceId,
        scope: input.walletProviderId,
        key,
        path: `/v1/tokens/${input.tokenReferenceId}/lifecycle`,
        owns: (t) => t.walletProviderId === input.walletProviderId,
      },
      { action: request.action, reason: request.reason, actor: request.actor ?? 'wallet_provider' },
    );
  } catch (error) {
    throw toProvisioningError(error);
  }
}

/** `POST /v1/issuer/tokens/{id}/lifecycle` (spec section 7.11): the issuer suspends, resumes or deletes a token of its card. */
export async function changeByIssuer(ctx: ActivationContext, input: IssuerLifecycleInput): Promise<ActivationResult<LifecycleResponse>> {
  try {
    const key = checkIdempotencyKey(input.idempotencyKey);
    const request = parseIssuerLifecycleRequest(input.body);
    return await changeToken(
      ctx,
      {
        tokenReferenceId: input.tokenReferenceId,
        scope: issuerIdempotencyScope(input.issuerId),
        key,
        path: `/v1/issuer/tokens/${input.tokenReferenceId}/lifecycle`,
        owns: (t) => t.issuerId === input.issuerId,
      },
      { ...request, actor: 'issuer' },
    );
  } catch (error) {
    throw toProvisioningError(error);
  }
}

/** The history body of an owned token (`GET …/history`). */
export async function tokenHistory(ctx: ActivationContext, tokenReferenceId: string, owns: (t: TokenRecord) => boolean): Promise<TokenHistory> {
  try {
    const token = await findOwnedToken(ctx, tokenReferenceId, owns);
    const rows = await ctx.store.lifecycle.history(token.tokenReferenceId);
    return {
      tokenReferenceId: token.tokenReferenceId,
      status: reportedTokenStatus(token, ctx.clock.now()),
      history: rows.slice(-1000).map((h) => ({ from: h.from, to: h.to, actor: h.actor, reason: h.reason, at: Math.floor(h.at / 1000) })),
    };
  } catch (error) {
    throw toProvisioningError(error);
  }
}

/** The issuer's tokens of the card a body names (`accountId`, or `pan` by its fingerprint; the PAN goes no further). */
async function tokensOfCard(ctx: ActivationContext, issuerId: string, card: { accountId: string } | { pan: string }): Promise<TokenRecord[]> {
  return 'accountId' in card ? ctx.store.lifecycle.findByAccount(issuerId, card.accountId) : ctx.store.lifecycle.findByCard(issuerId, ctx.cipher.fingerprintPan(card.pan));
}

/** A search answer's entry: never a card or token number. */
function summaryOf(ctx: ActivationContext, token: TokenRecord): IssuerTokenSummary {
  return {
    tokenReferenceId: token.tokenReferenceId,
    status: reportedTokenStatus(token, ctx.clock.now()),
    walletProviderId: token.walletProviderId,
    tokenLast4: token.tokenLast4,
    ...(token.panLast4 === undefined ? {} : { panLast4: token.panLast4 }),
    ...(token.accountId === undefined ? {} : { accountId: token.accountId }),
    createdAt: Math.floor(token.createdAt / 1000),
    updatedAt: Math.floor(token.updatedAt / 1000),
  };
}

/** `POST /v1/issuer/tokens/search`: the issuer's tokens of one card. Reads only (the key is checked, nothing is stored under it). */
export async function searchTokens(ctx: ActivationContext, input: IssuerCardInput): Promise<IssuerTokenSearchResult> {
  try {
    checkIdempotencyKey(input.idempotencyKey);
    const request = parseIssuerTokenSearch(input.body);
    const tokens = await tokensOfCard(ctx, input.issuerId, request);
    return { tokens: tokens.map((t) => summaryOf(ctx, t)) };
  } catch (error) {
    throw toProvisioningError(error);
  }
}

/** The card a card body names, without the rest of the body (the PAN only in memory, never in the request hash). */
const cardOf = (body: { accountId: string } | { pan: string }): { accountId: string } | { pan: string } =>
  'accountId' in body ? { accountId: body.accountId } : { pan: body.pan };

/**
 * Runs `change` on every token of the card that is not deleted, each in its
 * own atomic write, and stores the answer under the idempotency key. The
 * request hash binds the card by fingerprint, never by its number.
 */
async function changeCard(
  ctx: ActivationContext,
  input: IssuerCardInput,
  path: string,
  request: ({ accountId: string } | { pan: string }) & Record<string, unknown>,
  change: (token: TokenRecord, now: number) => Promise<CardTokenChange>,
): Promise<ActivationResult<CardLifecycleResult>> {
  const key = checkIdempotencyKey(input.idempotencyKey);
  const card = cardOf(request);
  // The card number never enters the request hash: its fingerprint does.
  const { pan: _pan, ...rest } = request as Record<string, unknown>;
  const hashed = 'pan' in card ? { ...rest, panFingerprint: ctx.cipher.fingerprintPan(card.pan) } : rest;
  const scope = issuerIdempotencyScope(input.issuerId);
  const begun = await begin(ctx, scope, key, path, hashed, parseCardResult);
  if ('stored' in begun) return begun.stored;
  const { held } = begun;
  return holding(held, async () => {
    const tokens = (await tokensOfCard(ctx, input.issuerId, card)).filter((t) => t.status !== 'deleted');
    const now = ctx.clock.now();
    const changes: CardTokenChange[] = [];
    for (const token of tokens) changes.push(await change(token, now));
    const body: CardLifecycleResult = { tokens: changes };
    const stored = await ctx.store.commit({ idempotency: held.record(body), replay: [] });
    if (!stored.ok) throw new HttpError('idempotency_in_flight', 'Another attempt with this idempotency key holds it now');
    return { status: 200, body, replayed: false };
  });
}

/** One token's change inside a card operation: a token the action does not apply to (or that changed meanwhile) keeps its status. */
async function changeOne(
  ctx: ActivationContext,
  token: TokenRecord,
  now: number,
  request: { action: LifecycleAction; reason: LifecycleReason },
): Promise<CardTokenChange> {
  const rule = LIFECYCLE_TRANSITIONS[request.action];
  const unchanged = (status: TokenRecord['status']): CardTokenChange => ({ tokenReferenceId: token.tokenReferenceId, status, previousStatus: status });
  if (!rule.from.includes(token.status)) return unchanged(token.status);
  const outcome = await ctx.store.lifecycle.transition({
    tokenReferenceId: token.tokenReferenceId,
    from: [token.status],
    to: rule.to,
    type: EVENT_TYPE[request.action],
    actor: 'issuer',
    reason: request.reason,
    nowMs: now,
  });
  if (outcome.ok) return { tokenReferenceId: token.tokenReferenceId, status: outcome.status, previousStatus: outcome.previousStatus };
  if (outcome.conflict === 'state') return unchanged(outcome.status);
  throw new InternalError('internal_error', 'A token of the card could not be changed');
}

/** `POST /v1/issuer/cards/lifecycle`: the same action on every token of one card. */
export async function changeCardByIssuer(ctx: ActivationContext, input: IssuerCardInput): Promise<ActivationResult<CardLifecycleResult>> {
  try {
    const request = parseCardLifecycleRequest(input.body);
    return await changeCard(ctx, input, '/v1/issuer/cards/lifecycle', request, (token, now) => changeOne(ctx, token, now, request));
  } catch (error) {
    throw toProvisioningError(error);
  }
}

/**
 * `POST /v1/issuer/cards/events`: `reissued` gives every token's vault
 * entry the new expiry (event `token.updated`); `closed` deletes every token
 * of the card (reason `card_closed`).
 */
export async function cardEventByIssuer(ctx: ActivationContext, input: IssuerCardInput): Promise<ActivationResult<CardLifecycleResult>> {
  try {
    const request = parseCardEvent(input.body);
    return await changeCard(ctx, input, '/v1/issuer/cards/events', request, async (token, now) => {
      if (request.event === 'closed') return changeOne(ctx, token, now, { action: 'delete', reason: 'card_closed' });
      const vault = await ctx.store.vault.find(token.tokenReferenceId);
      if (vault) await updateCardExpiry(ctx, token, vault, { expiry: request.expiry }, { actor: 'issuer', nowMs: now, force: true });
      const after = (await ctx.store.tokens.find(token.tokenReferenceId)) ?? token;
      return { tokenReferenceId: token.tokenReferenceId, status: after.status, previousStatus: token.status };
    });
  } catch (error) {
    throw toProvisioningError(error);
  }
}
