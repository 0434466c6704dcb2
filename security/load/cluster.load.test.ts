// Many instances, one PostgreSQL, a real balancer. Three token services
// (the shipped CLI, from source) on one PostgreSQL database, behind nginx
// (round robin). Every cross-request guarantee must hold across instances,
// because it is held by the database:
//
// 1. one idempotency key raced on every instance: exactly one 201; the others
//    409 idempotency_in_flight (or the stored answer), and their retries get
//    the stored answer, byte for byte;
// 2. one client assertion presented to every instance: accepted once;
// 3. one request (one jti) under different idempotency keys on every
//    instance: exactly one token;
// 4. under load at 64 in flight, one instance SIGKILLed; and separately,
//    PostgreSQL restarted: every answer during the outage is a retryable one
//    (502 from the balancer, 503 store_unavailable, 409 in flight), every
//    client that retries with its key ends with its stored answer, and every
//    acknowledged token is in the database exactly once.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClientAssertion, parseProblemDetails, parseProvisioningResponse, systemClock } from '@pushprov/protocol';
import { type Balancer, startBalancer } from '../../scripts/lib/nginx-balancer.mjs';
import { type LocalPgCluster, startPgCluster } from '../../scripts/lib/pg-cluster.mjs';
import { type ChildServer, TOKEN_SERVICE_CLI, killAllChildren, spawnServer } from '../src/child-server.js';
import { freshIdempotencyKey } from '../src/http.js';
import { type Attempt, buildAttempt, runPool, writeServiceFiles } from '../src/load-kit.js';
import { API_KEY, SERVICE_ID, WALLET, type Sandbox, buildRequest, createIdentifiers, createSandbox } from '../src/sandbox.js';

const require = createRequire(import.meta.url);
const TSX = pathToFileURL(require.resolve('tsx')).href;
const run = promisify(execFile);

const INSTANCES = 3;
const IN_FLIGHT = 64;
const PER_FAULT = 600;
const FAULT_AFTER = 150;
/** Short, so that a key held by a killed instance frees up within the test. */
const LEASE_SECONDS = 3;
/** How long a client keeps retrying one request with its key. */
const RETRY_DEADLINE_MS = 60_000;

let sb: Sandbox;
let dir: string;
let cluster: LocalPgCluster;
let storeUrl: string;
let instances: ChildServer[] = [];
let balancer: Balancer;
let db: pg.Pool;

const startInstance = () => spawnServer(TOKEN_SERVICE_CLI, ['start', '--config', 'config.json', '--port', '0', '--store', storeUrl], dir, { timeoutMs: 60_000 });

beforeAll(async () => {
  sb = await createSandbox();
  dir = mkdtempSync(join(tmpdir(), 'pushprov-cluster-'));
  const configFile = writeServiceFiles(sb, dir);
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as { lifetimes?: Record<string, number> };
  config.lifetimes = { ...config.lifetimes, idempotencyLeaseSeconds: LEASE_SECONDS };
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  cluster = await startPgCluster({ local: true });
  storeUrl = await cluster.createDatabase();
  // The schema, as an operator applies it: `token-service migrate`.
  const migrated = await run(process.execPath, ['--conditions=source', '--import', TSX, TOKEN_SERVICE_CLI, 'migrate', '--store', storeUrl], { cwd: dir });
  expect(migrated.stdout).toMatch(/from schema version 0 to [1-9]/);
  instances = await Promise.all(Array.from({ length: INSTANCES }, startInstance));
  balancer = await startBalancer({ upstreams: instances.map((i) => i.url) });
  db = new pg.Pool({ connectionString: storeUrl, max: 2 });
  db.on('error', () => undefined);
}, 180_000);

