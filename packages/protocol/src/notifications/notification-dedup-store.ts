import { createError } from '../errors.js';

/**
 * What a {@link NotificationDedupStore} knows of a key: `new` (unknown until
 * now: the caller has just claimed it and processes it), `in_progress`
 * (claimed by another call that has not finished) or `seen` (processed).
 *
 * @example
 * ```ts
 * const state: NotificationClaimState = await seen.claim(`event:${eventId}`, Date.now() + 172_800_000);
 * ```
 */
export type NotificationClaimState = 'new' | 'in_progress' | 'seen';

/**
 * Where a notification receiver remembers what it has processed (spec
 * section 13), so each event is processed once. Keys are opaque strings of
 * at most 80 characters (`event:<eventId>` for an event, `jws:<hash>` for a
 * signed notification already presented). Every method may be asynchronous:
 * a shared store (Redis, a SQL table) lets several receiver instances share
 * what they have processed. {@link createMemoryNotificationDedupStore} is the
 * reference implementation.
 *
 * @example
 * ```ts
 * const seen: NotificationDedupStore = {
 *   claim: async (key, keepUntilMs) => ((await db.insertIfAbsent(key, keepUntilMs)) ? 'new' : await db.stateOf(key)),
 *   complete: (key, keepUntilMs) => db.markSeen(key, keepUntilMs),
 *   release: (key) => db.remove(key),
 * };
 * ```
 */
export interface NotificationDedupStore {
  /**
   * Atomically: when `key` is unknown (or its entry has expired), records it
   * as in progress, kept at least until `keepUntilMs`, and returns `new`;
   * otherwise returns its state. Two concurrent calls never both get `new`.
   */
  claim(key: string, keepUntilMs: number): NotificationClaimState | Promise<NotificationClaimState>;
  /** Marks a claimed key as processed, kept at least until `keepUntilMs`. */
  complete(key: string, keepUntilMs: number): void | Promise<void>;
  /** Forgets a claimed key whose processing failed, so a retry processes it. */
  release(key: string): void | Promise<void>;
}

/**
 * Options of {@link createMemoryNotificationDedupStore}.
 *
 * @example
 * ```ts
 * const options: MemoryNotificationDedupStoreOptions = { maxEntries: 50_000 };
 * ```
 */
export interface MemoryNotificationDedupStoreOptions {
  /** Most entries held. Default 100 000. */
  maxEntries?: number | undefined;
  /** The clock entries expire on, epoch ms. Default `Date.now`. */
  now?: (() => number) | undefined;
}

/**
 * The in-memory {@link NotificationDedupStore}: one process, bounded. An
 * entry lives until the `keepUntilMs` it was given (the verifier gives at
 * least the acceptance window); expired entries are dropped first when the
 * store is full. When it is full of live entries, `claim` refuses with
 * `rate_limited` (retryable): the sender retries later rather than an entry
 * being forgotten early, which would let an event be processed twice.
 *
 * @example
 * ```ts
 * const seen = createMemoryNotificationDedupStore({ maxEntries: 50_000 });
 * ```
 */
export function createMemoryNotificationDedupStore(options: MemoryNotificationDedupStoreOptions = {}): NotificationDedupStore {
  const maxEntries = options.maxEntries ?? 100_000;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw createError('configuration_invalid', 'maxEntries must be a positive integer');
  const now = options.now ?? Date.now;
  // Insertion order is claim order; `until` may differ per entry, so a sweep looks at all of them.
  const entries = new Map<string, { state: 'in_progress' | 'seen'; until: number }>();

  const sweep = (at: number) => {
    for (const [key, entry] of entries) if (entry.until <= at) entries.delete(key);
  };

  return {
    claim(key, keepUntilMs) {
      const at = now();
      const existing = entries.get(key);
      if (existing && existing.until > at) return existing.state;
      if (existing) entries.delete(key);
      if (entries.size >= maxEntries) sweep(at);
      if (entries.size >= maxEntries) {
        throw createError('rate_limited', 'The notification deduplication store is full; retry later');
      }
      entries.set(key, { state: 'in_progress', until: keepUntilMs });
      return 'new';
    },
    complete(key, keepUntilMs) {
      const entry = entries.get(key);
      entries.set(key, { state: 'seen', until: Math.max(keepUntilMs, entry?.until ?? 0) });
    },
    release(key) {
      if (entries.get(key)?.state === 'in_progress') entries.delete(key);
    },
  };
}
