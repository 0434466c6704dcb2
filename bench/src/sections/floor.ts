import { CompactEncrypt, CompactSign, compactDecrypt, compactVerify, importJWK } from 'jose';
import { createNonce, createRequestClaims, createSessionId, toPublicJwk } from '@pushprov/protocol';
import { generateEncryptionKey } from '@pushprov/protocol';
import { type Fixture, ISSUER_ID, SERVICE_ID, WALLET_PROVIDER_ID } from '../lib/fixture.js';
import { runClosedLoop } from '../lib/load.js';
import type { PairedResult, Task } from '../lib/paired.js';
import type { BenchParams } from '../lib/params.js';
import type { BenchRow } from '../lib/report.js';
import { round } from '../lib/stats.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Turns a load result into a throughput row. */
export function throughputRow(
  base: Pick<BenchRow, 'id' | 'section' | 'label'> & Partial<BenchRow>,
  result: { count: number; concurrency: number; throughput: number; p50Ms: number; p99Ms: number; errors: number; firstError?: string; cpuMs: number; mainThreadCpuMs?: number },
): BenchRow {
  const row: BenchRow = {
    unit: 'ops/s',
    ...base,
    value: round(result.throughput, 1),
    concurrency: result.concurrency,
    count: result.count,
    p50Ms: round(result.p50Ms, 3),
    p99Ms: round(result.p99Ms, 3),
    errors: result.errors,
    extra: { cpuMsPerOp: round(result.cpuMs / result.count, 3) },
  };
  if (result.mainThreadCpuMs !== undefined) row.extra!.mainThreadCpuMsPerOp = round(result.mainThreadCpuMs / result.count, 3);
  if (result.firstError !== undefined) row.note = `first error: ${result.firstError}`;
  return row;
}

/** The floor's operations, to run on their own or interleaved with the line they are the floor of. */
export interface FloorTasks {
  /** ES256 sign + ECDH-ES+A256KW/A256GCM encrypt of claims like the real ones. */
  issuer: Task;
  /** Decrypt + verify of such a request. */
  service: Task;
  /** Verify an invocation signature + decrypt access data encrypted to a device key. */
  wallet: Task;
}

/** Builds the floor's operations: jose directly, keys imported once. */
export async function createFloorTasks(fx: Fixture): Promise<FloorTasks> {
  const signKey = await importJWK(fx.issuer.privateJwk, 'ES256');
  const verifyKey = await importJWK(fx.issuer.publicJwk, 'ES256');
  const encKey = await importJWK(fx.serviceEncryptionKey, 'ECDH-ES+A256KW');
  const decKey = await importJWK(fx.keySet.encryptionKeys.keys[0]!, 'ECDH-ES+A256KW');
  const device = await generateEncryptionKey({ kid: 'device-bench' });
  const devicePub = await importJWK(toPublicJwk(device.publicJwk), 'ECDH-ES+A256KW');
  const devicePriv = await importJWK(device.privateJwk, 'ECDH-ES+A256KW');

  const claims = createRequestClaims({
    issuerId: ISSUER_ID,
    audience: SERVICE_ID,
    identifiers: { sessionId: createSessionId(), walletProviderId: WALLET_PROVIDER_ID, walletAccountId: 'user-1', deviceId: `dev-${createNonce().slice(0, 16)}`, nonce: createNonce() },
    card: fx.card,
  });
  const payload = encoder.encode(JSON.stringify(claims));

  const issue = async () => {
    const jws = await new CompactSign(payload).setProtectedHeader({ alg: 'ES256', kid: fx.issuer.privateJwk.kid, typ: 'pushprov-request+jwt' }).sign(signKey);
    return new CompactEncrypt(encoder.encode(jws))
      .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: fx.serviceEncryptionKey.kid, cty: 'JWT' })
      .encrypt(encKey);
  };
  const pool: string[] = [];
  for (let i = 0; i < 64; i++) pool.push(await issue());
  const open = async (jwe: string) => {
    const { plaintext } = await compactDecrypt(jwe, decKey, { keyManagementAlgorithms: ['ECDH-ES+A256KW'], contentEncryptionAlgorithms: ['A256GCM'] });
    return compactVerify(decoder.decode(plaintext), verifyKey, { algorithms: ['ES256'] });
  };

  // The wallet's crypto: an invocation signature and access data encrypted to the device key.
  const invocationJws = await new CompactSign(encoder.encode(JSON.stringify({ type: 'invocation', version: 1, sessionId: createSessionId(), issuerId: ISSUER_ID })))
    .setProtectedHeader({ alg: 'ES256', kid: fx.issuer.privateJwk.kid, typ: 'pushprov-invocation+jwt' })
    .sign(signKey);
  const accessJwe = await new CompactEncrypt(encoder.encode(JSON.stringify({ tokenReferenceId: 'tok_x', tokenNumber: '4895370000000000', status: 'active' })))
    .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', cty: 'pushprov-access-data+json' })
    .encrypt(devicePub);
  const wallet = async () => {
    await compactVerify(invocationJws, verifyKey, { algorithms: ['ES256'] });
    await compactDecrypt(accessJwe, devicePriv, { keyManagementAlgorithms: ['ECDH-ES+A256KW'], contentEncryptionAlgorithms: ['A256GCM'] });
  };

  return { issuer: () => issue(), service: (i) => open(pool[i % pool.length]!), wallet: () => wallet() };
}

