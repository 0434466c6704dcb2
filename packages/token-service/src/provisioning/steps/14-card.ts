// Step 14 of docs/protocol.md section 6: the card.
import { type Card, CardError, type RequestClaims, type Submission, checkCard, zCard } from '@pushprov/protocol';
import type { IssuerConfig } from '../../config/parse-config.js';
import { runWithTimeout } from '../../lib/run-with-timeout.js';
import type { ProvisioningContext } from '../context.js';

/** The codes step 14 answers with. Each of them sticks: the request's `jti` is burnt with the refusal. */
export const STEP_14_CODES = ['card_invalid', 'card_expired', 'card_not_eligible'] as const;

/**
 * Step 14: an `accountRef` is resolved with the `resolveAccount` hook (none,
 * or an unknown reference: `card_invalid`); then Luhn and expiry month
 * (`card_invalid`), not expired (`card_expired`), inside the issuer's BIN
 * ranges (`card_not_eligible`).
 */
export async function resolveAndCheckCard(
  ctx: ProvisioningContext,
  issuer: IssuerConfig,
  claims: Pick<RequestClaims, 'card' | 'accountRef' | 'iss' | 'sid'>,
  submission: Submission,
  walletProviderId: string,
  signal: AbortSignal | undefined,
): Promise<Card> {
  const card = await resolveCard(ctx, claims, submission, walletProviderId, signal);
  checkCard(card, { nowMs: ctx.clock.now(), binRanges: issuer.binRanges });
  // Sandbox mode: the not-eligible test card (unless the issuer's own rules name it).
  const last4 = card.pan.slice(-4);
  if (ctx.sandbox?.notEligible(last4) && !Object.prototype.hasOwnProperty.call(issuer.decision.byLast4, last4)) {
    throw new CardError('card_not_eligible', 'The card is not eligible (sandbox test card)');
  }
  return card;
}

async function resolveCard(
  ctx: ProvisioningContext,
  claims: Pick<RequestClaims, 'card' | 'accountRef' | 'iss' | 'sid'>,
  submission: Submission,
  walletProviderId: string,
  signal: AbortSignal | undefined,
): Promise<Card> {
  if (claims.card) return claims.card;
  const resolver = ctx.resolveAccount;
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
    ctx.config.limits.hookTimeoutMs,
    signal,
  );
  if (card === undefined) throw new CardError('card_invalid', 'The account reference is not known to the issuer');
  const checked = zCard.safeParse(card, { reportInput: false });
  if (!checked.success) throw new CardError('card_invalid', 'The account reference resolved to an invalid card');
  return checked.data;
}
