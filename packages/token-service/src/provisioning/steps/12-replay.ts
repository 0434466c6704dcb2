// Step 12 of docs/protocol.md section 6: replay.
import { type RequestClaims, ReplayError, replayKey } from '@pushprov/protocol';
import type { ReplayRecord } from '../../store/types.js';
import { sha256Hex } from '../../lib/hash.js';
import type { ProvisioningContext } from '../context.js';

/** The codes step 12 answers with. */
export const STEP_12_CODES = ['replayed'] as const;

/**
 * Step 12: the (`iss`, `jti`) pair was never accepted. Read here; written
 * atomically by the commit of step 16 (a unique key, so two racing copies
 * of one request issue exactly one token), or by the refusal of steps 14
 * and 15. Returns the replay record to write, kept until `exp` + skew.
 */
export async function checkNotReplayed(ctx: ProvisioningContext, claims: Pick<RequestClaims, 'iss' | 'jti' | 'exp'>): Promise<ReplayRecord> {
  const key = replayKey(claims.iss, claims.jti, sha256Hex);
  if (await ctx.store.replay.has(key)) throw new ReplayError('replayed', 'This provisioning request was already used');
  return { key, expiresAt: (claims.exp + ctx.config.lifetimes.clockSkewSeconds) * 1000 };
}
