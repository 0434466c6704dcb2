import { manualClock } from '@pushprov/protocol';
import { describe, expect, it } from 'vitest';
import { createMemorySeenSessionStore, createMemoryTokenStore } from '../src/index.js';
import { describeSeenSessionStoreContract } from './contract/seen-session-store.contract.js';
import { describeTokenStoreContract } from './contract/token-store.contract.js';

describeTokenStoreContract('createMemoryTokenStore', () => createMemoryTokenStore());
describeSeenSessionStoreContract('createMemorySeenSessionStore', (clock) => createMemorySeenSessionStore({ clock }));

describe('createMemorySeenSessionStore bounds', () => {
  const T0 = Date.UTC(2026, 10, 28, 12);

  it('drops expired keys first when full', async () => {
    const clock = manualClock(T0);
    const store = createMemorySeenSessionStore({ maxEntries: 2, clock });
    store.remember('old', T0 + 10);
    store.remember('live', T0 + 10_000);
    clock.advance(100);
    expect(store.remember('new', T0 + 10_000)).toBe(true);
    expect(store.remember('live', T0 + 10_000)).toBe(false);
  });

  it('evicts the oldest live key when full of live keys, and never grows past maxEntries', async () => {
    const clock = manualClock(T0);
    const store = createMemorySeenSessionStore({ maxEntries: 3, clock });
    for (const key of ['a', 'b', 'c', 'd']) expect(store.remember(key, T0 + 10_000)).toBe(true);
    // 'a' was evicted; b, c, d are still remembered.
    for (const key of ['b', 'c', 'd']) expect(store.remember(key, T0 + 10_000)).toBe(false);
    expect(store.remember('a', T0 + 10_000)).toBe(true);
  });

  it('drops a key that expired, not the oldest live one, whatever order the expiries came in', async () => {
    const clock = manualClock(T0);
    const store = createMemorySeenSessionStore({ maxEntries: 3, clock });
    store.remember('a', T0 + 10_000);
    store.remember('short', T0 + 50);
    store.remember('c', T0 + 20_000);
    clock.advance(10);
    // Full of live keys: the oldest ('a') goes.
    expect(store.remember('d', T0 + 30_000)).toBe(true);
    clock.advance(100);
    // 'short' has expired now: it goes, and c and d stay.
    expect(store.remember('e', T0 + 30_000)).toBe(true);
    for (const key of ['c', 'd', 'e']) expect(store.remember(key, T0 + 30_000)).toBe(false);
  });

  it('refuses a nonsensical bound', () => {
    for (const maxEntries of [0, -1, 1.5, Number.NaN]) {
      expect(() => createMemorySeenSessionStore({ maxEntries })).toThrow(expect.objectContaining({ code: 'configuration_invalid' }));
    }
  });
});
