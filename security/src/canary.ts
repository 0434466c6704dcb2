/**
 * The canary PAN of the whole suite. Every card the suite provisions is this
 * one (or {@link CANARY_PAN_2}); it must never appear in any log line,
 * response, error, event or stored column, except sealed inside the vault.
 *
 * @example
 * ```ts
 * expect(findCanary(responseText)).toEqual([]);
 * ```
 */
export const CANARY_PAN = '4111117355608290';

/** A second canary card of the same issuer range. */
export const CANARY_PAN_2 = '4111119024476133';

const CANARIES = [CANARY_PAN, CANARY_PAN_2];

/** The forms a leaked PAN could take in text: plain, grouped by spaces or dashes, reversed, and the PAN without its last four. */
function leakForms(pan: string): string[] {
  const groups = pan.match(/.{1,4}/g)!;
  return [pan, groups.join(' '), groups.join('-'), [...pan].reverse().join(''), pan.slice(0, 12)];
}

const FORMS = CANARIES.flatMap((pan) => leakForms(pan).map((form) => ({ pan, form })));

/**
 * The canary forms found in `text` (empty when there is none). Any
 * non-string value is serialised first, so errors, events and headers can
 * be passed as they are.
 *
 * @example
 * ```ts
 * findCanary('card •••• 8290'); // []
 * findCanary('card 4111 1173 5560 8290'); // ['4111 1173 5560 8290']
 * ```
 */
export function findCanary(value: unknown): string[] {
  const text = typeof value === 'string' ? value : describe(value);
  return [...new Set(FORMS.filter(({ form }) => text.includes(form)).map(({ form }) => form))];
}

/** Everything an error or object can print: JSON, `String()`, message, stack and cause chain. */
export function describe(value: unknown, depth = 0): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string') return value;
  if (typeof value !== 'object') return String(value);
  const parts: string[] = [];
  try {
    parts.push(JSON.stringify(value));
  } catch {
    parts.push('[unserialisable]');
  }
  if (value instanceof Error) {
    parts.push(String(value), value.message, value.stack ?? '');
    if (depth < 4 && value.cause !== undefined) parts.push(describe(value.cause, depth + 1));
  }
  if (value instanceof Headers) for (const [name, v] of value) parts.push(`${name}: ${v}`);
  return parts.join('\n');
}

/** Digit runs of 12 or more in a byte buffer read as Latin-1 (raw database pages, WAL frames). */
export function digitRuns(bytes: Uint8Array, minLength = 12): Set<string> {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  return new Set(text.match(new RegExp(`[0-9]{${minLength},}`, 'g')) ?? []);
}
