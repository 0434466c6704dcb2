// The PostgreSQL store against real servers: the shared contract, then what
// only PostgreSQL has (migrations, several pools on one database, round
// trips, a server that stops, restarts or drops a connection mid-commit).
// The run's cluster comes from test/setup/postgres.global.ts; tests that stop
// their server start one of their own. No PostgreSQL, no pass: these fail.
import { createServer, connect, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InternalError } from '@pushprov/protocol';
import { POSTGRES_SCHEMA_VERSION, migratePostgres, openPostgresStore, type PostgresStoreOptions, type TokenServiceStore } from '../src/index.js';
import { POSTGRES_MIGRATIONS, SLOT_LOCK_CLASS } from '../src/store/postgres/migrations.js';
import { startPgCluster, type LocalPgCluster } from '../../../scripts/lib/pg-cluster.mjs';
import { testDatabaseUrl } from '../../../test/support/postgres';
import { describeStoreContract, makeBegin, makeCommit, makeIdempotency, makeToken, makeVault, stored } from './store-contract.js';

async function sql<R extends pg.QueryResultRow = Record<string, unknown>>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A fresh database at the latest schema version. */
async function migratedDatabase(): Promise<string> {
  const url = await testDatabaseUrl();
  await migratePostgres(url);
  return url;
}

async function counts(store: TokenServiceStore) {
  return {
    tokens: await store.tokens.count(),
    vault: await store.vault.count(),
    replay: await store.replay.count(),
    idempotency: await store.idempotency.count(),
  };
}

/** What a store failure must look like: our code, the driver's error as cause only, none of its message in ours. */
async function expectStoreError(promise: Promise<unknown>, code: 'store_unavailable' | 'configuration_invalid' | 'internal_error'): Promise<InternalError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InternalError);
  const failure = error as InternalError;
  expect(failure.code).toBe(code);
  const cause = failure.cause;
  if (cause instanceof Error && cause.message.length > 0) expect(failure.message).not.toContain(cause.message);
  return failure;
}

