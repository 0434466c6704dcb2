// The request inspector's dry run: the validation steps of docs/protocol.md
// section 6, each with its result, over a submission, changing nothing.
// It reads (the replay record of step 12) but never writes: no idempotency
// entry is taken, no rate limit counted, no jti burnt, no hook called, no
// token issued. What it shows holds no card or token number: the claims'
// PAN is masked, and every string passes through redactPans.
import {
  DecisionError,
  type ErrorCode,
  ReplayError,
  type ProvisioningError,
  type RequestClaims,
  type Submission,
  checkCard,
  deviceKeyThumbprint,
  maskPan,
  openProvisioningRequest,
  redactPans,
  replayKey,
  toProvisioningError,
} from '@pushprov/protocol';
import { checkIssuerAccepts } from '../config/issuer-accepts.js';
import { sha256Hex } from '../lib/hash.js';
import type { ProvisioningContext } from '../provisioning/context.js';
import { parseBody } from '../provisioning/steps/03-body.js';
import { checkRequestBinding } from '../provisioning/steps/13-binding.js';
import { decideByRules } from '../service/hooks.js';

/** The names of the steps of docs/protocol.md section 6, by number. */
export const INSPECTION_STEP_NAMES: Readonly<Record<number, string>> = {
  1: 'Authenticate',
  2: 'HTTP rules',
  3: 'Body',
  4: 'JWE header',
  5: 'Decrypt',
  6: 'JWS header',
  7: 'Issuer key',
  8: 'Signature',
  9: 'Claims schema',
  10: 'Audience',
  11: 'Time',
  12: 'Replay',
  13: 'Binding',
  14: 'Card',
  15: 'Issuer decision',
  16: 'Issue',
};

/** The step of 4 to 11 each code of `openProvisioningRequest` belongs to. */
const OPEN_STEP_OF: Readonly<Partial<Record<ErrorCode, number>>> = {
  jwe_header_rejected: 4,
  unknown_key: 4,
  decryption_failed: 5,
  internal_error: 5,
  jws_header_rejected: 6,
  unknown_issuer: 7,
  signature_invalid: 8,
  invalid_claims: 9,
  card_invalid: 9,
  audience_mismatch: 10,
  lifetime_exceeded: 11,
  not_yet_valid: 11,
  expired: 11,
};

/** How a step came out: `passed`, `failed` (its code says why), `not_reached` (an earlier step failed), `not_checked` (the note says why). */
export type InspectionStepStatus = 'passed' | 'failed' | 'not_reached' | 'not_checked';

/** One step of an {@link InspectionReport}. */
export interface InspectionStep {
  /** The step number of docs/protocol.md section 6 (1-16). */
  step: number;
  name: string;
  status: InspectionStepStatus;
  /** The code it failed with. */
  code?: string | undefined;
  /** The refusal's message (redacted). */
  message?: string | undefined;
  /** What was not done, or what else is worth knowing (a dry run takes no idempotency key, counts no rate limit). */
  note?: string | undefined;
  /** The troubleshooting entry of the code: `docs/troubleshooting.md#<code>`. */
  troubleshooting?: string | undefined;
}

/** One line of the binding, the claims beside the submission (step 13). */
export interface BindingRow {
  field: 'sessionId' | 'walletProviderId' | 'walletAccountId' | 'deviceId' | 'nonce' | 'deviceKey';
  /** What the issuer signed (`sid`, `walletProviderId`, …, `cnf.jkt`). */
  claim: string | undefined;
  /** What was submitted (the wallet provider: the authenticated caller; the device key: its thumbprint). */
  submission: string | undefined;
  matches: boolean;
}

/** What the inspector found: the steps, the decoded headers, the claims (card masked), the binding side by side. */
export interface InspectionReport {
  type: 'inspection';
  /** `submission`: a pasted one (a dry run); `recorded`: a recent request, with the service's own answer. */
  source: 'submission' | 'recorded';
  /** The wallet provider the binding was compared with. */
  walletProviderId?: string | undefined;
  /** The first failed step, or `passed` when none failed. */
  outcome: { status: 'passed' | 'failed'; step?: number | undefined; code?: string | undefined };
  steps: InspectionStep[];
  jweHeader?: Record<string, unknown> | undefined;
  jwsHeader?: Record<string, unknown> | undefined;
  /** The claims as the issuer signed them (not yet verified when a later step failed), the PAN masked. */
  claims?: Record<string, unknown> | undefined;
  binding?: BindingRow[] | undefined;
  /** The recent request this report is of (source `recorded`). */
  request?: RecordedRequestInfo | undefined;
}

