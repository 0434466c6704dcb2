import { HttpError } from '@pushprov/protocol';

const IDEMPOTENCY_KEY = /^[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?$/;

/**
 * Checks an `Idempotency-Key`: 1 to 255 printable ASCII characters, no
 * leading or trailing space. A missing key is `missing_idempotency_key`, a
 * malformed one `invalid_idempotency_key`.
 *
 * @example
 * ```ts
 * const key = checkIdempotencyKey(request.headers.get('idempotency-key'));
 * ```
 */
export function checkIdempotencyKey(value: string | null | undefined): string {
  if (value === undefined || value === null || value === '') throw new HttpError('missing_idempotency_key', 'An Idempotency-Key header is required');
  if (!IDEMPOTENCY_KEY.test(value)) throw new HttpError('invalid_idempotency_key', 'The Idempotency-Key must be 1-255 printable ASCII characters');
  return value;
}
