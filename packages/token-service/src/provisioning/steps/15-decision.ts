// Step 15 of docs/protocol.md section 6: the issuer's decision.
import { DecisionError, InternalError, type VerificationMethod, zVerification } from '@pushprov/protocol';
import type { Decision, IssuerConfig } from '../../config/parse-config.js';
import { runWithTimeout } from '../../lib/run-with-timeout.js';
import { type DecisionContext, type DecisionResult, decideByRules } from '../../service/hooks.js';
import type { ProvisioningContext } from '../context.js';

/** The codes step 15 answers with. `declined` sticks: the request's `jti` is burnt with the refusal. */
export const STEP_15_CODES = ['declined'] as const;

/** A decision that issues a token: `approve`, or `step_up` with the verification methods to offer. */
export type IssuingDecision = { decision: 'approve' } | { decision: 'step_up'; methods: VerificationMethod[] };

/**
 * Step 15: the issuer's decision hook (default: the issuer's configured
 * sandbox rules, and in sandbox mode the test cards). `decline` is refused
 * here; `approve` and `step_up` go on to issuance. A `step_up` without
 * methods offers the issuer's configured `verificationMethods`; methods a
 * hook returns are checked as the protocol's `verification.methods` (a hook
 * that returns others is `internal_error`, naming no value).
 */
export async function askDecision(
  ctx: ProvisioningContext,
  issuer: IssuerConfig,
  context: Omit<DecisionContext, 'signal'>,
  signal: AbortSignal | undefined,
): Promise<IssuingDecision> {
  const hook = ctx.decide;
  const answer: Decision | DecisionResult =
    hook !== undefined
      ? await runWithTimeout((s) => hook({ ...context, signal: s }), ctx.config.limits.hookTimeoutMs, signal)
      : ctx.sandbox
        ? ctx.sandbox.decide(issuer, context.panLast4)
        : decideByRules(issuer, context.panLast4);
  const result: DecisionResult | undefined =
    typeof answer === 'string' ? ({ decision: answer } as DecisionResult) : answer !== null && typeof answer === 'object' ? answer : undefined;
  const decision = result?.decision;
  if (decision === 'decline') throw new DecisionError('declined', 'The issuer declined the provisioning');
  if (decision === 'approve') return { decision: 'approve' };
  if (decision !== 'step_up') throw new InternalError('internal_error', 'The decision hook returned an unknown decision');
  const given = (result as { methods?: unknown }).methods;
  if (given === undefined) return { decision: 'step_up', methods: structuredClone(issuer.verificationMethods) };
  const checked = zVerification.safeParse({ methods: given, expiresAt: 0 }, { reportInput: false });
  if (!checked.success) throw new InternalError('internal_error', 'The decision hook returned verification methods that are not valid');
  return { decision: 'step_up', methods: checked.data.methods };
}
