// The provisioning pipeline: the steps of docs/protocol.md section 6, in
// order, each in the module named after its number (steps 1 and 2,
// authentication and the HTTP rules, belong to the HTTP layer).
//
//   3      steps/03-body.ts             the body; then ../idempotency (begin)
//   4-11   steps/04-11-open-request.ts  JWE, decrypt, JWS, issuer key, signature, claims, audience, time
//   12     steps/12-replay.ts           the jti was never used; then the issuer's rate limit (../ratelimit)
//   13     steps/13-binding.ts          session, wallet provider, account, device, nonce, device key;
//                                       then the issuer accepts this wallet provider
//   14     steps/14-card.ts             account resolution, Luhn, expiry, BIN ranges   (refusal sticks);
//                                       then the per-card rate limit                   (rate_limited does not stick)
//   15     steps/15-decision.ts         the issuer's decision                          (refusal sticks)
//   16     steps/16-issuance.ts         one atomic commit
//
// Refusals of steps 4 to 13 store nothing but the release of the request's
// idempotency entry, so nobody can burn someone else's request by tampering
// with it. Refusals of steps 14 and 15 burn the request's jti, atomically
// with the release: a declined request stays declined. A rate limit's
// refusal (`rate_limited`, at any step) is never a decision: it stores
// nothing but the release. (The wallet provider's limit runs before step 2,
// in the HTTP layer: TokenService.checkWalletProviderLimit.)
import { AuthError, InternalError, type ProvisioningError, deviceKeyThumbprint, toProvisioningError } from '@pushprov/protocol';
import { type IdempotencyLease, beginIdempotent, findStoredAnswer } from '../idempotency/idempotency.js';
import { checkIssuerAccepts } from '../config/issuer-accepts.js';
import { checkIdempotencyKey } from '../lib/idempotency-key.js';
import { checkCardLimit, checkIssuerLimit } from '../ratelimit/rate-limits.js';
import type { ReplayRecord } from '../store/types.js';
import type { ProvisioningContext } from './context.js';
import { parseBody } from './steps/03-body.js';
import { openRequest } from './steps/04-11-open-request.js';
import { checkNotReplayed } from './steps/12-replay.js';
import { checkRequestBinding } from './steps/13-binding.js';
import { STEP_14_CODES, resolveAndCheckCard } from './steps/14-card.js';
import { STEP_15_CODES, askDecision } from './steps/15-decision.js';
import { issue } from './steps/16-issuance.js';
import type { SubmitInput, SubmitResult } from './types.js';

/** Codes whose refusal burns the request's `jti` (steps 14 and 15). */
const STICKY_CODES: ReadonlySet<string> = new Set([...STEP_14_CODES, ...STEP_15_CODES]);

/** True when a refusal with this code burns the request (`declined` and the card refusals of step 14). */
export const refusalSticks = (error: ProvisioningError): boolean => STICKY_CODES.has(error.code);

/** What a submission revealed on its way, for its outcome: the issuer, once steps 4-11 named it. */
interface Seen {
  issuerId?: string;
}