/** A throughput row measured against its floor in interleaved rounds (see `measurePaired`). */
export function pairedRow(base: Pick<BenchRow, 'id' | 'section' | 'label' | 'floor'> & Partial<BenchRow>, paired: PairedResult): BenchRow {
  const row = throughputRow(base, paired.subject);
  row.ratio = paired.ratio;
  const floorCpu = paired.floor.cpuMs / paired.floor.count;
  row.extra = {
    ...row.extra,
    floorThroughputAlongside: round(paired.floor.throughput, 1),
    roundRatios: paired.roundRatios.join(' '),
    floorCpuMsPerOp: round(floorCpu, 3),
    // CPU time is far less sensitive to other processes than throughput: the floor's CPU per operation over this line's.
    cpuRatio: round(floorCpu / (paired.subject.cpuMs / paired.subject.count), 3),
  };
  // The main thread's share (Linux): the thread that runs all JavaScript, and the one that caps throughput when it is always busy.
  if (paired.floor.mainThreadCpuMs !== undefined) row.extra.floorMainThreadCpuMsPerOp = round(paired.floor.mainThreadCpuMs / paired.floor.count, 3);
  return row;
}

/**
 * Section 1, the floor: the cryptography alone, with jose directly and keys
 * imported once, each sequential and with many in flight. Every other line
 * is also measured against its floor in interleaved rounds; these lines
 * show the floor on its own.
 */
export async function runFloor(tasks: FloorTasks, params: BenchParams): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const cases = [
    { key: 'issuer', label: 'floor: issuer sign + encrypt (jose)', task: tasks.issuer },
    { key: 'service', label: 'floor: service decrypt + verify (jose)', task: tasks.service },
    { key: 'wallet', label: 'floor: wallet verify + decrypt (jose)', task: tasks.wallet },
  ];
  for (const c of cases) {
    await runClosedLoop({ count: params.warmup, concurrency: params.manyInFlight, task: c.task });
    for (const [concurrency, count] of [
      [1, params.sequential],
      [params.manyInFlight, params.concurrent],
    ] as const) {
      const result = await runClosedLoop({ count, concurrency, task: c.task });
      rows.push(throughputRow({ id: `floor.${c.key}.c${concurrency}`, section: 'floor', label: `${c.label}, ${concurrency} in flight`, isFloor: true }, result));
    }
  }
  return rows;
}