/** The recorded facts of a recent request. */
export interface RecordedRequestInfo {
  requestId: string;
  correlationId: string;
  /** ISO 8601. */
  at: string;
  status: number;
  code?: string | undefined;
  walletProviderId?: string | undefined;
}

/** Input of {@link inspectSubmission}. */
export interface InspectSubmissionInput {
  /** The submission: its JSON text or the parsed value. */
  submission: unknown;
  /** The wallet provider to compare the binding with (the authenticated caller of a real request). Default: the one the claims name. */
  walletProviderId?: string | undefined;
}

const link = (code: string): string => `docs/troubleshooting.md#${code}`;

function failed(step: number, error: ProvisioningError): InspectionStep {
  return { step, name: INSPECTION_STEP_NAMES[step]!, status: 'failed', code: error.code, message: redactPans(error.message), troubleshooting: link(error.code) };
}

/** A deep copy of a decoded value with the card number masked and every string redacted. */
function mask(value: unknown, key?: string): unknown {
  if (typeof value === 'string') return key === 'pan' ? maskPan(value) : redactPans(value);
  if (Array.isArray(value)) return value.slice(0, 64).map((v) => mask(v));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>).slice(0, 64)) out[k] = mask(v, k);
    return out;
  }
  return value;
}

const asRecord = (value: unknown): Record<string, unknown> | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (mask(value) as Record<string, unknown>) : undefined;

async function bindingRows(claims: RequestClaims, submission: Submission, walletProviderId: string): Promise<BindingRow[]> {
  const thumbprint = submission.devicePublicKey === undefined ? undefined : await deviceKeyThumbprint(submission.devicePublicKey);
  const rows: [BindingRow['field'], string | undefined, string | undefined][] = [
    ['sessionId', claims.sid, submission.sessionId],
    ['walletProviderId', claims.walletProviderId, walletProviderId],
    ['walletAccountId', claims.walletAccountId, submission.walletAccountId],
    ['deviceId', claims.deviceId, submission.deviceId],
    ['nonce', claims.nonce, submission.nonce],
    ['deviceKey', claims.cnf?.jkt, thumbprint],
  ];
  return rows.map(([field, claim, submitted]) => ({
    field,
    claim: claim === undefined ? undefined : redactPans(claim),
    submission: submitted === undefined ? undefined : redactPans(submitted),
    matches: claim === submitted,
  }));
}

/**
 * Runs the validation steps of docs/protocol.md section 6 over a
 * submission as a dry run, and reports each one: its result, the decoded
 * JWE and JWS headers, the claims (PAN masked), the binding beside the
 * submission, and for the failing step its code and troubleshooting entry.
 * Changes nothing: steps 1 and 2 (authentication, HTTP rules) are the real
 * request's and not checked here; step 3 takes no idempotency key; step 12
 * only reads; no rate limit is counted; an `accountRef` is not resolved and
 * a decision hook is not called (only the configured sandbox rules are
 * applied); step 16 issues nothing.
 *
 * @example
 * ```ts
 * const report = await inspectSubmission(ctx, { submission: text, walletProviderId: 'wallet-co' });
 * report.outcome; // { status: 'failed', step: 13, code: 'device_mismatch' }
 * ```
 */
