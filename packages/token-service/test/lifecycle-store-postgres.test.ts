// The lifecycle contract on PostgreSQL (the run's cluster, one migrated
// database for the file, emptied by each harness when it first opens), and
// what only a shared database shows: two stores (two instances) racing on
// one token, and a change that fails inside its transaction leaving nothing.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { migratePostgres, openPostgresStore } from '../src/index.js';
import { testDatabaseUrl } from '../../../test/support/postgres';
import { describeLifecycleContract } from './lifecycle-store-contract.js';
import { makeCommit, makeToken, makeVault } from './store-contract.js';

async function sql(url: string, text: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

let database: Promise<string> | undefined;
const migrated = (): Promise<string> =>
  (database ??= (async () => {
    const url = await testDatabaseUrl();
    await migratePostgres(url);
    return url;
  })());
const TABLES = 'tokens, vault, replay, idempotency, idempotency_pending, rate_limits, verification_codes, token_history, events, deliveries';

describeLifecycleContract('postgres', () => {
  let emptied = false;
  return {
    async open() {
      const url = await migrated();
      if (!emptied) {
        await sql(url, `TRUNCATE ${TABLES}`);
        emptied = true;
      }
      return openPostgresStore(url, { max: 4 });
    },
  };
});

describe('PostgreSQL lifecycle across instances', () => {
  it('lets exactly one of many racing suspends and deletes on two stores win, with one event per winner', async () => {
    const url = await migrated();
    const [one, two] = [await openPostgresStore(url, { max: 8 }), await openPostgresStore(url, { max: 8 })];
    try {
      for (let round = 0; round < 5; round++) {
        const token = makeToken();
        expect(await one.commit(makeCommit({ issuance: { token, vault: makeVault(token) } }))).toEqual({ ok: true });
        const change = (to: 'suspended' | 'deleted', i: number) => ({
          tokenReferenceId: token.tokenReferenceId,
          from: ['active'] as ('active' | 'suspended')[],
          to,
          type: to === 'deleted' ? ('token.deleted' as const) : ('token.suspended' as const),
          actor: 'issuer' as const,
          reason: 'card_lost' as const,
          nowMs: 10_000 + i,
        });
        const outcomes = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? one : two).lifecycle.transition(change(i % 4 < 2 ? 'suspended' : 'deleted', i))));
        const winners = outcomes.filter((o) => o.ok);
        expect(winners).toHaveLength(1);
        expect(outcomes.filter((o) => !o.ok && o.conflict === 'state')).toHaveLength(7);
        const events = await two.events.ofToken(token.tokenReferenceId);
        expect(events.map((e) => e.sequence)).toEqual([1, 2]);
        expect(await one.events.deliveriesOf(events[1]!.eventId)).toHaveLength(2);
        expect((await one.tokens.find(token.tokenReferenceId))?.status).toBe(winners[0]!.ok ? winners[0]!.status : undefined);
      }
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it('writes no status, history, event or delivery when the change fails inside its transaction', async () => {
    const url = await migrated();
    const store = await openPostgresStore(url, { max: 2 });
    try {
      const token = makeToken();
      await store.commit(makeCommit({ issuance: { token, vault: makeVault(token) } }));
      const [created] = await store.events.ofToken(token.tokenReferenceId);
      // A CHECK refuses the wallet's delivery of this token's next event: that insert fails last, after the
      // status, the history row, the event and the issuer's delivery were written in the same transaction.
      await sql(url, `ALTER TABLE deliveries ADD CONSTRAINT lifecycle_test_refuse CHECK (NOT (token_reference_id = '${token.tokenReferenceId}' AND sequence = 2 AND receiver LIKE 'wallet:%'))`);
      try {
        await expect(
          store.lifecycle.transition({ tokenReferenceId: token.tokenReferenceId, from: ['active'], to: 'suspended', type: 'token.suspended', actor: 'issuer', reason: 'other', nowMs: 9_000 }),
        ).rejects.toMatchObject({ code: 'internal_error' });
      } finally {
        await sql(url, 'ALTER TABLE deliveries DROP CONSTRAINT lifecycle_test_refuse');
      }
      expect((await store.tokens.find(token.tokenReferenceId))?.status).toBe('active');
      expect(await store.lifecycle.history(token.tokenReferenceId)).toHaveLength(1);
      expect((await store.events.ofToken(token.tokenReferenceId)).map((e) => e.eventId)).toEqual([created!.eventId]);
      expect(await sql(url, 'SELECT count(*)::int AS n FROM deliveries WHERE token_reference_id = $1', [token.tokenReferenceId])).toEqual([{ n: 2 }]);
    } finally {
      await store.close();
    }
  });
});
