// The steps of docs/protocol.md section 6 as data: number, what it checks,
// where it runs, and the codes it answers with. A test holds this table and
// the spec's table together, code for code.
import { IDEMPOTENCY_CODES } from '../idempotency/idempotency.js';
import { STEP_3_CODES } from './steps/03-body.js';
import { STEPS_4_TO_11_CODES } from './steps/04-11-open-request.js';
import { STEP_12_CODES } from './steps/12-replay.js';
import { STEP_13_CODES } from './steps/13-binding.js';
import { STEP_14_CODES } from './steps/14-card.js';
import { STEP_15_CODES } from './steps/15-decision.js';
import { STEP_16_CODES } from './steps/16-issuance.js';
import { RATE_LIMIT_CODES } from '../ratelimit/rate-limits.js';

/** One step of the token service's validation order. */
export interface ProvisioningStep {
  /** The step numbers of docs/protocol.md section 6 this entry covers. */
  readonly steps: readonly number[];
  readonly name: string;
  /** The module that runs it, relative to the package's `src/`. */
  readonly module: string;
  /** The error codes it answers with. */
  readonly codes: readonly string[];
  /** True when its refusal burns the request's `jti` (the decision sticks). */
  readonly refusalSticks: boolean;
}

/**
 * The validation order of `POST /v1/provisioning-requests`, as the code runs
 * it. Steps 1 and 2 (authentication, the HTTP rules) are the HTTP layer's.
 *
 * @example
 * ```ts
 * PROVISIONING_STEPS.find((s) => s.steps.includes(12))?.module; // 'provisioning/steps/12-replay.ts'
 * ```
 */
export const PROVISIONING_STEPS: readonly ProvisioningStep[] = [
  // Each rate limit answers at the end of the step it belongs to (ratelimit/rate-limits.ts); its refusal never sticks.
  { steps: [1], name: 'authenticate', module: 'auth/create-authenticator.ts', codes: ['unauthenticated', ...RATE_LIMIT_CODES], refusalSticks: false },
  {
    steps: [2],
    name: 'HTTP rules',
    module: 'http/create-app.ts',
    codes: ['unsupported_media_type', 'missing_idempotency_key', 'invalid_idempotency_key', 'payload_too_large'],
    refusalSticks: false,
  },
  { steps: [3], name: 'body, then idempotency', module: 'provisioning/steps/03-body.ts', codes: [...STEP_3_CODES, ...IDEMPOTENCY_CODES], refusalSticks: false },
  {
    steps: [4, 5, 6, 7, 8, 9, 10, 11],
    name: 'open the request',
    module: 'provisioning/steps/04-11-open-request.ts',
    codes: STEPS_4_TO_11_CODES,
    refusalSticks: false,
  },
  { steps: [12], name: 'replay', module: 'provisioning/steps/12-replay.ts', codes: [...STEP_12_CODES, ...RATE_LIMIT_CODES], refusalSticks: false },
  { steps: [13], name: 'binding', module: 'provisioning/steps/13-binding.ts', codes: STEP_13_CODES, refusalSticks: false },
  { steps: [14], name: 'card', module: 'provisioning/steps/14-card.ts', codes: [...STEP_14_CODES, ...RATE_LIMIT_CODES], refusalSticks: true },
  { steps: [15], name: 'issuer decision', module: 'provisioning/steps/15-decision.ts', codes: STEP_15_CODES, refusalSticks: true },
  { steps: [16], name: 'issue', module: 'provisioning/steps/16-issuance.ts', codes: STEP_16_CODES, refusalSticks: false },
];