export async function inspectSubmission(ctx: ProvisioningContext, input: InspectSubmissionInput): Promise<InspectionReport> {
  const steps: InspectionStep[] = [];
  const report: InspectionReport = { type: 'inspection', source: 'submission', outcome: { status: 'passed' }, steps };
  const notReachedFrom = (from: number) => {
    for (let n = from; n <= 16; n++) steps.push({ step: n, name: INSPECTION_STEP_NAMES[n]!, status: 'not_reached' });
  };
  const fail = (step: number, error: unknown) => {
    const problem = toProvisioningError(error);
    steps.push(failed(step, problem));
    report.outcome = { status: 'failed', step, code: problem.code };
    notReachedFrom(step + 1);
    return report;
  };
  const note = 'Not checked here: it is the real request\u2019s (inspect a recent request by its id to see it).';
  steps.push({ step: 1, name: INSPECTION_STEP_NAMES[1]!, status: 'not_checked', note });
  steps.push({ step: 2, name: INSPECTION_STEP_NAMES[2]!, status: 'not_checked', note });

  // Step 3: the body (no idempotency key is taken).
  let submission: Submission;
  try {
    submission = (await parseBody(input.submission)).submission;
  } catch (error) {
    return fail(3, error);
  }
  steps.push({ step: 3, name: INSPECTION_STEP_NAMES[3]!, status: 'passed', note: 'Idempotency: not taken (dry run).' });

  // Steps 4-11, with each part shown as it is decoded.
  let claims: RequestClaims;
  try {
    ({ claims } = await openProvisioningRequest(submission.encryptedRequest, {
      decryptionKeys: ctx.decryptionKeys,
      issuerKeys: (iss, kid) => ctx.issuers.get(iss)?.jwks.keys.find((k) => k.kid === kid),
      audience: ctx.config.serviceId,
      clock: ctx.clock,
      clockSkewSeconds: ctx.config.lifetimes.clockSkewSeconds,
      maxLifetimeSeconds: ctx.config.lifetimes.maxRequestSeconds,
      onPart: (part) => {
        if (part.kind === 'jwe-header') report.jweHeader = asRecord(part.header);
        else if (part.kind === 'jws-header') report.jwsHeader = asRecord(part.header);
        else report.claims = asRecord(part.payload);
      },
    }));
  } catch (error) {
    const problem = toProvisioningError(error);
    const at = OPEN_STEP_OF[problem.code] ?? 4;
    for (let n = 4; n < at; n++) steps.push({ step: n, name: INSPECTION_STEP_NAMES[n]!, status: 'passed' });
    return fail(at, problem);
  }
  for (let n = 4; n <= 11; n++) steps.push({ step: n, name: INSPECTION_STEP_NAMES[n]!, status: 'passed' });
  const issuer = ctx.issuers.get(claims.iss)!;

  // Step 12: read only.
  try {
    if (await ctx.store.replay.has(replayKey(claims.iss, claims.jti, sha256Hex))) {
      return fail(12, new ReplayError('replayed', 'This provisioning request was already used'));
    }
  } catch (error) {
    return fail(12, error);
  }
  steps.push({ step: 12, name: INSPECTION_STEP_NAMES[12]!, status: 'passed', note: 'The issuer\u2019s rate limit is not counted (dry run).' });

  // Step 13: the binding, side by side.
  const walletProviderId = input.walletProviderId ?? claims.walletProviderId;
  report.walletProviderId = walletProviderId;
  report.binding = await bindingRows(claims, submission, walletProviderId);
  try {
    await checkRequestBinding(claims, submission, walletProviderId);
    checkIssuerAccepts(issuer, walletProviderId);
  } catch (error) {
    return fail(13, error);
  }
  steps.push({
    step: 13,
    name: INSPECTION_STEP_NAMES[13]!,
    status: 'passed',
    ...(input.walletProviderId === undefined ? { note: `Compared with the wallet provider the claims name (${walletProviderId}): a real request is compared with its authenticated caller.` } : {}),
  });

  // Step 14: the card in the claims (an accountRef is not resolved: the hook is the issuer's).
  if (claims.card) {
    try {
      checkCard(claims.card, { nowMs: ctx.clock.now(), binRanges: issuer.binRanges });
    } catch (error) {
      return fail(14, error);
    }
    steps.push({ step: 14, name: INSPECTION_STEP_NAMES[14]!, status: 'passed', note: 'The per-card rate limit is not counted (dry run).' });
  } else {
    steps.push({ step: 14, name: INSPECTION_STEP_NAMES[14]!, status: 'not_checked', note: 'An accountRef: the inspector does not call the resolveAccount hook.' });
  }

  // Step 15: the sandbox rules; a decision hook is not called.
  if (ctx.decide !== undefined || !claims.card) {
    steps.push({ step: 15, name: INSPECTION_STEP_NAMES[15]!, status: 'not_checked', note: 'The decision is the issuer\u2019s hook (or needs the resolved card): not called by the inspector.' });
  } else {
    const decision = decideByRules(issuer, claims.card.pan.slice(-4));
    if (decision === 'decline') return fail(15, new DecisionError('declined', 'The issuer declined the provisioning (the sandbox rules)'));
    steps.push({ step: 15, name: INSPECTION_STEP_NAMES[15]!, status: 'passed', note: `The sandbox rules answer ${decision}.` });
  }
  steps.push({ step: 16, name: INSPECTION_STEP_NAMES[16]!, status: 'not_checked', note: 'Dry run: nothing is issued or stored.' });
  return report;
}
