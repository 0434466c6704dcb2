// Step 16 of docs/protocol.md section 6: issuance, in one atomic commit.
import { type Card, HttpError, InternalError, ReplayError, type Submission, TransportError, createId, isExpired } from '@pushprov/protocol';
import type { IssuerConfig } from '../../config/parse-config.js';
import { updateCardExpiry } from '../../lifecycle/card-expiry.js';
import { type IdempotencyLease, findStoredAnswer, idempotencyContext } from '../../idempotency/idempotency.js';
import { createTokenNumber } from '../../issuance/create-token-number.js';
import { computeTokenExpiry } from '../../issuance/token-expiry.js';
import type { CommitInput, IdempotencyRecord, ReplayRecord, TokenRecord, VaultRecord } from '../../store/types.js';
import type { ProvisioningContext } from '../context.js';
import { buildProvisioningResponse, pendingVerification } from '../response.js';
import type { SubmitResult } from '../types.js';
import type { IssuingDecision } from './15-decision.js';

/** The codes step 16 answers with. */
export const STEP_16_CODES = ['internal_error', 'store_unavailable'] as const;

/** How many times a commit is tried again after a conflict it can resolve (a token number drawn twice, a card provisioned meanwhile). */
export const MAX_COMMIT_ATTEMPTS = 8;

/** What step 16 needs from the steps before it. */
export interface IssuanceInput {
  submission: Submission;
  walletProviderId: string;
  issuer: IssuerConfig;
  card: Card;
  /** The issuer's id of the card account: the claims' `accountId`, else their `accountRef`. */
  accountId: string | undefined;
  panFingerprint: string;
  decision: IssuingDecision;
  /** The request's replay record (step 12). */
  requestReplay: ReplayRecord;
  lease: IdempotencyLease;
  /** The thumbprint of the submission's device key (the signed `cnf.jkt`), when it has one. */
  deviceKeyThumbprint: string | undefined;
  signal: AbortSignal | undefined;
}

/**
 * True when an existing token may be answered as it is: unexpired (a pending
 * token also within its pending time: the resume), and bound to the same
 * device key.
 */
const reusable = (token: TokenRecord, deviceKeyThumbprint: string | undefined, nowMs: number): boolean =>
  !isExpired(token.tokenExpiry, nowMs) &&
  token.deviceKeyThumbprint === deviceKeyThumbprint &&
  !(token.status === 'pending_activation' && token.verification !== undefined && token.verification.expiresAt <= nowMs);

/**
 * Step 16: commits, in one transaction, the idempotency record (completing
 * this request's pending entry), the `jti`, and a new token with its vault
 * entry. The commit is tried first as a new token (one read-free round trip
 * on the common path); when the store answers that the card is already
 * provisioned to this wallet account and device, that token is read and:
 * answered as it is (`200`) when it is unexpired and bound to the same
 * device key, else replaced by a new token in the same commit (`201`; the
 * old one becomes `deleted` and its sealed card leaves the vault).
 */
