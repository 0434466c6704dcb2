// The last provisioning requests of a sandbox token service, for the
// request inspector: a bounded ring buffer in this process's memory (never
// in the store, never outside sandbox mode). Each entry is an inspection
// report, made before the request ran (so step 12 sees the store as the
// request did), merged with the service's real answer.
import { PROVISIONING_STEPS } from '../provisioning/steps.js';
import { INSPECTION_STEP_NAMES, type InspectionReport, type InspectionStep, type RecordedRequestInfo } from './inspect-submission.js';

/** How many recent requests a sandbox token service keeps for the inspector. */
export const RECENT_REQUESTS_CAPACITY = 100;

/** The steps each code may come from, in order (section 6, the 4-11 range split by code). */
function stepsOfCode(code: string): number[] {
  const out: number[] = [];
  for (const entry of PROVISIONING_STEPS) {
    if (!entry.codes.includes(code)) continue;
    if (entry.steps.length === 1) out.push(entry.steps[0]!);
    else out.push(...entry.steps);
  }
  return out;
}

/**
 * The report of a recorded request: the dry run's (or, for a request
 * refused before its body was read, none) with the service's real answer
 * put in. The real refusal is shown at its step: the dry run's failing step
 * when it found the same code, else the last step that answers with it and
 * is not after the dry run's failing step (a rate limit, the store, a hook
 * the dry run does not call); the steps after it are not reached. A 2xx
 * answer marks step 16 as passed; a 2xx answer to a request the dry run
 * refused is a stored answer (idempotency, step 3).
 *
 * @example
 * ```ts
 * const report = mergeRecordedAnswer(dryRun, { requestId, correlationId, at, status: 429, code: 'rate_limited' });
 * ```
 */
export function mergeRecordedAnswer(dryRun: InspectionReport | undefined, request: RecordedRequestInfo): InspectionReport {
  const base: InspectionReport = dryRun ?? {
    type: 'inspection',
    source: 'recorded',
    outcome: { status: 'passed' },
    steps: Object.keys(INSPECTION_STEP_NAMES).map((n) => ({ step: Number(n), name: INSPECTION_STEP_NAMES[Number(n)]!, status: 'not_reached' as const })),
  };
  const report: InspectionReport = { ...structuredClone(base), source: 'recorded', request, ...(request.walletProviderId ? { walletProviderId: request.walletProviderId } : {}) };
  const steps = report.steps;
  const set = (n: number, step: Partial<InspectionStep>) => {
    const i = steps.findIndex((s) => s.step === n);
    steps[i] = { step: n, name: INSPECTION_STEP_NAMES[n]!, ...step } as InspectionStep;
  };
  const bodyRead = dryRun !== undefined;
  if (request.status < 400 && report.outcome.status === 'failed') {
    // Answered although its steps refuse it now: the stored answer of an earlier request with this key and body (step 3).
    for (const s of steps) {
      if (s.step <= 3) s.status = 'passed';
      else s.status = 'not_reached';
      delete s.code;
      delete s.message;
      delete s.troubleshooting;
      if (s.step !== 3) delete s.note;
    }
    set(3, { status: 'passed', note: `Idempotency: the stored answer of an earlier request with this key and body was returned (${request.status}); the later steps did not run.` });
    report.outcome = { status: 'passed' };
    return report;
  }
  if (request.status < 400) {
    set(1, { status: 'passed' });
    set(2, { status: 'passed' });
    set(16, { status: 'passed', note: request.status === 201 ? 'A token was issued (201).' : 'The card already had a token here: it was answered (200).' });
    // What the dry run could not check, the real request passed.
    for (const s of steps) if (s.status === 'not_checked') s.status = 'passed';
    report.outcome = { status: 'passed' };
    return report;
  }
  const code = request.code ?? 'internal_error';
  const dryFail = report.outcome.status === 'failed' ? report.outcome.step : undefined;
  let at: number;
  if (dryFail !== undefined && report.outcome.code === code) at = dryFail;
  else {
    const candidates = stepsOfCode(code).filter((n) => (bodyRead ? n >= 3 : n <= 2) && (dryFail === undefined || n <= dryFail));
    at = candidates.at(-1) ?? (bodyRead ? (dryFail ?? 16) : 1);
  }
  for (const s of steps) {
    if (s.step < at && (s.status === 'not_checked' || s.status === 'not_reached')) s.status = 'passed';
    if (s.step > at) {
      s.status = 'not_reached';
      delete s.code;
      delete s.message;
      delete s.troubleshooting;
    }
  }
  set(at, {
    status: 'failed',
    code,
    troubleshooting: `docs/troubleshooting.md#${code}`,
    note: 'The service answered this request with this code.',
    ...(report.outcome.code === code && dryFail === at ? { message: steps.find((s) => s.step === at)?.message } : {}),
  });
  report.outcome = { status: 'failed', step: at, code };
  return report;
}

/** One recorded request. */
export interface RecentRequest {
  info: RecordedRequestInfo;
  report: InspectionReport;
}

/**
 * A ring buffer of the last {@link RECENT_REQUESTS_CAPACITY} provisioning
 * requests, found by request id or correlation id (the newest with it).
 *
 * @example
 * ```ts
 * const recent = new RecentRequests();
 * recent.add({ info, report });
 * recent.find('req_…')?.report.outcome;
 * ```
 */
export class RecentRequests {
  readonly #entries: RecentRequest[] = [];
  constructor(readonly capacity = RECENT_REQUESTS_CAPACITY) {}

  add(entry: RecentRequest): void {
    this.#entries.push(entry);
    if (this.#entries.length > this.capacity) this.#entries.splice(0, this.#entries.length - this.capacity);
  }

  /** The newest request with this request id or correlation id. */
  find(id: string): RecentRequest | undefined {
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const entry = this.#entries[i]!;
      if (entry.info.requestId === id || entry.info.correlationId === id) return entry;
    }
    return undefined;
  }

  /** The requests, newest first. */
  list(): RecordedRequestInfo[] {
    return this.#entries.map((e) => e.info).reverse();
  }

  /** Forgets every request (a reload that leaves sandbox mode). */
  clear(): void {
    this.#entries.length = 0;
  }

  get size(): number {
    return this.#entries.length;
  }
}