/** The backend of the session whose statement matches, once it waits on a lock. */
async function waitingBackend(url: string, statement: string): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const rows = await sql<{ pid: number }>(
      url,
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE $1 AND pid <> pg_backend_pid()",
      [`%${statement}%`],
    );
    if (rows[0]) return rows[0].pid;
    if (Date.now() > deadline) throw new Error(`no backend waiting in ${statement}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A session of its own holding a lock, until released. */
async function holdLock(url: string, statement: string, values: unknown[] = []): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  await client.query('BEGIN');
  await client.query(statement, values);
  return {
    async release() {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

/**
 * A TCP proxy to the database. Once armed, at the first query that calls
 * pushprov_commit, it either drops the connection instead of passing the
 * answer on (`drop`), or passes nothing back any more (`swallow`).
 */
async function startProxy(databaseUrl: string, mode: 'drop' | 'swallow') {
  const target = new URL(databaseUrl);
  let armed = false;
  let commitSeen = false;
  let tripped = false;
  const sockets = new Set<Socket>();
  const proxy: Server = createServer((client) => {
    const server = connect(Number(target.port), target.hostname);
    sockets.add(client).add(server);
    let silent = false;
    const close = () => {
      client.destroy();
      server.destroy();
    };
    client.on('error', close).on('close', close);
    server.on('error', close).on('close', close);
    client.on('data', (chunk: Buffer) => {
      if (armed && !tripped && chunk.includes('pushprov_commit')) commitSeen = true;
      server.write(chunk);
    });
    server.on('data', (chunk: Buffer) => {
      if (silent) return;
      if (commitSeen && !tripped) {
        tripped = true;
        if (mode === 'drop') close();
        else silent = true;
        return;
      }
      client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const proxied = new URL(databaseUrl);
  proxied.port = String((proxy.address() as { port: number }).port);
  return {
    url: proxied.toString(),
    arm: () => {
      armed = true;
    },
    tripped: () => tripped,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    },
  };
}

// ---------------------------------------------------------------------------
// The contract, on one migrated database per file: each harness empties it
// when it first opens (a reopen of the same harness keeps everything).
// ---------------------------------------------------------------------------
let contractDatabase: Promise<string> | undefined;
describeStoreContract(
  'postgres',
  () => {
    let emptied = false;
    return {
      async open() {
        contractDatabase ??= migratedDatabase();
        const url = await contractDatabase;
        if (!emptied) {
          await sql(url, 'TRUNCATE tokens, vault, replay, idempotency, idempotency_pending, rate_limits, verification_codes');
          emptied = true;
        }
        return openPostgresStore(url, { max: 4 });
      },
    };
  },
  { durable: true },
);

describe('PostgreSQL store: migrations', () => {
  it('brings an empty database to the latest version, recording each version, and applies nothing the second time', async () => {
    const url = await testDatabaseUrl();
    expect(POSTGRES_SCHEMA_VERSION).toBe(POSTGRES_MIGRATIONS.length);
    expect(POSTGRES_MIGRATIONS.map((m) => m.version)).toEqual(POSTGRES_MIGRATIONS.map((_, i) => i + 1));
    expect(await migratePostgres(url)).toEqual({ from: 0, to: POSTGRES_SCHEMA_VERSION });
    const versions = await sql<{ version: number; applied: boolean }>(url, 'SELECT version, applied_at IS NOT NULL AS applied FROM pushprov_schema_migrations ORDER BY version');
    expect(versions).toEqual(POSTGRES_MIGRATIONS.map((m) => ({ version: m.version, applied: true })));
    const tables = await sql<{ t: string }>(url, "SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1");
    expect(tables.map((r) => r.t)).toEqual([
      'deliveries',
      'events',
      'idempotency',
      'idempotency_pending',
      'meta',
      'pushprov_schema_migrations',
      'rate_limits',
      'replay',
      'token_history',
      'tokens',
      'vault',
      'verification_codes',
    ]);
    const functions = await sql<{ f: string }>(url, "SELECT proname AS f FROM pg_proc WHERE proname LIKE 'pushprov\\_%' ORDER BY 1");
    expect(functions.map((r) => r.f)).toEqual([
      'pushprov_begin',
      'pushprov_commit',
      'pushprov_commit_recorded',
      'pushprov_record_change',
      'pushprov_refuse',
      'pushprov_transition',
      'pushprov_verification_activate',
      'pushprov_verification_activate_recorded',
      'pushprov_verification_attempt',
      'pushprov_verification_expire',
      'pushprov_verification_issue',
    ]);
    expect(await migratePostgres(url)).toEqual({ from: POSTGRES_SCHEMA_VERSION, to: POSTGRES_SCHEMA_VERSION });
    const store = await openPostgresStore(url);
    await store.ping();
    await store.close();
  });

  it('brings an older schema forward, keeping its rows', async () => {
    const url = await testDatabaseUrl();
    await sql(url, 'CREATE TABLE pushprov_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    await sql(url, POSTGRES_MIGRATIONS[0]!.sql);
    await sql(url, 'INSERT INTO pushprov_schema_migrations (version) VALUES (1)');
    await sql(url, "INSERT INTO replay (key, expires_at) VALUES ('kept', 5)");
    expect(await migratePostgres(url)).toEqual({ from: 1, to: POSTGRES_SCHEMA_VERSION });
    const store = await openPostgresStore(url);
    expect(await store.replay.has('kept')).toBe(true);
    await store.close();
  });

  it('brings a version 5 schema to 6: tokens gain account_id and pan_last4 (null on old rows), indexed by (issuer_id, account_id)', async () => {
    const url = await testDatabaseUrl();
    await sql(url, 'CREATE TABLE pushprov_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    for (const migration of POSTGRES_MIGRATIONS.slice(0, 5)) {
      await sql(url, migration.sql);
      await sql(url, `INSERT INTO pushprov_schema_migrations (version) VALUES (${migration.version})`);
    }
    await sql(
      url,
      "INSERT INTO tokens (token_reference_id, token_number_hash, sealed_token_number, token_last4, expiry_month, expiry_year, status, issuer_id, wallet_provider_id, wallet_account_id, device_id, created_at, updated_at) VALUES ('tok_v5', 'h', 's', '1234', 1, 2030, 'active', 'bank-a', 'wallet-co', 'user-1', 'device-1', 1, 1)",
    );
    expect(await migratePostgres(url)).toEqual({ from: 5, to: POSTGRES_SCHEMA_VERSION });
    expect(
      await sql(url, "SELECT indexdef LIKE '%(issuer_id, account_id)%' AS indexed FROM pg_indexes WHERE tablename = 'tokens' AND indexname = 'tokens_issuer_account'"),
    ).toEqual([{ indexed: true }]);
    const store = await openPostgresStore(url);
    const old = await store.tokens.find('tok_v5');
    expect(old).toMatchObject({ tokenReferenceId: 'tok_v5', status: 'active' });
    expect(old).not.toHaveProperty('accountId');
    expect(old).not.toHaveProperty('panLast4');
    await store.close();
  });

  it('lets two instances migrate at once: one applies everything, the other nothing, no error', async () => {
    const url = await testDatabaseUrl();
    const results = await Promise.all([migratePostgres(url), migratePostgres(url), migratePostgres(url)]);
    expect(results.filter((r) => r.from === 0)).toEqual([{ from: 0, to: POSTGRES_SCHEMA_VERSION }]);
    expect(results.filter((r) => r.from === POSTGRES_SCHEMA_VERSION)).toHaveLength(2);
    expect(await sql(url, 'SELECT count(*)::int AS n FROM pushprov_schema_migrations')).toEqual([{ n: POSTGRES_SCHEMA_VERSION }]);
  });

  it('refuses to open a database that was never migrated, and does not migrate it', async () => {
    const url = await testDatabaseUrl();
    const error = await expectStoreError(openPostgresStore(url), 'configuration_invalid');
    expect(error.message).toBe(`The PostgreSQL schema is at version 0; this token service needs ${POSTGRES_SCHEMA_VERSION}: run \`token-service migrate --store <url>\``);
    expect(await sql(url, "SELECT to_regclass('pushprov_schema_migrations') IS NULL AS absent")).toEqual([{ absent: true }]);
  });

  it('refuses to open an older schema', async () => {
    const url = await testDatabaseUrl();
    await sql(url, 'CREATE TABLE pushprov_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    await sql(url, POSTGRES_MIGRATIONS[0]!.sql);
    await sql(url, 'INSERT INTO pushprov_schema_migrations (version) VALUES (1)');
    const error = await expectStoreError(openPostgresStore(url), 'configuration_invalid');
    expect(error.message).toContain(`at version 1; this token service needs ${POSTGRES_SCHEMA_VERSION}`);
  });

  it('refuses a newer schema, to open and to migrate, and leaves it as it is', async () => {
    const url = await migratedDatabase();
    const newer = POSTGRES_SCHEMA_VERSION + 1;
    await sql(url, 'INSERT INTO pushprov_schema_migrations (version) VALUES ($1)', [newer]);
    const opened = await expectStoreError(openPostgresStore(url), 'configuration_invalid');
    expect(opened.message).toContain(`version ${newer}, newer than this token service (${POSTGRES_SCHEMA_VERSION})`);
    await expectStoreError(migratePostgres(url), 'configuration_invalid');
    expect(await sql(url, 'SELECT max(version) AS v FROM pushprov_schema_migrations')).toEqual([{ v: newer }]);
  });

  it('enforces the guarantees in the schema itself: unique token number hash, one card per wallet account and device, checks', async () => {
    const url = await migratedDatabase();
    const store = await openPostgresStore(url);
    const first = makeCommit();
    await store.commit(first);
    await store.close();
    const t = first.issuance!.token;
    const insertToken = (ref: string, hash: string, last4 = '1234') =>
      sql(
        url,
        `INSERT INTO tokens (token_reference_id, token_number_hash, sealed_token_number, token_last4, expiry_month, expiry_year, status,
          issuer_id, wallet_provider_id, wallet_account_id, device_id, created_at, updated_at) VALUES ($1, $2, 's', $3, 1, 2030, 'active', 'i', 'w', 'a', 'd', 1, 1)`,
        [ref, hash, last4],
      );
    await expect(insertToken('tok_other', t.tokenNumberHash)).rejects.toMatchObject({ code: '23505' });
    await expect(insertToken('tok_short', 'fresh-hash', '12')).rejects.toMatchObject({ code: '23514' });
    const v = first.issuance!.vault;
    await insertToken('tok_second', 'second-hash');
    await expect(
      sql(url, "INSERT INTO vault VALUES ('tok_second', $1, $2, $3, $4, 'c', '1111', 1)", [v.panFingerprint, v.walletProviderId, v.walletAccountId, v.deviceId]),
    ).rejects.toMatchObject({ code: '23505' });
    // A vault entry belongs to a token.
    await expect(sql(url, "INSERT INTO vault VALUES ('tok_missing', 'fp', 'w', 'a', 'd', 'c', '1111', 1)")).rejects.toMatchObject({ code: '23503' });
  });
});

