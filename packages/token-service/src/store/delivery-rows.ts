// The `deliveries` row of the SQL stores (SQLite and PostgreSQL share its
// column names; see the outbox tables of schema 7) and its record.
import type { DeliveryRecord, DeliveryState, LifecycleEventBody } from './delivery-types.js';

/** A `deliveries` row (bigint columns may come as strings from some drivers). */
export interface DeliveryRow {
  event_id: string;
  receiver: string;
  token_reference_id: string;
  sequence: number | string;
  state: DeliveryState;
  attempts: number | string;
  next_attempt_at: number | string;
  lease_owner: string | null;
  lease_until: number | string | null;
  last_error: string | null;
  first_attempt_at: number | string | null;
  delivered_at: number | string | null;
}

const num = (v: number | string): number => Number(v);
const numOrNull = (v: number | string | null): number | null => (v === null ? null : Number(v));

export const toDelivery = (r: DeliveryRow): DeliveryRecord => ({
  eventId: r.event_id,
  receiver: r.receiver,
  tokenReferenceId: r.token_reference_id,
  sequence: num(r.sequence),
  state: r.state,
  attempts: num(r.attempts),
  nextAttemptAt: num(r.next_attempt_at),
  leaseOwner: r.lease_owner,
  leaseUntil: numOrNull(r.lease_until),
  lastError: r.last_error,
  firstAttemptAt: numOrNull(r.first_attempt_at),
  deliveredAt: numOrNull(r.delivered_at),
});

/** An `events.body` as read: JSON text (SQLite) or already parsed (PostgreSQL jsonb). */
export const toEventBody = (body: unknown): LifecycleEventBody => (typeof body === 'string' ? (JSON.parse(body) as LifecycleEventBody) : (body as LifecycleEventBody));
