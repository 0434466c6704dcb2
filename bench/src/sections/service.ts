import { type TokenService, type TokenServiceStore, createMemoryStore, createTokenService, openSqliteStore } from '@pushprov/token-service';
import { type Fixture, type PreparedRequest, WALLET_PROVIDER_ID, prepareRequests } from '../lib/fixture.js';
import { runClosedLoop } from '../lib/load.js';
import { type Task, measurePaired, sequenceTask } from '../lib/paired.js';
import type { BenchParams } from '../lib/params.js';
import type { BenchRow } from '../lib/report.js';
import { pairedRow } from './floor.js';

/** Submits one prepared request in process and checks that a token was issued. */
export async function submitPrepared(service: TokenService, request: PreparedRequest): Promise<void> {
  const result = await service.submit({ submission: request.body, walletProviderId: WALLET_PROVIDER_ID, idempotencyKey: request.idempotencyKey });
  if (result.status !== 201) throw new Error(`unexpected status ${result.status}`);
}

/** Runs warmup, sequential and many-in-flight submissions against one service; requests are built before timing. */
export async function measureService(
  fx: Fixture,
  service: TokenService,
  params: BenchParams,
  floor: Task,
  ids: { key: string; label: string; section?: 'service' | 'growth' },
  levels: readonly (readonly [concurrency: number, count: number])[],
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const warm = await prepareRequests(fx, params.warmup);
  await runClosedLoop({ count: warm.length, concurrency: params.manyInFlight, task: (i) => submitPrepared(service, warm[i]!) });
  for (const [concurrency, count] of levels) {
    const requests = await prepareRequests(fx, params.rounds * Math.ceil(count / params.rounds));
    const task = sequenceTask(requests, (request) => submitPrepared(service, request));
    const paired = await measurePaired({ floorTask: floor, runSubject: (n, c) => runClosedLoop({ count: n, concurrency: c, task }), count, concurrency, rounds: params.rounds });
    rows.push(
      pairedRow(
        {
          id: `${ids.section ?? 'service'}.${ids.key}.c${concurrency}`,
          section: ids.section ?? 'service',
          label: `${ids.label}, ${concurrency} in flight`,
          floor: `floor.service.c${concurrency === 1 ? 1 : params.manyInFlight}`,
        },
        paired,
      ),
    );
  }
  return rows;
}

/**
 * Section 3: validation and issuance in process (`createTokenService().submit`,
 * the whole pipeline from the JSON body to the committed token), with the
 * memory store and the SQLite store (synchronous FULL, the default, and
 * NORMAL, to show what the per-commit fsync costs).
 */
export async function runService(fx: Fixture, params: BenchParams, floor: Task, dbPath: (name: string) => string): Promise<BenchRow[]> {
  const levels = [
    [1, params.sequential],
    [params.manyInFlight, params.concurrent],
  ] as const;
  const stores: { key: string; label: string; open: () => TokenServiceStore }[] = [
    { key: 'memory', label: 'service in process, memory store', open: () => createMemoryStore() },
    { key: 'sqlite-full', label: 'service in process, SQLite (sync FULL)', open: () => openSqliteStore(dbPath('service-full.db')) },
    { key: 'sqlite-normal', label: 'service in process, SQLite (sync NORMAL)', open: () => openSqliteStore(dbPath('service-normal.db'), { synchronous: 'NORMAL' }) },
  ];
  const rows: BenchRow[] = [];
  for (const s of stores) {
    const service = createTokenService(fx.config, s.open());
    try {
      rows.push(...(await measureService(fx, service, params, floor, s, levels)));
    } finally {
      await service.close();
    }
  }
  return rows;
}