describe('PostgreSQL store: several instances on one database', () => {
  let url: string;
  let a: TokenServiceStore;
  let b: TokenServiceStore;
  beforeAll(async () => {
    url = await migratedDatabase();
    a = await openPostgresStore(url, { max: 10, applicationName: 'pushprov-test-a' });
    b = await openPostgresStore(url, { max: 10, applicationName: 'pushprov-test-b' });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });
  const either = (i: number) => (i % 2 === 0 ? a : b);

  it('gives exactly one of 20 concurrent begins of one key, across two pools, the start', async () => {
    const base = makeBegin();
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => either(i).idempotency.begin({ ...base, leaseId: `racer-${i}` })));
    expect(outcomes.filter((o) => o.state === 'started')).toHaveLength(1);
    expect(outcomes.filter((o) => o.state === 'in_flight')).toHaveLength(19);
  });

  it('gives exactly one of 20 concurrent takeovers of an expired lease the start', async () => {
    const base = makeBegin({ nowMs: 1_000, leaseMs: 1_000 });
    await a.idempotency.begin(base);
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => either(i).idempotency.begin({ ...base, leaseId: `taker-${i}`, nowMs: 5_000 })));
    expect(outcomes.filter((o) => o.state === 'started')).toHaveLength(1);
  });

  it('commits exactly one of 20 concurrent commits with one replay key, across two pools', async () => {
    const before = await counts(a);
    const jti = `shared-jti-${Date.now()}`;
    const inputs = Array.from({ length: 20 }, () => makeCommit({ replay: [{ key: jti, expiresAt: 9_000 }] }));
    const outcomes = await Promise.all(inputs.map((input, i) => either(i).commit(input)));
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    expect(outcomes.filter((o) => !o.ok && o.conflict === 'replay')).toHaveLength(19);
    expect(await counts(b)).toEqual({ tokens: before.tokens + 1, vault: before.vault + 1, replay: before.replay + 1, idempotency: before.idempotency + 1 });
  });

  it('commits exactly one of 20 concurrent commits of one idempotency key and lease', async () => {
    const begin = makeBegin();
    expect(await a.idempotency.begin(begin)).toEqual({ state: 'started' });
    const inputs = Array.from({ length: 20 }, () => makeCommit({ idempotency: makeIdempotency({ scope: begin.scope, key: begin.key, leaseId: begin.leaseId }) }));
    const outcomes = await Promise.all(inputs.map((input, i) => either(i).commit(input)));
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    expect(outcomes.filter((o) => !o.ok && o.conflict === 'idempotency')).toHaveLength(19);
    const winner = inputs[outcomes.findIndex((o) => o.ok)]!;
    expect(await b.idempotency.find(begin.scope, begin.key)).toEqual(stored(winner.idempotency));
    for (const [i, input] of inputs.entries()) {
      if (!outcomes[i]!.ok) expect(await a.tokens.find(input.issuance!.token.tokenReferenceId)).toBeUndefined();
    }
  });

  it('issues one token of 20 concurrent commits for one card on one wallet account and device; the others name it', async () => {
    const fp = `fp-race-${Date.now()}`;
    const inputs = Array.from({ length: 20 }, () => {
      const token = makeToken();
      return makeCommit({ issuance: { token, vault: makeVault(token, { panFingerprint: fp }) } });
    });
    const outcomes = await Promise.all(inputs.map((input, i) => either(i).commit(input)));
    const won = outcomes.findIndex((o) => o.ok);
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    const winner = inputs[won]!.issuance!.token.tokenReferenceId;
    expect(outcomes.filter((o) => !o.ok)).toEqual(Array(19).fill({ ok: false, conflict: 'already_provisioned', tokenReferenceId: winner }));
    // The losers wrote nothing: their replay keys and idempotency keys are free.
    for (const [i, input] of inputs.entries()) {
      if (i !== won) {
        expect(await a.replay.has(input.replay[0]!.key)).toBe(false);
        expect(await a.idempotency.find(input.idempotency.scope, input.idempotency.key)).toBeUndefined();
      }
    }
  });

  it('replaces a card\'s token once of 20 concurrent replacements; the others name the new token', async () => {
    const first = makeCommit();
    await a.commit(first);
    const old = first.issuance!.token.tokenReferenceId;
    const fp = first.issuance!.vault.panFingerprint;
    const inputs = Array.from({ length: 20 }, () => {
      const token = makeToken({ createdAt: 9_000, updatedAt: 9_000 });
      return makeCommit({ issuance: { token, vault: makeVault(token, { panFingerprint: fp }), replaces: old } });
    });
    const outcomes = await Promise.all(inputs.map((input, i) => either(i).commit(input)));
    const won = outcomes.findIndex((o) => o.ok);
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    const winner = inputs[won]!.issuance!.token;
    expect(outcomes.filter((o) => !o.ok)).toEqual(Array(19).fill({ ok: false, conflict: 'already_provisioned', tokenReferenceId: winner.tokenReferenceId }));
    expect(await b.tokens.find(old)).toMatchObject({ status: 'deleted', updatedAt: 9_000 });
    expect(await b.vault.find(old)).toBeUndefined();
    expect(await b.vault.findProvisioned({ panFingerprint: fp, walletProviderId: winner.walletProviderId, walletAccountId: winner.walletAccountId, deviceId: winner.deviceId })).toEqual(
      inputs[won]!.issuance!.vault,
    );
  });

  it('claims a key for exactly one of 20 concurrent claims across two pools', async () => {
    const key = `assertion-${Date.now()}`;
    const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => either(i).replay.claim({ key, expiresAt: 9_000 })));
    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  it('answers a begin racing with the commit of the same key with the stored answer or in flight, never a second start', async () => {
    for (let round = 0; round < 10; round++) {
      const begin = makeBegin();
      await a.idempotency.begin(begin);
      const input = makeCommit({ idempotency: makeIdempotency({ scope: begin.scope, key: begin.key, leaseId: begin.leaseId, requestHash: begin.requestHash }) });
      const [committed, ...begins] = await Promise.all([
        a.commit(input),
        ...Array.from({ length: 4 }, (_, i) => b.idempotency.begin({ ...begin, leaseId: `late-${round}-${i}`, nowMs: begin.nowMs + 1 })),
      ]);
      expect(committed).toEqual({ ok: true });
      for (const outcome of begins) expect(['in_flight', 'stored']).toContain((outcome as { state: string }).state);
    }
  });
});