afterAll(async () => {
  await db?.end().catch(() => undefined);
  await balancer?.stop().catch(() => undefined);
  killAllChildren();
  await cluster?.destroy().catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

const post = async (url: string, body: string, key: string, authorization = `Bearer ${API_KEY}`) => {
  const response = await fetch(`${url}/v1/provisioning-requests`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization, 'idempotency-key': key },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, text: await response.text(), replayed: response.headers.get('idempotent-replayed') === 'true' };
};

const codeOf = (text: string) => parseProblemDetails(text).code;
const count = async (sql: string, params: unknown[] = []) => Number((await db.query<{ n: string }>(sql, params)).rows[0]!.n);

describe('three token service instances on one PostgreSQL behind nginx', () => {
  it('spreads requests over every instance (round robin)', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < INSTANCES * 3; i++) {
      const response = await fetch(`${balancer.url}/health/ready`);
      expect(response.status).toBe(200);
      seen.add(response.headers.get('x-upstream') ?? '');
    }
    expect(seen.size).toBe(INSTANCES);
  });

  it('gives one idempotency key raced on every instance exactly one 201; the others are in flight, and their retries get the stored answer', async () => {
    const { submission } = await buildRequest(sb, { identifiers: createIdentifiers(), clock: systemClock });
    const body = JSON.stringify(submission);
    const key = freshIdempotencyKey('race');
    const answers = await Promise.all(Array.from({ length: INSTANCES * 3 }, (_, i) => post(instances[i % INSTANCES]!.url, body, key)));
    const issued = answers.filter((a) => a.status === 201 && !a.replayed);
    expect(issued).toHaveLength(1);
    const inFlight = answers.filter((a) => a.status === 409);
    for (const a of inFlight) expect(codeOf(a.text)).toBe('idempotency_in_flight');
    expect(inFlight.length).toBeGreaterThan(0);
    for (const a of answers.filter((x) => x.status === 201 && x.replayed)) expect(a.text).toBe(issued[0]!.text);
    expect(answers.every((a) => a.status === 201 || a.status === 409)).toBe(true);
    // Every instance answers the retry with the stored answer, byte for byte.
    for (const instance of instances) {
      const retry = await post(instance.url, body, key);
      expect(retry).toEqual({ status: 201, text: issued[0]!.text, replayed: true });
    }
    expect(await count('SELECT count(*) AS n FROM tokens WHERE device_id = $1', [submission.deviceId])).toBe(1);
  });

  it('accepts one client assertion once, whichever instances it is presented to', async () => {
    const assertion = await createClientAssertion({ walletProviderId: WALLET, audience: SERVICE_ID, signingKey: sb.walletSigning.privateJwk, clock: systemClock });
    const requests = await Promise.all(
      Array.from({ length: INSTANCES * 2 }, async () => (await buildRequest(sb, { identifiers: createIdentifiers(), clock: systemClock })).submission),
    );
    const answers = await Promise.all(requests.map((s, i) => post(instances[i % INSTANCES]!.url, JSON.stringify(s), freshIdempotencyKey('assert'), `Bearer ${assertion}`)));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    for (const a of answers.filter((x) => x.status !== 201)) {
      expect(a.status).toBe(401);
      expect(codeOf(a.text)).toBe('unauthenticated');
    }
    // And after a restart of an instance it is still used up: the claim is in the database.
    const again = await post(instances[0]!.url, JSON.stringify(requests[0]), freshIdempotencyKey('assert'), `Bearer ${assertion}`);
    expect(again.status).toBe(401);
  });

  it('issues exactly one token for one request sent under a different idempotency key to every instance', async () => {
    const { submission } = await buildRequest(sb, { identifiers: createIdentifiers(), clock: systemClock });
    const body = JSON.stringify(submission);
    const answers = await Promise.all(Array.from({ length: INSTANCES * 3 }, (_, i) => post(instances[i % INSTANCES]!.url, body, freshIdempotencyKey('jti'))));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    for (const a of answers.filter((x) => x.status !== 201)) {
      expect(a.status).toBe(409);
      expect(codeOf(a.text)).toBe('replayed');
    }
    expect(await count('SELECT count(*) AS n FROM tokens WHERE device_id = $1', [submission.deviceId])).toBe(1);
  });

  /** Sends an attempt through the balancer until it has its answer, with its same key; records every answer on the way. */
  const provisionWithRetries = async (attempt: Attempt, seen: { status: number; code?: string }[]) => {
    const deadline = Date.now() + RETRY_DEADLINE_MS;
    for (;;) {
      let answer: { status: number; text: string; replayed: boolean } | undefined;
      try {
        answer = await post(balancer.url, attempt.body, attempt.idempotencyKey);
      } catch {
        answer = undefined;
      }
      if (answer && (answer.status === 201 || answer.status === 200)) {
        attempt.state = 'answered';
        attempt.status = answer.status;
        attempt.text = answer.text;
        attempt.replayed = answer.replayed;
        return;
      }
      const code = answer && answer.status !== 502 ? codeOf(answer.text) : undefined;
      seen.push({ status: answer?.status ?? 0, ...(code === undefined ? {} : { code }) });
      if (Date.now() > deadline) {
        attempt.state = 'failed';
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 150));
    }
  };

  const runUnderFault = async (prefix: string, fault: () => Promise<void>) => {
    const attempts = await Promise.all(Array.from({ length: PER_FAULT }, (_, i) => buildAttempt(sb, i, prefix)));
    const seen: { status: number; code?: string }[] = [];
    const replayBefore = await count('SELECT count(*) AS n FROM replay');
    let acknowledged = 0;
    let faulted: Promise<void> | undefined;
    await runPool(PER_FAULT, IN_FLIGHT, async (i) => {
      await provisionWithRetries(attempts[i]!, seen);
      if (attempts[i]!.state === 'answered' && ++acknowledged === FAULT_AFTER) faulted = fault();
    });
    await faulted;
    // One replay record per request: each jti used exactly once, whatever the retries.
    expect(await count('SELECT count(*) AS n FROM replay')).toBe(replayBefore + attempts.length);
    return { attempts, seen };
  };

  const checkNothingLost = async (prefix: string, attempts: Attempt[], seen: { status: number; code?: string }[]) => {
    // Every failure on the way was one a client retries with the same key.
    for (const s of seen) {
      const retryable = s.status === 0 || s.status === 502 || (s.status === 503 && s.code === 'store_unavailable') || (s.status === 409 && s.code === 'idempotency_in_flight');
      expect(retryable, JSON.stringify(s)).toBe(true);
    }
    expect(seen.length).toBeGreaterThan(0);
    // Every client ended with its answer.
    expect(attempts.filter((a) => a.state !== 'answered')).toEqual([]);
    // Every acknowledged token is in the database exactly once, under the reference it was answered with.
    const rows = (await db.query<{ token_reference_id: string; device_id: string }>('SELECT token_reference_id, device_id FROM tokens WHERE device_id LIKE $1', [`${prefix}-%`])).rows;
    expect(rows).toHaveLength(attempts.length);
    const byDevice = new Map(rows.map((r) => [r.device_id, r.token_reference_id]));
    expect(byDevice.size).toBe(attempts.length);
    for (const a of attempts) expect(byDevice.get(a.deviceId)).toBe(parseProvisioningResponse(a.text!).tokenReferenceId);
    // Every retry with the same key gets the stored answer, byte for byte.
    for (const a of attempts.slice(0, 20)) {
      const again = await post(balancer.url, a.body, a.idempotencyKey);
      expect(again).toEqual({ status: 201, text: a.text, replayed: true });
    }
    // One idempotency record per request, no pending entry left once their leases end.
    expect(await count('SELECT count(*) AS n FROM idempotency WHERE key LIKE $1', [`${prefix}%`])).toBe(attempts.length);
  };

  it('loses nothing when an instance is SIGKILLed under load at 64 in flight', async () => {
    const victim = instances[1]!;
    const { attempts, seen } = await runUnderFault('kill', async () => {
      victim.child.kill('SIGKILL');
      await victim.exit;
    });
    expect(seen.some((s) => s.status === 502 || s.status === 0 || s.code === 'idempotency_in_flight')).toBe(true);
    await checkNothingLost('kill', attempts, seen);
    // The instance comes back (a rolling restart) and the balancer routes to it again.
    instances[1] = await startInstance();
    await balancer.setUpstreams(instances.map((i) => i.url));
  }, 240_000);

  it('loses nothing when PostgreSQL restarts under load at 64 in flight', async () => {
    const { attempts, seen } = await runUnderFault('pgrestart', async () => {
      await cluster.restart();
    });
    expect(seen.some((s) => s.code === 'store_unavailable')).toBe(true);
    await checkNothingLost('pgrestart', attempts, seen);
    // Ready again everywhere.
    for (const instance of instances) expect((await fetch(`${instance.url}/health/ready`)).status).toBe(200);
  }, 240_000);

  it('says it is not ready while PostgreSQL is down, and ready once it is back', async () => {
    await cluster.stop();
    const down = await fetch(`${instances[0]!.url}/health/ready`);
    expect(down.status).toBe(503);
    expect(codeOf(await down.text())).toBe('store_unavailable');
    expect((await fetch(`${instances[0]!.url}/health`)).status).toBe(200);
    await cluster.start();
    const deadline = Date.now() + 20_000;
    let status = 0;
    while (Date.now() < deadline && status !== 200) {
      status = (await fetch(`${instances[0]!.url}/health/ready`)).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(status).toBe(200);
  }, 60_000);
});
