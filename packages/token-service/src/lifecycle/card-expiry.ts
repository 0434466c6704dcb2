// A reissued card's new expiry (spec section 12.1): the vault entry's sealed
// card takes it, in one lifecycle write that records `token.updated`.
import { type Card, type Expiry, InternalError, type LifecycleActor } from '@pushprov/protocol';
import type { ProvisioningContext } from '../provisioning/context.js';
import type { TokenRecord, VaultRecord } from '../store/types.js';

/** The card in a vault entry, opened (`{ pan, expiry }`). Never logged, never answered. */
export function openVaultCard(ctx: Pick<ProvisioningContext, 'cipher'>, vault: VaultRecord): Pick<Card, 'pan' | 'expiry'> {
  return JSON.parse(ctx.cipher.open(vault.sealedCard, 'card', vault.tokenReferenceId)) as Pick<Card, 'pan' | 'expiry'>;
}

const later = (a: Expiry, b: Expiry): boolean => a.year > b.year || (a.year === b.year && a.month > b.month);

/**
 * Gives the vault entry of `token` the card's new expiry when it is later
 * than the stored one (a reissued card), recording `token.updated` (reason
 * `card_reissued`) in the same write; an equal or earlier expiry changes
 * nothing. Returns the vault entry as it is now. A token deleted or changed
 * meanwhile keeps what it has.
 */
export async function updateCardExpiry(
  ctx: Pick<ProvisioningContext, 'cipher' | 'store'>,
  token: TokenRecord,
  vault: VaultRecord,
  card: { expiry: Expiry },
  options: { actor: LifecycleActor; nowMs: number; force?: boolean | undefined },
): Promise<VaultRecord> {
  const stored = openVaultCard(ctx, vault);
  const changed = options.force === true ? stored.expiry.month !== card.expiry.month || stored.expiry.year !== card.expiry.year : later(card.expiry, stored.expiry);
  if (!changed) return vault;
  const sealedCard = ctx.cipher.seal(JSON.stringify({ pan: stored.pan, expiry: card.expiry }), 'card', vault.tokenReferenceId);
  const outcome = await ctx.store.lifecycle.transition({
    tokenReferenceId: token.tokenReferenceId,
    from: ['pending_activation', 'active', 'suspended'],
    type: 'token.updated',
    actor: options.actor,
    reason: 'card_reissued',
    nowMs: options.nowMs,
    sealedCard: { from: vault.sealedCard, to: sealedCard },
  });
  if (outcome.ok) return { ...vault, sealedCard };
  if (outcome.conflict === 'idempotency') throw new InternalError('internal_error', 'A card update carries no idempotency record');
  return vault;
}