export async function issue(ctx: ProvisioningContext, input: IssuanceInput): Promise<SubmitResult> {
  const { submission, walletProviderId, issuer, card, lease } = input;
  const now = ctx.clock.now();
  const panLast4 = card.pan.slice(-4);
  const provisioned = { panFingerprint: input.panFingerprint, walletProviderId, walletAccountId: submission.walletAccountId, deviceId: submission.deviceId };
  let known: { token: TokenRecord; vault: VaultRecord } | undefined;
  for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt++) {
    let status: 200 | 201;
    let body: SubmitResult['body'];
    let issuance: CommitInput['issuance'];
    if (known && reusable(known.token, input.deviceKeyThumbprint, now)) {
      if (known.token.sealedTokenNumber === null) throw new InternalError('internal_error', 'A vault entry belongs to a deleted token');
      // A reissued card provisioned again (a later expiry): its vault entry takes the new expiry (event token.updated).
      known.vault = await updateCardExpiry(ctx, known.token, known.vault, card, { actor: 'issuer', nowMs: now });
      const tokenNumber = ctx.cipher.open(known.token.sealedTokenNumber, 'token-number', known.token.tokenReferenceId);
      status = 200;
      body = await buildProvisioningResponse(submission, known.token, tokenNumber, known.vault.panLast4, pendingVerification(ctx, known.token));
    } else {
      const tokenReferenceId = createId('tok', ctx.random);
      const tokenNumber = createTokenNumber(ctx.config.tokenRange, ctx.random);
      const token: TokenRecord = {
        tokenReferenceId,
        tokenNumberHash: ctx.cipher.hashTokenNumber(tokenNumber),
        sealedTokenNumber: ctx.cipher.seal(tokenNumber, 'token-number', tokenReferenceId),
        tokenLast4: tokenNumber.slice(-4),
        tokenExpiry: computeTokenExpiry(now, ctx.config.lifetimes.tokenMonths),
        status: input.decision.decision === 'step_up' ? 'pending_activation' : 'active',
        issuerId: issuer.id,
        walletProviderId,
        walletAccountId: submission.walletAccountId,
        deviceId: submission.deviceId,
        network: issuer.network,
        deviceKeyThumbprint: input.deviceKeyThumbprint,
        ...(input.accountId === undefined ? {} : { accountId: input.accountId }),
        panLast4,
        ...(input.decision.decision === 'step_up'
          ? { verification: { methods: input.decision.methods, expiresAt: now + ctx.config.lifetimes.pendingActivationSeconds * 1000 } }
          : {}),
        createdAt: now,
        updatedAt: now,
      };
      const sealedCard = ctx.cipher.seal(JSON.stringify({ pan: card.pan, expiry: card.expiry }), 'card', tokenReferenceId);
      issuance = { token, vault: { tokenReferenceId, ...provisioned, sealedCard, panLast4, createdAt: now } };
      if (known) issuance.replaces = known.token.tokenReferenceId;
      status = 201;
      body = await buildProvisioningResponse(submission, token, tokenNumber, panLast4, pendingVerification(ctx, token));
    }
    if (input.signal?.aborted) throw new TransportError('aborted', 'The request was cancelled');
    const idempotency: IdempotencyRecord & { leaseId: string } = {
      scope: lease.scope,
      key: lease.key,
      requestHash: lease.requestHash,
      status,
      sealedResponse: ctx.cipher.seal(JSON.stringify(body), 'idempotency-response', idempotencyContext(lease.scope, lease.key)),
      createdAt: now,
      expiresAt: now + ctx.config.lifetimes.idempotencySeconds * 1000,
      leaseId: lease.leaseId,
    };
    const replay = [input.requestReplay];
    const outcome = await ctx.store.commit(issuance ? { idempotency, replay, issuance } : { idempotency, replay });
    if (outcome.ok) return { status, body, replayed: false };
    switch (outcome.conflict) {
      case 'idempotency':
      case 'replay': {
        // Another attempt answered this key (it took over an expired lease), or used this `jti`:
        // its stored answer for this body, if any, is this request's answer too.
        const stored = await findStoredAnswer(ctx.store, ctx.cipher, lease);
        if (stored) return stored;
        if (outcome.conflict === 'replay') throw new ReplayError('replayed', 'This provisioning request was already used');
        throw new HttpError('idempotency_in_flight', 'Another attempt with this idempotency key holds it now');
      }
      case 'token_number':
        continue;
      case 'already_provisioned': {
        const [token, vault] = await Promise.all([ctx.store.tokens.find(outcome.tokenReferenceId), ctx.store.vault.find(outcome.tokenReferenceId)]);
        if (!token || !vault) throw new InternalError('internal_error', 'A vault entry has no token');
        known = { token, vault };
        continue;
      }
    }
  }
  throw new InternalError('internal_error', 'The token could not be issued');
}
