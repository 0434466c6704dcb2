import { createTokenService, openSqliteStore } from '@pushprov/token-service';
import { type Fixture, prepareRequest } from '../lib/fixture.js';
import { runClosedLoop } from '../lib/load.js';
import type { BenchParams } from '../lib/params.js';
import type { BenchRow, MemorySample } from '../lib/report.js';
import { round } from '../lib/stats.js';
import { throughputRow } from './floor.js';
import { submitPrepared } from './service.js';

const mb = (bytes: number) => round(bytes / 2 ** 20, 1);

/** Memory after a full GC (when the process runs with --expose-gc). */
function sample(requests: number): MemorySample {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { requests, rssMb: mb(m.rss), heapUsedMb: mb(m.heapUsed), externalMb: mb(m.external) };
}

/**
 * Section 6b: memory over many requests, in process with the SQLite store
 * (synchronous NORMAL: durability does not change memory, and it keeps the
 * run short). Each request is built (issuer side) and submitted in the same
 * loop, many in flight; memory is sampled after a forced GC every N
 * requests. Lines: heap and RSS at the last sample against the first sample
 * taken after warm-up.
 */
export async function runMemory(fx: Fixture, params: BenchParams, tempPath: (name: string) => string): Promise<{ rows: BenchRow[]; samples: MemorySample[] }> {
  const service = createTokenService(fx.config, openSqliteStore(tempPath('memory.db'), { synchronous: 'NORMAL' }));
  const samples: MemorySample[] = [sample(0)];
  try {
    const result = await runClosedLoop({
      count: params.memoryRequests,
      concurrency: params.manyInFlight,
      task: async (i) => submitPrepared(service, await prepareRequest(fx, i)),
      onProgress: (completed) => {
        if (completed % params.memorySampleEvery === 0) samples.push(sample(completed));
      },
    });
    const first = samples[1] ?? samples[0]!;
    const last = samples.at(-1)!;
    const rows: BenchRow[] = [
      throughputRow({ id: 'memory.pipeline', section: 'memory', label: `build + submit ${params.memoryRequests.toLocaleString('en')} requests, SQLite NORMAL` }, result),
      { id: 'memory.heap.first', section: 'memory', label: `heap used after GC at ${first.requests.toLocaleString('en')} requests (baseline)`, value: first.heapUsedMb, unit: 'MB', isFloor: true },
      { id: 'memory.heap.last', section: 'memory', label: `heap used after GC at ${last.requests.toLocaleString('en')} requests`, value: last.heapUsedMb, unit: 'MB', floor: 'memory.heap.first' },
      { id: 'memory.rss.first', section: 'memory', label: `RSS at ${first.requests.toLocaleString('en')} requests (baseline)`, value: first.rssMb, unit: 'MB', isFloor: true },
      { id: 'memory.rss.last', section: 'memory', label: `RSS at ${last.requests.toLocaleString('en')} requests`, value: last.rssMb, unit: 'MB', floor: 'memory.rss.first' },
    ];
    return { rows, samples };
  } finally {
    await service.close();
  }
}