describe('PostgreSQL store: round trips and transactions', () => {
  it('sends one query per operation: begin, commit, refuse, release, claim and each read', async () => {
    const url = await migratedDatabase();
    const trips: string[] = [];
    const store = await openPostgresStore(url, { onRoundTrip: (operation) => trips.push(operation) });
    expect(trips).toEqual(['open', 'open']);
    const measure = async (fn: () => Promise<unknown>): Promise<string[]> => {
      trips.length = 0;
      await fn();
      return [...trips];
    };
    const begin = makeBegin();
    expect(await measure(() => store.idempotency.begin(begin))).toEqual(['begin']);
    const input = makeCommit({ idempotency: makeIdempotency({ scope: begin.scope, key: begin.key, leaseId: begin.leaseId }) });
    expect(await measure(() => store.commit(input))).toEqual(['commit']);
    // A conflict is one round trip too.
    expect(await measure(() => store.commit(makeCommit({ replay: input.replay })))).toEqual(['commit']);
    const refused = makeBegin();
    await store.idempotency.begin(refused);
    expect(await measure(() => store.refuse({ idempotency: refused, replay: [{ key: 'declined', expiresAt: 9_000 }] }))).toEqual(['refuse']);
    expect(await measure(() => store.idempotency.release(begin.scope, begin.key, begin.leaseId))).toEqual(['release']);
    expect(await measure(() => store.replay.claim({ key: 'assertion', expiresAt: 9_000 }))).toEqual(['replay.claim']);
    expect(await measure(() => store.idempotency.begin({ ...begin, leaseId: 'again' }))).toEqual(['begin']);
    expect(await measure(() => store.tokens.find(input.issuance!.token.tokenReferenceId))).toEqual(['tokens.find']);
    expect(await measure(() => store.vault.findProvisioned(input.issuance!.vault))).toEqual(['vault.findProvisioned']);
    expect(await measure(() => store.purgeExpired(0))).toEqual(['purgeExpired']);
    expect(await measure(() => store.limits.hit({ key: 'wp:wallet-co', windowMs: 60_000, limit: 5, nowMs: 1_000 }))).toEqual(['limits.hit']);
    expect(await measure(() => store.ping())).toEqual(['ping']);
    await store.close();
  });

  it('writes a commit in one transaction: every row it wrote has the same xmin', async () => {
    const url = await migratedDatabase();
    const store = await openPostgresStore(url);
    const first = makeCommit();
    await store.commit(first);
    const token = makeToken({ createdAt: 9_000, updatedAt: 9_000 });
    const input = makeCommit({
      replay: [{ key: 'x-1', expiresAt: 9 }, { key: 'x-2', expiresAt: 9 }],
      issuance: { token, vault: makeVault(token, { panFingerprint: first.issuance!.vault.panFingerprint }), replaces: first.issuance!.token.tokenReferenceId },
    });
    await store.commit(input);
    await store.close();
    const xmins = await sql<{ x: string }>(
      url,
      `SELECT xmin::text AS x FROM tokens WHERE token_reference_id IN ($1, $2)
       UNION ALL SELECT xmin::text FROM vault WHERE token_reference_id = $2
       UNION ALL SELECT xmin::text FROM replay WHERE key IN ('x-1', 'x-2')
       UNION ALL SELECT xmin::text FROM idempotency WHERE key = $3`,
      [first.issuance!.token.tokenReferenceId, token.tokenReferenceId, input.idempotency.key],
    );
    expect(xmins).toHaveLength(6);
    expect(new Set(xmins.map((r) => r.x)).size).toBe(1);
  });
});

