// The deliveries of the SQLite store (see DeliveryStore): writes go to the
// writer thread (sqlite-deliveries-writer.mjs, in its batch transaction);
// reads, and the cheap check whether anything is due before a claim, use
// this thread's connection. Statements are prepared on first use.
import type Database from 'better-sqlite3';
import {
  type ClaimedDelivery,
  type DeliveryClaimInput,
  type DeliveryCompleteInput,
  type DeliveryFailInput,
  type DeliveryRedeliverInput,
  type DeliveryRedeliverOutcome,
  type DeliveryStore,
  checkClaimInput,
  eventBodyOf,
  deliveryError,
} from '../delivery-types.js';
import { type DeliveryRow, toDelivery } from '../rows.js';

/** The delivery operations the writer thread runs (see sqlite-writer.worker.mjs). */
export type SqliteDeliveryOp =
  | { op: 'dlvClaim'; input: DeliveryClaimInput }
  | { op: 'dlvComplete'; input: DeliveryCompleteInput }
  | { op: 'dlvFail'; input: DeliveryFailInput }
  | { op: 'dlvRedeliver'; input: DeliveryRedeliverInput };

/** What the SQLite store gives its deliveries: the read connection, its guard, and the writer queue. */
export interface SqliteDeliveriesContext {
  db: Database.Database;
  guard: <T>(fn: () => T) => T;
  enqueue: <T>(op: SqliteDeliveryOp) => Promise<T>;
}

/**
 * The {@link DeliveryStore} of the SQLite store.
 *
 * @example
 * ```ts
 * const deliveries = createSqliteDeliveries({ db, guard, enqueue });
 * ```
 */
export function createSqliteDeliveries({ db, guard, enqueue }: SqliteDeliveriesContext): DeliveryStore {
  let q:
    | {
        anyDue: Database.Statement<[number, number], { one: number }>;
        find: Database.Statement<[string, string], DeliveryRow>;
        stats: Database.Statement<[number], { pending: number; dead: number; oldest: number | null }>;
      }
    | undefined;
  const statements = () =>
    (q ??= {
      anyDue: db.prepare("SELECT 1 AS one FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?) LIMIT 1"),
      find: db.prepare('SELECT * FROM deliveries WHERE event_id = ? AND receiver = ?'),
      stats: db.prepare(
        `SELECT count(*) FILTER (WHERE state = 'pending') AS pending, count(*) FILTER (WHERE state = 'dead') AS dead,
           min(next_attempt_at) FILTER (WHERE state = 'pending' AND next_attempt_at <= ?) AS oldest
         FROM deliveries WHERE state IN ('pending', 'dead')`,
      ),
    });
  return {
    async claim(input) {
      const checked = checkClaimInput(input);
      // Nothing due: no write transaction at all (a poll of an idle outbox costs one indexed read).
      if (!guard(() => statements().anyDue.get(checked.nowMs, checked.nowMs))) return [];
      const leased = await enqueue<{ row: DeliveryRow; body: string }[]>({
        op: 'dlvClaim',
        input: { owner: checked.owner, nowMs: checked.nowMs, leaseMs: checked.leaseMs, limit: checked.limit },
      });
      return leased.map(({ row, body }): ClaimedDelivery => {
        const d = toDelivery(row);
        return { ...d, leaseOwner: checked.owner, leaseUntil: d.leaseUntil!, firstAttemptAt: d.firstAttemptAt!, event: eventBodyOf(body) };
      });
    },
    complete: (input) => enqueue<boolean>({ op: 'dlvComplete', input: { eventId: input.eventId, receiver: input.receiver, owner: input.owner, nowMs: input.nowMs } }),
    fail: (input) =>
      enqueue<boolean>({
        op: 'dlvFail',
        input: { eventId: input.eventId, receiver: input.receiver, owner: input.owner, nextAttemptAt: input.nextAttemptAt, error: deliveryError(input.error) },
      }),
    redeliver: (input) => enqueue<DeliveryRedeliverOutcome>({ op: 'dlvRedeliver', input: { eventId: input.eventId, receiver: input.receiver, nowMs: input.nowMs } }),
    async find(eventId, receiver) {
      return guard(() => {
        const row = statements().find.get(eventId, receiver);
        return row ? toDelivery(row) : undefined;
      });
    },
    async stats(nowMs) {
      return guard(() => {
        const row = statements().stats.get(nowMs)!;
        return { pending: row.pending, dead: row.dead, oldestDueAt: row.oldest };
      });
    },
  };
}