/** Runs `submit` (see `TokenService.submit`) over a pipeline context. */
export function createProvisioningPipeline(ctx: ProvisioningContext): (input: SubmitInput) => Promise<SubmitResult> {
  const providers = new Set(ctx.config.walletProviders.map((p) => p.id));
  const observer = ctx.observer;
  /** Runs validation step `n` under the observer (metrics, traces), when there is one. */
  const step = <T>(n: number, fn: () => Promise<T>): Promise<T> => (observer ? observer.step(n, fn) : fn());

  const run = async (input: SubmitInput, lease: IdempotencyLease, body: Awaited<ReturnType<typeof parseBody>>, seen: Seen): Promise<SubmitResult> => {
    const { submission } = body;
    const { walletProviderId, signal } = input;
    let requestReplay: ReplayRecord | undefined;
    try {
      // Steps 4-11.
      const claims = await step(4, () => openRequest(ctx, submission.encryptedRequest));
      const issuer = ctx.issuers.get(claims.iss);
      if (!issuer) throw new InternalError('internal_error', 'The issuer disappeared');
      seen.issuerId = issuer.id;
      // Step 12.
      const replay = await step(12, () => checkNotReplayed(ctx, claims));
      await checkIssuerLimit(ctx.store, ctx.clock, issuer);
      // Step 13.
      await step(13, async () => {
        await checkRequestBinding(claims, submission, walletProviderId);
        checkIssuerAccepts(issuer, walletProviderId);
      });
      requestReplay = replay;
      // Step 14.
      const card = await step(14, () => resolveAndCheckCard(ctx, issuer, claims, submission, walletProviderId, signal));
      const panFingerprint = ctx.cipher.fingerprintPan(card.pan);
      await checkCardLimit(ctx.store, ctx.clock, issuer, panFingerprint);
      // Step 15.
      const decision = await step(15, () =>
        askDecision(
          ctx,
          issuer,
          {
            issuerId: issuer.id,
            walletProviderId,
            walletAccountId: submission.walletAccountId,
            deviceId: submission.deviceId,
            sessionId: submission.sessionId,
            panLast4: card.pan.slice(-4),
            panFingerprint,
            cardExpiry: card.expiry,
            accountRef: claims.accountRef,
            accountId: claims.accountId,
          },
          signal,
        ),
      );
      // Step 16.
      const jkt = submission.devicePublicKey === undefined ? undefined : await deviceKeyThumbprint(submission.devicePublicKey);
      return await step(16, () =>
        issue(ctx, { submission, walletProviderId, issuer, card, accountId: claims.accountId ?? claims.accountRef, panFingerprint, decision, requestReplay: replay, lease, deviceKeyThumbprint: jkt, signal }),
      );
    } catch (error) {
      const problem = toProvisioningError(error);
      if (problem.code === 'replayed') {
        // A lost answer is always recoverable with the same key, on any instance.
        const stored = await findStoredAnswer(ctx.store, ctx.cipher, lease).catch(() => undefined);
        if (stored) {
          await ctx.store.idempotency.release(lease.scope, lease.key, lease.leaseId).catch(() => undefined);
          return stored;
        }
      }
      if (requestReplay !== undefined && refusalSticks(problem)) {
        // The refusal and the burnt jti are one write; if it fails, the request is answered retryably.
        try {
          await ctx.store.refuse({ idempotency: { scope: lease.scope, key: lease.key, leaseId: lease.leaseId }, replay: [requestReplay] });
        } catch (storeError) {
          throw toProvisioningError(storeError);
        }
      } else {
        // Best effort: if the store is unreachable, the lease ends by itself.
        await ctx.store.idempotency.release(lease.scope, lease.key, lease.leaseId).catch(() => undefined);
      }
      throw problem;
    }
  };

  const submit = async (input: SubmitInput, seen: Seen): Promise<SubmitResult> => {
    try {
      if (!providers.has(input.walletProviderId)) throw new AuthError('unauthenticated', 'Unknown wallet provider');
      const idempotencyKey = checkIdempotencyKey(input.idempotencyKey);
      // Step 3: the body, then idempotency.
      const { body, begun } = await step(3, async () => {
        const body = await parseBody(input.submission);
        const begun = await beginIdempotent(
          { store: ctx.store, cipher: ctx.cipher, random: ctx.random, nowMs: ctx.clock.now(), leaseMs: ctx.idempotencyLeaseMs },
          input.walletProviderId,
          idempotencyKey,
          body.requestHash,
        );
        return { body, begun };
      });
      if ('stored' in begun) return begun.stored;
      return await run(input, begun.lease, body, seen);
    } catch (error) {
      throw toProvisioningError(error);
    }
  };

  if (!observer) return (input) => submit(input, {});
  // Each submission's outcome, once, with the issuer when steps 4-11 named it.
  return async (input) => {
    const seen: Seen = {};
    try {
      const result = await submit(input, seen);
      const outcome = result.replayed ? 'replayed' : result.status === 201 ? 'issued' : 'existing';
      observer.outcome({ walletProviderId: input.walletProviderId, issuerId: seen.issuerId, outcome });
      return result;
    } catch (error) {
      observer.outcome({ walletProviderId: input.walletProviderId, issuerId: seen.issuerId, outcome: 'refused', error });
      throw error;
    }
  };
}