describe('PostgreSQL store: failures', () => {
  it('answers store_unavailable when a statement outlives statementTimeoutMs, and writes nothing', async () => {
    const url = await migratedDatabase();
    const store = await openPostgresStore(url, { statementTimeoutMs: 300 });
    const input = makeCommit();
    const lock = await holdLock(url, 'SELECT pg_advisory_xact_lock($1, hashtext($2))', [SLOT_LOCK_CLASS, `${input.idempotency.scope}\n${input.idempotency.key}`]);
    try {
      const error = await expectStoreError(store.commit(input), 'store_unavailable');
      expect(error.cause).toMatchObject({ code: '57014' });
    } finally {
      await lock.release();
    }
    expect(await counts(store)).toEqual({ tokens: 0, vault: 0, replay: 0, idempotency: 0 });
    expect(await store.commit(input)).toEqual({ ok: true });
    await store.close();
  });

  it('answers store_unavailable when no connection is free within connectionTimeoutMillis', async () => {
    const url = await migratedDatabase();
    const store = await openPostgresStore(url, { max: 1, connectionTimeoutMillis: 200 });
    const input = makeCommit();
    const lock = await holdLock(url, 'SELECT pg_advisory_xact_lock($1, hashtext($2))', [SLOT_LOCK_CLASS, `${input.idempotency.scope}\n${input.idempotency.key}`]);
    const busy = store.commit(input);
    try {
      await waitingBackend(url, 'pushprov_commit');
      await expectStoreError(store.ping(), 'store_unavailable');
    } finally {
      await lock.release();
    }
    expect(await busy).toEqual({ ok: true });
    await store.ping();
    await store.close();
  });

  it('answers store_unavailable for a commit whose connection is terminated mid-flight, and leaves none of it', async () => {
    const url = await migratedDatabase();
    const store = await openPostgresStore(url);
    const first = makeCommit();
    await store.commit(first);
    const old = first.issuance!.token.tokenReferenceId;
    const begin = makeBegin();
    await store.idempotency.begin(begin);
    const token = makeToken({ createdAt: 9_000, updatedAt: 9_000 });
    const input = makeCommit({
      idempotency: makeIdempotency({ scope: begin.scope, key: begin.key, leaseId: begin.leaseId }),
      issuance: { token, vault: makeVault(token, { panFingerprint: first.issuance!.vault.panFingerprint }), replaces: old },
    });
    const before = await counts(store);
    // The replaced token's row is locked elsewhere: the commit has written its
    // replay key, token and vault change, and waits to mark the old token deleted.
    const lock = await holdLock(url, 'SELECT 1 FROM tokens WHERE token_reference_id = $1 FOR UPDATE', [old]);
    try {
      // Its outcome is watched from the start (it fails while we look for its backend).
      const failed = expectStoreError(store.commit(input), 'store_unavailable');
      const pid = await waitingBackend(url, 'pushprov_commit');
      await sql(url, 'SELECT pg_terminate_backend($1)', [pid]);
      const error = await failed;
      expect(error.cause).toMatchObject({ code: '57P01' });
    } finally {
      await lock.release();
    }
    expect(await counts(store)).toEqual(before);
    expect(await store.tokens.find(token.tokenReferenceId)).toBeUndefined();
    expect(await store.tokens.find(old)).toEqual(first.issuance!.token);
    expect(await store.vault.find(old)).toEqual(first.issuance!.vault);
    expect(await store.replay.has(input.replay[0]!.key)).toBe(false);
    // The caller retries with the same idempotency key and lease: it goes through whole.
    expect(await store.commit(input)).toEqual({ ok: true });
    expect(await store.tokens.find(old)).toMatchObject({ status: 'deleted' });
    await store.close();
  });

  it('answers store_unavailable for a commit whose answer is lost on the way back, and leaves all of it', async () => {
    const url = await migratedDatabase();
    const proxy = await startProxy(url, 'drop');
    const store = await openPostgresStore(proxy.url);
    try {
      const begin = makeBegin();
      await store.idempotency.begin(begin);
      const input = makeCommit({ idempotency: makeIdempotency({ scope: begin.scope, key: begin.key, leaseId: begin.leaseId, requestHash: begin.requestHash }) });
      proxy.arm();
      await expectStoreError(store.commit(input), 'store_unavailable');
      expect(proxy.tripped()).toBe(true);
      // Committed whole: the retry with the same key finds the stored answer.
      expect(await store.tokens.find(input.issuance!.token.tokenReferenceId)).toEqual(input.issuance!.token);
      expect(await store.vault.find(input.issuance!.token.tokenReferenceId)).toEqual(input.issuance!.vault);
      expect(await store.replay.has(input.replay[0]!.key)).toBe(true);
      expect(await store.idempotency.begin({ ...begin, leaseId: 'retry', nowMs: begin.nowMs + 1 })).toEqual({ state: 'stored', record: stored(input.idempotency) });
      expect(await store.commit(input)).toEqual({ ok: false, conflict: 'idempotency' });
    } finally {
      await store.close();
      await proxy.close();
    }
  });

  it('answers store_unavailable when the database stops answering (a network black hole), and drops that connection', async () => {
    const url = await migratedDatabase();
    const proxy = await startProxy(url, 'swallow');
    const store = await openPostgresStore(proxy.url, { statementTimeoutMs: 300, max: 1 });
    try {
      proxy.arm();
      const started = Date.now();
      const error = await expectStoreError(store.commit(makeCommit()), 'store_unavailable');
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(error.cause).toBeInstanceOf(Error);
      // The pool's only connection was the silent one: the next operation gets a new one.
      expect(await store.tokens.count()).toBe(1);
    } finally {
      await store.close();
      await proxy.close();
    }
  });

  it('answers internal_error, not store_unavailable, for a failure of the database that is not about reaching it, and writes nothing', async () => {
    const url = await migratedDatabase();
    const store = await openPostgresStore(url);
    const token = makeToken({ status: 'bogus' as never });
    const input = makeCommit({ issuance: { token, vault: makeVault(token) } });
    const error = await expectStoreError(store.commit(input), 'internal_error');
    expect(error.cause).toMatchObject({ code: '23514' });
    expect(await counts(store)).toEqual({ tokens: 0, vault: 0, replay: 0, idempotency: 0 });
    const mismatched = makeCommit();
    mismatched.issuance!.vault.tokenReferenceId = 'tok_someone_else';
    await expectStoreError(store.commit(mismatched), 'internal_error');
    await store.close();
  });
});

