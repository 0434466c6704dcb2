// `POST /v1/tokens/query` (spec sections 4.21 and 7.14): the wallet
// provider's live tokens of one wallet account for some of one issuer's
// accounts, for a status query or a consent prompt. Reads only.
import { MAX_TOKEN_QUERY_TOKENS, type TokenQueryEntry, type TokenQueryResponse, parseTokenQuery, toProvisioningError } from '@pushprov/protocol';
import { checkIdempotencyKey } from '../lib/idempotency-key.js';
import type { ProvisioningContext } from '../provisioning/context.js';
import type { LiveToken } from '../store/types.js';

/** Input of {@link queryTokens}. */
export interface TokenQueryInput {
  /** The authenticated wallet provider. Never taken from the body. */
  walletProviderId: string;
  /** The body (JSON text, at most 4 096 characters). */
  body: unknown;
  /** Checked like every POST's key; nothing is stored under it. */
  idempotencyKey: string | null | undefined;
}

/** An answer's entry: never a card or token number, nor the last four of either. */
const entryOf = (token: LiveToken): TokenQueryEntry => ({
  tokenReferenceId: token.tokenReferenceId,
  accountId: token.accountId,
  deviceId: token.deviceId,
  status: token.status,
  activationStarted: token.status === 'pending_activation' && token.activationStarted,
});

/**
 * The live tokens the body asks about: of the authenticated wallet provider
 * only, for the body's wallet account and issuer, with one of its account
 * ids; not deleted, not past their expiry month, not past their pending
 * time. A token of another wallet provider, wallet account or issuer is
 * never found, and an account without a live token is simply absent.
 * Failures: `missing_idempotency_key`, `invalid_idempotency_key`,
 * `invalid_json`, `invalid_message` (too many, no or duplicate account ids),
 * `unsupported_version`, `payload_too_large`.
 *
 * @example
 * ```ts
 * const { tokens } = await queryTokens(context, { walletProviderId: 'wallet-co', body: text, idempotencyKey });
 * ```
 */
export async function queryTokens(ctx: Pick<ProvisioningContext, 'store' | 'clock'>, input: TokenQueryInput): Promise<TokenQueryResponse> {
  try {
    checkIdempotencyKey(input.idempotencyKey);
    const query = parseTokenQuery(input.body);
    const live = await ctx.store.tokens.findLive({
      walletProviderId: input.walletProviderId,
      walletAccountId: query.walletAccountId,
      issuerId: query.issuerId,
      accountIds: query.accountIds,
      nowMs: ctx.clock.now(),
      limit: MAX_TOKEN_QUERY_TOKENS,
    });
    return { tokens: live.map(entryOf) };
  } catch (error) {
    throw toProvisioningError(error);
  }
}
