/**
 * The assertions every refusal in the suite makes: the exact code in RFC 9457
 * problem details, nothing stored, nothing leaked.
 */
import { inspect } from 'node:util';
import { expect } from 'vitest';
import {
  ERROR_CATALOG,
  type ErrorCode,
  PROBLEM_CONTENT_TYPE,
  PROBLEM_TYPE_BASE,
  type ProblemDetails,
  ProvisioningError,
  parseProblemDetails,
} from '@pushprov/protocol';
import { describe, findCanary } from './canary.js';
import { countRows } from './database.js';
import type { Harness } from './harness.js';
import type { HttpResult } from './http.js';

/** Asserts that `value` (text, error, object, headers) carries no form of a canary PAN. */
export function expectNoCanary(value: unknown, where = 'output'): void {
  expect(findCanary(value), `canary PAN found in ${where}`).toEqual([]);
}

/**
 * Asserts a problem-details answer with exactly `code`: the catalog status,
 * `application/problem+json`, the type URI, title and retryability of the
 * catalog, the request id of the header, and no canary anywhere in it.
 */
export function expectProblem(result: HttpResult, code: ErrorCode): ProblemDetails {
  expect({ status: result.status, body: result.text.slice(0, 400) }).toMatchObject({ status: ERROR_CATALOG[code].status });
  expect(result.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
  const problem = parseProblemDetails(result.text);
  expect(problem.code).toBe(code);
  expect(problem.type).toBe(`${PROBLEM_TYPE_BASE}${code}`);
  expect(problem.title).toBe(ERROR_CATALOG[code].title);
  expect(problem.retryable).toBe(ERROR_CATALOG[code].retryable);
  expect(problem.requestId).toBe(result.headers.get('x-request-id'));
  expectNoCanary(result.text, 'the response body');
  expectNoCanary(result.headers, 'the response headers');
  return problem;
}

/**
 * Runs `act` against the harness and asserts the refusal: the exact code,
 * every table's row count unchanged (read through a separate connection),
 * one log line with that code, and no canary in the response or the logs.
 */
export async function expectRefused(h: Harness, act: () => Promise<HttpResult>, code: ErrorCode, options: { replayAdded?: number } = {}): Promise<ProblemDetails> {
  const before = countRows(h.dbPath);
  const mark = h.logs.length;
  const result = await act();
  const problem = expectProblem(result, code);
  // Nothing stored, but the replay keys a refusal adds on purpose: a client assertion presented
  // (used up), or the jti of a refusal that sticks (the card checks, the decision).
  expect(countRows(h.dbPath)).toEqual({ ...before, replay: (before.replay ?? 0) + (options.replayAdded ?? 0) });
  const lines = h.logs.slice(mark);
  expect(lines.filter((l) => l.msg === 'request' && l.code === code && l.requestId === problem.requestId)).toHaveLength(1);
  expectNoCanary(JSON.stringify(lines), 'the logs');
  return problem;
}

/** Awaits `promise`, asserts it rejects with a `ProvisioningError` of exactly `code` that leaks no canary (message, JSON, inspect, cause chain). */
export async function expectTypedRejection(promise: Promise<unknown>, code: ErrorCode): Promise<ProvisioningError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected a rejection').toBeInstanceOf(ProvisioningError);
  const error = caught as ProvisioningError;
  expect(error.code).toBe(code);
  expectNoCanary(describe(error), 'the error');
  expectNoCanary(inspect(error, { depth: 6 }), 'the inspected error');
  return error;
}

/** Like {@link expectTypedRejection} for a synchronous throw. */
export function expectTypedThrow(run: () => unknown, code: ErrorCode): ProvisioningError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected a throw').toBeInstanceOf(ProvisioningError);
  const error = caught as ProvisioningError;
  expect(error.code).toBe(code);
  expectNoCanary(describe(error), 'the error');
  expectNoCanary(inspect(error, { depth: 6 }), 'the inspected error');
  return error;
}