describe('PostgreSQL store: a server that stops, crashes and restarts', () => {
  let cluster: LocalPgCluster;
  let url: string;
  beforeAll(async () => {
    cluster = await startPgCluster({ local: true });
    url = await cluster.createDatabase();
    await migratePostgres(url);
  }, 120_000);
  afterAll(async () => {
    await cluster?.destroy();
  });
  const options: PostgresStoreOptions = { connectionTimeoutMillis: 2_000, statementTimeoutMs: 2_000 };

  it('refuses to open with store_unavailable while the server is down', async () => {
    await cluster.stop();
    try {
      await expectStoreError(openPostgresStore(url, options), 'store_unavailable');
      await expectStoreError(migratePostgres(url, { connectionTimeoutMillis: 2_000 }), 'store_unavailable');
    } finally {
      await cluster.start();
    }
  });

  it('answers store_unavailable while the server is stopped, and recovers by itself once it is back', async () => {
    const store = await openPostgresStore(url, options);
    const kept = makeCommit();
    expect(await store.commit(kept)).toEqual({ ok: true });
    // Idle connections in the pool when the server goes: their errors must not crash the process.
    await Promise.all([store.ping(), store.ping(), store.ping()]);
    await cluster.stop();
    await expectStoreError(store.ping(), 'store_unavailable');
    await expectStoreError(store.commit(makeCommit()), 'store_unavailable');
    await expectStoreError(store.idempotency.begin(makeBegin()), 'store_unavailable');
    await expectStoreError(store.replay.claim({ key: 'during-outage', expiresAt: 9 }), 'store_unavailable');
    await expectStoreError(store.tokens.find(kept.issuance!.token.tokenReferenceId), 'store_unavailable');
    await cluster.start();
    await store.ping();
    expect(await store.tokens.find(kept.issuance!.token.tokenReferenceId)).toEqual(kept.issuance!.token);
    expect(await store.commit(makeCommit())).toEqual({ ok: true });
    await store.close();
  });

  it('keeps working across a restart, with the pool\'s idle connections replaced', async () => {
    const store = await openPostgresStore(url, options);
    await Promise.all([store.ping(), store.ping(), store.ping()]);
    await cluster.restart();
    await store.ping();
    expect(await store.commit(makeCommit())).toEqual({ ok: true });
    await store.close();
  });

  it('answers store_unavailable after a crash (SIGKILL), keeps every acknowledged commit, and recovers', async () => {
    const store = await openPostgresStore(url, options);
    const acknowledged = Array.from({ length: 5 }, () => makeCommit());
    for (const input of acknowledged) expect(await store.commit(input)).toEqual({ ok: true });
    await cluster.kill();
    await expectStoreError(store.commit(makeCommit()), 'store_unavailable');
    await cluster.start();
    await store.ping();
    for (const input of acknowledged) {
      expect(await store.tokens.find(input.issuance!.token.tokenReferenceId)).toEqual(input.issuance!.token);
      expect(await store.idempotency.find(input.idempotency.scope, input.idempotency.key)).toEqual(stored(input.idempotency));
    }
    await store.close();
  }, 60_000);
});
