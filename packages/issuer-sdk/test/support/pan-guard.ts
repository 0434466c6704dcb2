import { expect } from 'vitest';

/** The test PAN used everywhere: Luhn-valid, and distinctive. */
export const TEST_PAN = '4111111111111111';
export const TEST_PAN_SPACED = '4111 1111 1111 1111';

/** Serialises anything emitted (events, errors, responses, logs) as thoroughly as possible. */
export function serialise(value: unknown): string {
  const parts: string[] = [];
  const seen = new WeakSet<object>();
  const walk = (v: unknown, depth: number) => {
    if (depth > 8) return;
    if (v instanceof Error) {
      parts.push(String(v), v.message, v.stack ?? '', JSON.stringify(v));
      walk((v as { details?: unknown }).details, depth + 1);
      return;
    }
    if (typeof v === 'string') {
      parts.push(v);
      return;
    }
    if (v === null || typeof v !== 'object') {
      parts.push(String(v));
      return;
    }
    if (seen.has(v)) return;
    seen.add(v);
    try {
      parts.push(JSON.stringify(v));
    } catch {
      // cyclic: walked below
    }
    for (const item of Object.values(v)) walk(item, depth + 1);
  };
  walk(value, 0);
  return parts.join('\n');
}

/** Asserts that nothing in `values` carries the test PAN, whole or spaced. */
export function expectNoPan(...values: unknown[]): void {
  const text = serialise(values);
  expect(text).not.toContain(TEST_PAN);
  expect(text).not.toContain(TEST_PAN_SPACED);
}
