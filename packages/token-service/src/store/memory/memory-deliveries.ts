// The deliveries of the in-memory store (see DeliveryStore): the same rules
// as the SQL stores, over the memory store's outbox rows. Every operation
// is synchronous inside (no await between its check and its write), so it
// is atomic in one process.
import {
  type ClaimedDelivery,
  type DeliveryRecord,
  type DeliveryStore,
  type LifecycleEventBody,
  checkClaimInput,
  deliveryError,
} from '../delivery-types.js';

/** The memory store's outbox, as the deliveries read and change it (the records themselves, not copies). */
export interface MemoryOutboxAccess {
  /** Every delivery row. */
  deliveries(): Iterable<DeliveryRecord>;
  /** One delivery row. */
  delivery(eventId: string, receiver: string): DeliveryRecord | undefined;
  /** The body of an event. */
  eventBody(eventId: string): LifecycleEventBody | undefined;
}

const orderKey = (d: DeliveryRecord): string => JSON.stringify([d.receiver, d.tokenReferenceId]);

/**
 * The {@link DeliveryStore} of the memory store over its outbox rows.
 *
 * @example
 * ```ts
 * const deliveries = createMemoryDeliveries(outbox, open);
 * ```
 */
export function createMemoryDeliveries(outbox: MemoryOutboxAccess, open: () => void): DeliveryStore {
  const holds = (d: DeliveryRecord | undefined, owner: string): d is DeliveryRecord => d !== undefined && d.state === 'pending' && d.leaseOwner === owner;
  return {
    async claim(input) {
      open();
      const { owner, nowMs, leaseMs, limit } = checkClaimInput(input);
      // The first pending sequence of each (receiver, token): only it may go.
      const first = new Map<string, DeliveryRecord>();
      for (const d of outbox.deliveries()) {
        if (d.state !== 'pending') continue;
        const key = orderKey(d);
        const seen = first.get(key);
        if (!seen || d.sequence < seen.sequence) first.set(key, d);
      }
      const due = [...first.values()]
        .filter((d) => d.nextAttemptAt <= nowMs && (d.leaseUntil === null || d.leaseUntil <= nowMs))
        .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.sequence - b.sequence)
        .slice(0, limit);
      const claimed: ClaimedDelivery[] = [];
      for (const d of due) {
        const event = outbox.eventBody(d.eventId);
        if (!event) continue;
        d.leaseOwner = owner;
        d.leaseUntil = nowMs + leaseMs;
        d.attempts += 1;
        d.firstAttemptAt ??= nowMs;
        claimed.push({ ...d, leaseOwner: owner, leaseUntil: d.leaseUntil, firstAttemptAt: d.firstAttemptAt, event: structuredClone(event) });
      }
      return claimed;
    },
    async complete(input) {
      open();
      const d = outbox.delivery(input.eventId, input.receiver);
      if (!holds(d, input.owner)) return false;
      d.state = 'delivered';
      d.deliveredAt = input.nowMs;
      d.leaseOwner = null;
      d.leaseUntil = null;
      d.lastError = null;
      return true;
    },
    async fail(input) {
      open();
      const d = outbox.delivery(input.eventId, input.receiver);
      if (!holds(d, input.owner)) return false;
      if (input.nextAttemptAt === null) d.state = 'dead';
      else d.nextAttemptAt = input.nextAttemptAt;
      d.leaseOwner = null;
      d.leaseUntil = null;
      d.lastError = deliveryError(input.error);
      return true;
    },
    async redeliver(input) {
      open();
      const d = outbox.delivery(input.eventId, input.receiver);
      if (!d) return { found: false };
      const previousState = d.state;
      if (d.state !== 'pending') {
        d.state = 'pending';
        d.nextAttemptAt = input.nowMs;
        d.attempts = 0;
        d.firstAttemptAt = null;
        d.deliveredAt = null;
        d.leaseOwner = null;
        d.leaseUntil = null;
      }
      return { found: true, previousState };
    },
    async find(eventId, receiver) {
      open();
      const d = outbox.delivery(eventId, receiver);
      return d === undefined ? undefined : { ...d };
    },
    async stats(nowMs) {
      open();
      let pending = 0;
      let dead = 0;
      let oldestDueAt: number | null = null;
      for (const d of outbox.deliveries()) {
        if (d.state === 'dead') dead++;
        if (d.state !== 'pending') continue;
        pending++;
        if (d.nextAttemptAt <= nowMs && (oldestDueAt === null || d.nextAttemptAt < oldestDueAt)) oldestDueAt = d.nextAttemptAt;
      }
      return { pending, dead, oldestDueAt };
    },
  };
}
