export { withDeadline, type DeadlineOptions } from '@pushprov/protocol/internal';

/** Checks a duration option: a positive integer no larger than `max`. */
export function isDuration(value: unknown, max = 2_147_483_647): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= max;
}
