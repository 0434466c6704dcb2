/**
 * The contract every SeenSessionStore must keep, on an injected clock.
 *
 *   describeSeenSessionStoreContract('my store', (clock) => createMyStore({ clock }));
 */
import { type Clock, manualClock } from '@pushprov/protocol';
import { describe, expect, it } from 'vitest';
import type { SeenSessionStore } from '../../src/index.js';

const T0 = Date.UTC(2026, 10, 28, 12);

export function describeSeenSessionStoreContract(name: string, create: (clock: Clock) => SeenSessionStore | Promise<SeenSessionStore>): void {
  describe(`SeenSessionStore contract: ${name}`, () => {
    it('accepts a key once, then refuses it until it expires', async () => {
      const clock = manualClock(T0);
      const store = await create(clock);
      expect(await store.remember('s1', T0 + 1_000)).toBe(true);
      expect(await store.remember('s1', T0 + 1_000)).toBe(false);
      clock.advance(999);
      expect(await store.remember('s1', T0 + 5_000)).toBe(false);
    });

    it('accepts the key again at the exact moment it expires', async () => {
      const clock = manualClock(T0);
      const store = await create(clock);
      expect(await store.remember('s1', T0 + 1_000)).toBe(true);
      clock.set(T0 + 1_000);
      expect(await store.remember('s1', T0 + 2_000)).toBe(true);
      expect(await store.remember('s1', T0 + 2_000)).toBe(false);
    });

    it('keeps keys independent', async () => {
      const store = await create(manualClock(T0));
      expect(await store.remember('s1', T0 + 1_000)).toBe(true);
      expect(await store.remember('s2', T0 + 1_000)).toBe(true);
      expect(await store.remember('s1', T0 + 1_000)).toBe(false);
    });

    it('lets exactly one of many concurrent remembers of a key win', async () => {
      const store = await create(manualClock(T0));
      const results = await Promise.all(Array.from({ length: 20 }, () => store.remember('s1', T0 + 1_000)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });
  });
}
