/**
 * How a case states what it expects: a failed check throws a
 * {@link CheckFailure} naming what was expected, what came back and the error
 * code it is about; {@link runCase} turns that into a case result.
 */
import type { CaseResult } from '../report.js';

/** A check that did not hold. */
export class CheckFailure extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
    readonly code?: string,
  ) {
    super(`expected ${expected}, got ${actual}`);
    this.name = 'CheckFailure';
  }
}

/** Thrown by a case that finds it cannot run against this target (it is then reported as not applicable). */
export class NotApplicable extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'NotApplicable';
  }
}

/** A stable JSON text of a value (object members sorted), for messages and comparison. */
export function stableJson(value: unknown): string {
  return JSON.stringify(sortDeep(value)) ?? 'undefined';
}

function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .sort()
        .map((k) => [k, sortDeep((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** JSON equality, member order ignored (members whose value is undefined do not count). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  return stableJson(a) === stableJson(b);
}

/** Fails unless `condition` holds. */
export function check(condition: boolean, expected: string, actual: string | (() => string), code?: string): asserts condition {
  if (!condition) throw new CheckFailure(expected, typeof actual === 'function' ? actual() : actual, code);
}

/** Fails unless `actual` equals `expected` (JSON equality). */
export function checkEqual(what: string, expected: unknown, actual: unknown, code?: string): void {
  if (!jsonEqual(expected, actual)) throw new CheckFailure(`${what} ${stableJson(expected)}`, `${what} ${stableJson(actual)}`, code);
}

/** A case to run. */
export interface CaseSpec {
  id: string;
  title: string;
  /** Set when the case cannot run against this target: it is reported as not applicable with this reason. */
  notApplicable?: string | undefined;
  /** The code the case is about (for the troubleshooting link when it fails for another reason than a check). */
  code?: string | undefined;
  run: () => Promise<void>;
}

/** Runs a case: passed, failed (with expected, actual, code), or not applicable. */
export async function runCase(spec: CaseSpec): Promise<CaseResult> {
  const started = performance.now();
  const base = { id: spec.id, title: spec.title };
  if (spec.notApplicable !== undefined) return { ...base, status: 'not_applicable', reason: spec.notApplicable, durationMs: 0 };
  try {
    await spec.run();
    return { ...base, status: 'passed', durationMs: performance.now() - started };
  } catch (error) {
    const durationMs = performance.now() - started;
    if (error instanceof NotApplicable) return { ...base, status: 'not_applicable', reason: error.reason, durationMs };
    if (error instanceof CheckFailure) {
      const code = error.code ?? spec.code;
      return { ...base, status: 'failed', expected: error.expected, actual: error.actual, ...(code === undefined ? {} : { code }), durationMs };
    }
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const code = (error as { code?: unknown })?.code;
    return {
      ...base,
      status: 'failed',
      expected: 'the case to run to its end',
      actual: message,
      ...(typeof code === 'string' ? { code } : spec.code === undefined ? {} : { code: spec.code }),
      durationMs,
    };
  }
}
