/**
 * A clock. All expiry and freshness checks take one, so tests and vectors can
 * pin time.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** The system clock (`Date.now()`). */
export const systemClock: Clock = { now: () => Date.now() };

/**
 * A clock that stands still at `epochMs` until moved.
 *
 * @example
 * ```ts
 * const clock = manualClock(Date.UTC(2026, 0, 1));
 * clock.advance(60_000);
 * ```
 */
export function manualClock(epochMs: number): Clock & { advance(ms: number): void; set(epochMs: number): void } {
  let current = epochMs;
  return {
    now: () => current,
    advance(ms: number) {
      current += ms;
    },
    set(value: number) {
      current = value;
    },
  };
}

/** Seconds since the epoch, floored: the unit of JWT time claims. */
export function epochSeconds(clock: Clock): number {
  return Math.floor(clock.now() / 1000);
}
