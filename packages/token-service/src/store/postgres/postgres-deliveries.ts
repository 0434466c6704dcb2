// The deliveries of the PostgreSQL store (see DeliveryStore), one statement
// (one round trip, its own transaction) per operation. A claim locks the
// due rows it takes with FOR UPDATE SKIP LOCKED, so concurrent claims of
// several instances never take the same delivery, and it takes a lease: a
// row whose lease ran out (its instance died) is due again.
import type pg from 'pg';
import { type DeliveryStore, checkClaimInput, deliveryError, eventBodyOf } from '../delivery-types.js';
import { type DeliveryRow, toDelivery } from '../rows.js';

/** The store's query function (one round trip, named statements). */
export type PostgresQuery = <R extends pg.QueryResultRow>(operation: string, statement: { name: string; text: string }, values?: unknown[]) => Promise<pg.QueryResult<R>>;

const Q = {
  // The first pending sequence of each (receiver, token) only (order per token), due, unleased.
  claim: {
    name: 'pushprov_delivery_claim',
    text: `WITH due AS (
        SELECT d.event_id, d.receiver FROM deliveries d
        WHERE d.state = 'pending' AND d.next_attempt_at <= $1::bigint AND (d.lease_until IS NULL OR d.lease_until <= $1::bigint)
          AND NOT EXISTS (
            SELECT 1 FROM deliveries e
            WHERE e.receiver = d.receiver AND e.token_reference_id = d.token_reference_id AND e.sequence < d.sequence AND e.state = 'pending')
        ORDER BY d.next_attempt_at, d.sequence
        LIMIT $2
        FOR UPDATE OF d SKIP LOCKED)
      UPDATE deliveries AS t
        SET lease_owner = $3, lease_until = $1::bigint + $4::bigint, attempts = t.attempts + 1, first_attempt_at = COALESCE(t.first_attempt_at, $1::bigint)
      FROM due WHERE t.event_id = due.event_id AND t.receiver = due.receiver
      RETURNING t.*, (SELECT ev.body FROM events ev WHERE ev.event_id = t.event_id) AS body`,
  },
  complete: {
    name: 'pushprov_delivery_complete',
    text: `UPDATE deliveries SET state = 'delivered', delivered_at = $4::bigint, lease_owner = NULL, lease_until = NULL, last_error = NULL
      WHERE event_id = $1 AND receiver = $2 AND lease_owner = $3 AND state = 'pending'`,
  },
  fail: {
    name: 'pushprov_delivery_fail',
    text: `UPDATE deliveries SET state = CASE WHEN $4::bigint IS NULL THEN 'dead' ELSE 'pending' END,
        next_attempt_at = COALESCE($4::bigint, next_attempt_at), lease_owner = NULL, lease_until = NULL, last_error = $5
      WHERE event_id = $1 AND receiver = $2 AND lease_owner = $3 AND state = 'pending'`,
  },
  // The CTE's SELECT reads the row as it was (the statement's snapshot): the state before.
  redeliver: {
    name: 'pushprov_delivery_redeliver',
    text: `WITH old AS (SELECT state FROM deliveries WHERE event_id = $1 AND receiver = $2 FOR UPDATE),
        upd AS (UPDATE deliveries SET state = 'pending', next_attempt_at = $3::bigint, attempts = 0, first_attempt_at = NULL, delivered_at = NULL,
            lease_owner = NULL, lease_until = NULL
          WHERE event_id = $1 AND receiver = $2 AND state <> 'pending' RETURNING 1)
      SELECT state FROM old`,
  },
  find: { name: 'pushprov_delivery_find', text: 'SELECT * FROM deliveries WHERE event_id = $1 AND receiver = $2' },
  stats: {
    name: 'pushprov_delivery_stats',
    text: `SELECT count(*) FILTER (WHERE state = 'pending') AS pending, count(*) FILTER (WHERE state = 'dead') AS dead,
        min(next_attempt_at) FILTER (WHERE state = 'pending' AND next_attempt_at <= $1::bigint) AS oldest
      FROM deliveries WHERE state IN ('pending', 'dead')`,
  },
} as const;

/**
 * The {@link DeliveryStore} of the PostgreSQL store.
 *
 * @example
 * ```ts
 * const deliveries = createPostgresDeliveries(query);
 * ```
 */
export function createPostgresDeliveries(query: PostgresQuery): DeliveryStore {
  return {
    async claim(input) {
      const { owner, nowMs, leaseMs, limit } = checkClaimInput(input);
      const rows = (await query<DeliveryRow & { body: unknown }>('deliveries.claim', Q.claim, [nowMs, limit, owner, leaseMs])).rows;
      return rows
        .filter((r) => r.body !== null && r.body !== undefined)
        .map((r) => {
          const d = toDelivery(r);
          return { ...d, leaseOwner: owner, leaseUntil: d.leaseUntil!, firstAttemptAt: d.firstAttemptAt!, event: eventBodyOf(r.body) };
        })
        .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.sequence - b.sequence);
    },
    async complete(input) {
      return (await query('deliveries.complete', Q.complete, [input.eventId, input.receiver, input.owner, input.nowMs])).rowCount === 1;
    },
    async fail(input) {
      return (await query('deliveries.fail', Q.fail, [input.eventId, input.receiver, input.owner, input.nextAttemptAt, deliveryError(input.error)])).rowCount === 1;
    },
    async redeliver(input) {
      const row = (await query<{ state: DeliveryRow['state'] }>('deliveries.redeliver', Q.redeliver, [input.eventId, input.receiver, input.nowMs])).rows[0];
      return row ? { found: true, previousState: row.state } : { found: false };
    },
    async find(eventId, receiver) {
      const row = (await query<DeliveryRow>('deliveries.find', Q.find, [eventId, receiver])).rows[0];
      return row ? toDelivery(row) : undefined;
    },
    async stats(nowMs) {
      const row = (await query<{ pending: number | string; dead: number | string; oldest: number | string | null }>('deliveries.stats', Q.stats, [nowMs])).rows[0]!;
      return { pending: Number(row.pending), dead: Number(row.dead), oldestDueAt: row.oldest === null ? null : Number(row.oldest) };
    },
  };
}
