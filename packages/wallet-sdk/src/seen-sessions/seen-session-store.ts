import { type Clock, createError, systemClock } from '@pushprov/protocol';

/**
 * Remembers the invocations a wallet has accepted, so the same session cannot
 * be played to it twice. Keys are opaque strings; each lives until its expiry.
 * Implement it over durable storage (AsyncStorage, IndexedDB, SQLite) when
 * replays across app restarts matter; {@link createMemorySeenSessionStore}
 * keeps them in memory.
 *
 * @example
 * ```ts
 * const store: SeenSessionStore = {
 *   async remember(key, expiresAt) {
 *     if (await db.has(key)) return false;
 *     await db.put(key, expiresAt);
 *     return true;
 *   },
 * };
 * ```
 */
export interface SeenSessionStore {
  /**
   * Records `key` until `expiresAt` (epoch milliseconds), atomically. Returns
   * `false` when the key is already recorded and not yet expired (a replay),
   * `true` when it was recorded now.
   */
  remember(key: string, expiresAt: number): boolean | Promise<boolean>;
}

/**
 * Options of {@link createMemorySeenSessionStore}.
 *
 * @example
 * ```ts
 * const seenSessions = createMemorySeenSessionStore({ maxEntries: 256, clock: systemClock });
 * ```
 */
export interface MemorySeenSessionStoreOptions {
  /** The most keys kept at once. Default 1024. */
  maxEntries?: number;
  /** The clock that decides expiry. Default the system clock. */
  clock?: Clock;
}

/**
 * An in-memory, bounded {@link SeenSessionStore}. Expired keys are dropped
 * first; when it is full of live keys, the oldest is evicted (invocations live
 * minutes, so a full store means a flood, not a user).
 *
 * @example
 * ```ts
 * const seenSessions = createMemorySeenSessionStore({ maxEntries: 256 });
 * await seenSessions.remember('q3W1n7xYb0kq3W1n7xYb0k', Date.now() + 300_000); // true
 * await seenSessions.remember('q3W1n7xYb0kq3W1n7xYb0k', Date.now() + 300_000); // false
 * ```
 */
export function createMemorySeenSessionStore(options: MemorySeenSessionStoreOptions = {}): SeenSessionStore {
  const maxEntries = options.maxEntries ?? 1024;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw createError('configuration_invalid', 'maxEntries must be a positive integer');
  const clock = options.clock ?? systemClock;
  // Map keeps insertion order: the first entry is the oldest.
  const entries = new Map<string, number>();
  // A lower bound of the expiries held: while `now` is below it nothing has
  // expired, so a full store skips the sweep (which visits every entry).
  let earliestExpiry = Number.POSITIVE_INFINITY;
  return {
    remember(key, expiresAt) {
      const now = clock.now();
      const existing = entries.get(key);
      if (existing !== undefined && existing > now) return false;
      entries.delete(key);
      if (entries.size >= maxEntries) {
        if (earliestExpiry <= now) {
          earliestExpiry = Number.POSITIVE_INFINITY;
          for (const [k, exp] of entries) {
            if (exp <= now) entries.delete(k);
            else if (exp < earliestExpiry) earliestExpiry = exp;
          }
        }
        while (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      }
      entries.set(key, expiresAt);
      if (expiresAt < earliestExpiry) earliestExpiry = expiresAt;
      return true;
    },
  };
}
