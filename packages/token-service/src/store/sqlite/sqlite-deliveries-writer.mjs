// The writer thread's delivery operations (see ../delivery-types.ts and
// sqlite-writer.worker.mjs): claim, complete, fail, redeliver, each run in
// the writer's batch transaction (BEGIN IMMEDIATE: one writer at a time
// across every process on the file, so two claims never take one delivery).
// Statements are prepared on first use.
//
// Plain JavaScript, like the worker that imports it (tsup copies both).

/** The delivery operations over the writer's connection. */
export function createDeliveryWriter(db) {
  let q;
  const statements = () =>
    (q ??= {
      // The first pending sequence of each (receiver, token) only (order per token), due, unleased.
      due: db.prepare(
        `SELECT d.event_id, d.receiver FROM deliveries d
         WHERE d.state = 'pending' AND d.next_attempt_at <= @nowMs AND (d.lease_until IS NULL OR d.lease_until <= @nowMs)
           AND NOT EXISTS (
             SELECT 1 FROM deliveries e
             WHERE e.receiver = d.receiver AND e.token_reference_id = d.token_reference_id AND e.sequence < d.sequence AND e.state = 'pending')
         ORDER BY d.next_attempt_at, d.sequence
         LIMIT @limit`,
      ),
      lease: db.prepare(
        `UPDATE deliveries SET lease_owner = @owner, lease_until = @leaseUntil, attempts = attempts + 1, first_attempt_at = COALESCE(first_attempt_at, @nowMs)
         WHERE event_id = @eventId AND receiver = @receiver
         RETURNING *`,
      ),
      body: db.prepare('SELECT body FROM events WHERE event_id = ?'),
      complete: db.prepare(
        `UPDATE deliveries SET state = 'delivered', delivered_at = @nowMs, lease_owner = NULL, lease_until = NULL, last_error = NULL
         WHERE event_id = @eventId AND receiver = @receiver AND lease_owner = @owner AND state = 'pending'`,
      ),
      fail: db.prepare(
        `UPDATE deliveries SET state = CASE WHEN @nextAttemptAt IS NULL THEN 'dead' ELSE 'pending' END,
           next_attempt_at = COALESCE(@nextAttemptAt, next_attempt_at), lease_owner = NULL, lease_until = NULL, last_error = @error
         WHERE event_id = @eventId AND receiver = @receiver AND lease_owner = @owner AND state = 'pending'`,
      ),
      state: db.prepare('SELECT state FROM deliveries WHERE event_id = ? AND receiver = ?'),
      redeliver: db.prepare(
        `UPDATE deliveries SET state = 'pending', next_attempt_at = @nowMs, attempts = 0, first_attempt_at = NULL, delivered_at = NULL,
           lease_owner = NULL, lease_until = NULL
         WHERE event_id = @eventId AND receiver = @receiver AND state <> 'pending'`,
      ),
    });
  return {
    /** Leases due deliveries; returns the leased rows, each with its event's body (JSON text). */
    claim(input) {
      const s = statements();
      const leaseUntil = input.nowMs + input.leaseMs;
      const out = [];
      for (const { event_id: eventId, receiver } of s.due.all({ nowMs: input.nowMs, limit: input.limit })) {
        const event = s.body.get(eventId);
        if (!event) continue;
        const row = s.lease.get({ owner: input.owner, leaseUntil, nowMs: input.nowMs, eventId, receiver });
        out.push({ row, body: event.body });
      }
      return out;
    },
    complete(input) {
      return statements().complete.run({ eventId: input.eventId, receiver: input.receiver, owner: input.owner, nowMs: input.nowMs }).changes === 1;
    },
    fail(input) {
      return (
        statements().fail.run({ eventId: input.eventId, receiver: input.receiver, owner: input.owner, nextAttemptAt: input.nextAttemptAt, error: input.error })
          .changes === 1
      );
    },
    redeliver(input) {
      const s = statements();
      const found = s.state.get(input.eventId, input.receiver);
      if (!found) return { found: false };
      s.redeliver.run({ eventId: input.eventId, receiver: input.receiver, nowMs: input.nowMs });
      return { found: true, previousState: found.state };
    },
  };
}
