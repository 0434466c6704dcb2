// The dispatcher's view of the outbox (spec section 14): the `deliveries`
// rows a lifecycle change writes (one per receiver, in the change's
// transaction), claimed with a lease, then completed, retried or
// dead-lettered. Only the dispatcher and the redeliver API change them.
import type { LifecycleEventBody, OutboxDelivery } from './types.js';

export type { LifecycleEventBody } from './types.js';

/** A delivery's state: `pending` (to send, maybe leased), `delivered` (a 2xx came back), `dead` (given up; redeliver to retry). */
export type DeliveryState = OutboxDelivery['state'];

/** One `deliveries` row (see {@link OutboxDelivery}). Times are milliseconds since the epoch. */
export type DeliveryRecord = OutboxDelivery;

/** A delivery claimed by {@link DeliveryStore.claim}: the row as leased, and the event it carries. */
export interface ClaimedDelivery extends DeliveryRecord {
  leaseOwner: string;
  leaseUntil: number;
  firstAttemptAt: number;
  /** The event (the `events` row's body). */
  event: LifecycleEventBody;
}

/** Input of {@link DeliveryStore.claim}. */
export interface DeliveryClaimInput {
  /** Who claims (an id of this dispatcher, unique per process). */
  owner: string;
  nowMs: number;
  /** The lease: the deliveries are this owner's until `nowMs + leaseMs`. */
  leaseMs: number;
  /** At most this many (1 to 1 000). */
  limit: number;
}

/** Input of {@link DeliveryStore.complete}. */
export interface DeliveryCompleteInput {
  eventId: string;
  receiver: string;
  owner: string;
  nowMs: number;
}

/** Input of {@link DeliveryStore.fail}. */
export interface DeliveryFailInput {
  eventId: string;
  receiver: string;
  owner: string;
  /** When to try again (ms since the epoch); null: give up, the delivery becomes `dead`. */
  nextAttemptAt: number | null;
  /** Why, short and free of secrets (`http 500`, `timeout`, `no endpoint`, …). */
  error: string;
}

/** Input of {@link DeliveryStore.redeliver}. */
export interface DeliveryRedeliverInput {
  eventId: string;
  receiver: string;
  nowMs: number;
}

/** What {@link DeliveryStore.redeliver} found: the delivery's state before (absent: no such delivery). */
export type DeliveryRedeliverOutcome = { found: false } | { found: true; previousState: DeliveryState };

/** Counts of the outbox, for the metrics (`notification_deliveries{state}`, the oldest due delivery). */
export interface DeliveryStats {
  pending: number;
  dead: number;
  /** The `nextAttemptAt` of the oldest pending delivery that is due at `nowMs`, or null. */
  oldestDueAt: number | null;
}

/**
 * The deliveries of the outbox, for the dispatcher. Every operation is
 * atomic across every process sharing the store:
 *
 * - `claim` leases due deliveries (pending, `nextAttemptAt` reached, no live
 *   lease) whose earlier sequences for the same receiver and token are all
 *   delivered or dead (order per token), counts the attempt and records the
 *   first one's time. Of concurrent claims, each delivery goes to one owner
 *   (PostgreSQL: `FOR UPDATE SKIP LOCKED`); a lease that ran out (its owner
 *   died) lets another owner claim it.
 * - `complete` and `fail` apply only while `owner` still holds the lease
 *   (false otherwise: another owner took it over).
 * - `redeliver` puts a dead (or delivered) delivery back to pending, due now,
 *   with its attempts and first attempt time reset.
 */
export interface DeliveryStore {
  claim(input: DeliveryClaimInput): Promise<ClaimedDelivery[]>;
  complete(input: DeliveryCompleteInput): Promise<boolean>;
  fail(input: DeliveryFailInput): Promise<boolean>;
  redeliver(input: DeliveryRedeliverInput): Promise<DeliveryRedeliverOutcome>;
  /** One delivery, or undefined. */
  find(eventId: string, receiver: string): Promise<DeliveryRecord | undefined>;
  /** Counts for the metrics. */
  stats(nowMs: number): Promise<DeliveryStats>;
}

/** Checks a claim's numbers (a programming error otherwise). */
export function checkClaimInput(input: DeliveryClaimInput): DeliveryClaimInput {
  if (!Number.isInteger(input.limit) || input.limit < 1 || input.limit > 1000) throw new RangeError('claim limit must be an integer from 1 to 1000');
  if (!Number.isFinite(input.nowMs) || !Number.isInteger(input.leaseMs) || input.leaseMs < 1) throw new RangeError('claim nowMs and leaseMs must be numbers');
  if (typeof input.owner !== 'string' || input.owner.length === 0 || input.owner.length > 128) throw new RangeError('claim owner must be 1-128 characters');
  return input;
}

/** A delivery error as stored: at most 200 characters. */
export const deliveryError = (error: string): string => error.slice(0, 200);

/** An `events.body` as a driver reads it: JSON text (SQLite) or already parsed (PostgreSQL jsonb). */
export const eventBodyOf = (body: unknown): LifecycleEventBody => (typeof body === 'string' ? (JSON.parse(body) as LifecycleEventBody) : (body as LifecycleEventBody));
