// Step 15 of docs/protocol.md section 6: the issuer's decision.
import { DecisionError, InternalError } from '@pushprov/protocol';
import type { Decision, IssuerConfig } from '../../config/parse-config.js';
import { runWithTimeout } from '../../lib/run-with-timeout.js';
import { type DecisionContext, decideByRules } from '../../service/hooks.js';
import type { ProvisioningContext } from '../context.js';

/** The codes step 15 answers with. `declined` sticks: the request's `jti` is burnt with the refusal. */
export const STEP_15_CODES = ['declined'] as const;

/**
 * Step 15: the issuer's decision hook (default: the issuer's configured
 * sandbox rules). `decline` is refused here; `approve` and `step_up` go on
 * to issuance.
 */
export async function askDecision(
  ctx: ProvisioningContext,
  issuer: IssuerConfig,
  context: Omit<DecisionContext, 'signal'>,
  signal: AbortSignal | undefined,
): Promise<Exclude<Decision, 'decline'>> {
  const hook = ctx.decide;
  const decision =
    hook === undefined ? decideByRules(issuer, context.panLast4) : await runWithTimeout((s) => hook({ ...context, signal: s }), ctx.config.limits.hookTimeoutMs, signal);
  if (decision === 'decline') throw new DecisionError('declined', 'The issuer declined the provisioning');
  if (decision !== 'approve' && decision !== 'step_up') throw new InternalError('internal_error', 'The decision hook returned an unknown decision');
  return decision;
}
