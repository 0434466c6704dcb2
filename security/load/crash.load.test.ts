// Faults, nothing lost. A load of provisionings, 64 in flight, against a
// token service on SQLite in a child process, is cut by SIGKILL:
//
// 1. the shipped CLI (`token-service start`, from source through tsx), killed
//    by the test once 800 requests were acknowledged;
// 2. the suite's server script, which kills itself right after its 300th
//    commit, before answering: a request stored but never acknowledged, the
//    worst moment, made certain.
//
// After a restart on the same database: every acknowledged token is there
// with the number that was acknowledged; every acknowledged and in-flight
// request, sent again with its same idempotency key and JWE, gets its stored
// answer (byte for byte when it was acknowledged) or is issued now, once;
// sent again under a new key, every one is `replayed`; one token per request,
// no number twice. The canary PAN is in no log line, answer, column or raw
// byte, the killed process's WAL included.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProblemDetails, parseProvisioningResponse } from '@pushprov/protocol';
import { CANARY_PAN, digitRuns, findCanary } from '../src/canary.js';
import { type ChildServer, TOKEN_SERVICE_CLI, killAllChildren, spawnServer, within } from '../src/child-server.js';
import { readAllValues, readRawFiles } from '../src/database.js';
import { freshIdempotencyKey } from '../src/http.js';
import { type Attempt, buildAttempt, runPool, sandboxCipher, sendAttempt, writeServiceFiles } from '../src/load-kit.js';
import { type Sandbox, createSandbox } from '../src/sandbox.js';

const PLANNED = 4000;
const IN_FLIGHT = 64;
const SERVE = fileURLToPath(new URL('./serve.ts', import.meta.url));

afterAll(() => killAllChildren());

interface Scenario {
  name: string;
  /** Starts the server for the first run (the one that dies) and for the restart. */
  start: (dir: string, first: boolean) => Promise<ChildServer>;
  /** The test kills the server after this many acknowledged requests; undefined when the server kills itself. */
  killAfterAcks?: number;
  /** The smallest number of requests committed before the kill but never acknowledged. */
  minCommittedUnacknowledged: number;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'the CLI, SIGKILLed by the test after 800 acknowledged requests',
    start: (dir) => spawnServer(TOKEN_SERVICE_CLI, ['start', '--config', 'config.json', '--port', '0', '--db', 'tokens.db'], dir),
    killAfterAcks: Number(process.env.PUSHPROV_CRASH_ACKS ?? '800'),
    minCommittedUnacknowledged: 0,
  },
  {
    name: 'the server SIGKILLing itself right after its 300th commit, before answering',
    start: (dir, first) => spawnServer(SERVE, ['config.json', 'tokens.db'], dir, first ? { env: { PUSHPROV_KILL_AFTER_COMMITS: '300' } } : {}),
    minCommittedUnacknowledged: 1,
  },
];

describe.each(SCENARIOS)('SIGKILL in the middle of a load: $name', (scenario) => {
  let sb: Sandbox;
  let dir: string;
  let dbPath: string;
  let server: ChildServer;
  const output: string[] = [];
  const attempts: Attempt[] = [];
  let acked: Attempt[] = [];
  let inFlight: Attempt[] = [];

  /** The stored token number of every token, by reference id, and the token count of each device. */
  const readTokens = () => {
    const cipher = sandboxCipher(sb);
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT token_reference_id AS ref, sealed_token_number AS sealed, device_id AS device FROM tokens').all() as { ref: string; sealed: string; device: string }[];
      const numbers = new Map(rows.map((r) => [r.ref, cipher.open(r.sealed, 'token-number', r.ref)]));
      const devices = new Map<string, number>();
      for (const r of rows) devices.set(r.device, (devices.get(r.device) ?? 0) + 1);
      return { numbers, devices };
    } finally {
      db.close();
    }
  };

  /** Asserts no canary and no issued token number in the raw database files; returns which files there were. */
  const scanRawFiles = (numbers: Iterable<string>): string[] => {
    const files = readRawFiles(dbPath);
    const all = [...numbers];
    for (const { file, bytes } of files) {
      expect(bytes.includes(CANARY_PAN), file).toBe(false);
      const runs = [...digitRuns(bytes)];
      for (const number of all) expect(runs.some((run) => run.includes(number)), `a token number in ${file}`).toBe(false);
    }
    return files.map((f) => f.file.slice(dbPath.length));
  };

  beforeAll(async () => {
    sb = await createSandbox({ now: Date.now() });
    dir = mkdtempSync(join(tmpdir(), 'pushprov-crash-'));
    dbPath = join(dir, 'tokens.db');
    const configFile = writeServiceFiles(sb, dir);
    // A short lease: after the kill, the dead process's pending keys free up within the test.
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as { lifetimes?: Record<string, number> };
    config.lifetimes = { ...config.lifetimes, idempotencyLeaseSeconds: 2 };
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    server = await scenario.start(dir, true);
  });

  afterAll(() => {
    if (server?.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('cuts the load: whatever was answered before the kill is 201; the rest was in flight or never sent', async () => {
    let acks = 0;
    let killed = false;
    let dead = false;
    const exited = server.exit.then((exit) => {
      dead = true;
      return exit;
    });
    await runPool(
      PLANNED,
      IN_FLIGHT,
      async (index) => {
        const attempt = await buildAttempt(sb, index, 'crash');
        attempts[index] = attempt;
        if (dead) return;
        const sending = sendAttempt(server.url, attempt, 20_000);
        // Kill from a task whose request has just gone out, so at least that one
        // is in flight at the kill (group commit answers whole batches at once,
        // so killing right after an answer could find nothing in flight).
        if (scenario.killAfterAcks !== undefined && acks >= scenario.killAfterAcks && !killed) {
          killed = true;
          server.child.kill('SIGKILL');
        }
        await sending;
        if (attempt.state === 'answered') acks++;
      },
      () => dead,
    );
    expect((await within(exited, 15_000, 'the kill')).signal).toBe('SIGKILL');
    output.push(server.stdout(), server.stderr());

    acked = attempts.filter((a) => a?.state === 'answered');
    inFlight = attempts.filter((a) => a?.state === 'sent' || a?.state === 'failed');
    expect(acked.length).toBeGreaterThanOrEqual(scenario.killAfterAcks ?? 100);
    expect(acked.every((a) => a.status === 201)).toBe(true);
    expect(inFlight.length).toBeGreaterThan(0);
    expect(acked.length + inFlight.length).toBeLessThan(PLANNED);
    for (const a of acked) expect(findCanary(a.text)).toEqual([]);
    // The killed process's WAL is on disk: neither the canary nor a token number in it, or in the database file.
    expect(scanRawFiles(acked.map((a) => parseProvisioningResponse(a.text).accessData!.tokenNumber))).toContain('-wal');
  });

  it('after a restart on the same database, every acknowledged token is there, with the number acknowledged', async () => {
    server = await scenario.start(dir, false);
    const { numbers } = readTokens();
    for (const a of acked) {
      const body = parseProvisioningResponse(a.text);
      expect(numbers.get(body.tokenReferenceId), a.deviceId).toBe(body.accessData!.tokenNumber);
    }
    // Committed but unacknowledged requests may be there too; nothing else.
    expect(numbers.size).toBeGreaterThanOrEqual(acked.length + scenario.minCommittedUnacknowledged);
    expect(numbers.size).toBeLessThanOrEqual(acked.length + inFlight.length);
  });

  it('resubmitted with the same key and JWE: the stored answer for each committed request, one issuance for the others', async () => {
    const committedBefore = readTokens().numbers.size;
    const retries = [...acked, ...inFlight].map((a) => {
      const retry: Attempt = { ...a, state: 'built', status: undefined, text: undefined, replayed: undefined };
      return { original: a, retry };
    });
    await runPool(retries.length, IN_FLIGHT, async (i) => {
      // A key the killed process held answers 409 idempotency_in_flight until its lease ends; a client retries it.
      const deadline = Date.now() + 15_000;
      for (;;) {
        const retry = await sendAttempt(server.url, { ...retries[i]!.retry, state: 'built' });
        retries[i]!.retry = retry;
        if (!(retry.status === 409 && retry.text?.includes('"idempotency_in_flight"')) || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    });
    for (const { original, retry } of retries) {
      expect(retry.status, retry.text?.slice(0, 200)).toBe(201);
      if (original.state === 'answered') {
        expect(retry.replayed).toBe(true);
        expect(retry.text).toBe(original.text);
      }
    }
    const committedUnacknowledged = retries.filter(({ original, retry }) => original.state !== 'answered' && retry.replayed).length;
    expect(committedUnacknowledged).toBe(committedBefore - acked.length);
    expect(committedUnacknowledged).toBeGreaterThanOrEqual(scenario.minCommittedUnacknowledged);
    console.info(`${scenario.name}: ${acked.length} acknowledged, ${inFlight.length} in flight (${committedUnacknowledged} committed before the kill, ${inFlight.length - committedUnacknowledged} issued on retry)`);

    const { numbers, devices } = readTokens();
    expect(numbers.size).toBe(acked.length + inFlight.length);
    expect(new Set(numbers.values()).size).toBe(numbers.size);
    expect([...devices.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(devices.keys())).toEqual(new Set([...acked, ...inFlight].map((a) => a.deviceId)));
    for (const { retry } of retries) {
      const body = parseProvisioningResponse(retry.text);
      expect(numbers.get(body.tokenReferenceId)).toBe(body.accessData!.tokenNumber);
    }
  });

  it('resubmitted under a new idempotency key, every one of them is replayed, and nothing new is stored', async () => {
    const again = [...acked, ...inFlight].map(
      (a): Attempt => ({ ...a, idempotencyKey: freshIdempotencyKey('crash-again'), state: 'built', status: undefined, text: undefined, replayed: undefined }),
    );
    await runPool(again.length, IN_FLIGHT, async (i) => {
      await sendAttempt(server.url, again[i]!);
    });
    for (const a of again) {
      expect(a.status).toBe(409);
      expect(parseProblemDetails(a.text).code).toBe('replayed');
    }
    expect(readTokens().numbers.size).toBe(acked.length + inFlight.length);
  });

  it('stops cleanly, and the canary PAN is in no log line, column or raw byte', async () => {
    server.child.kill('SIGTERM');
    expect(await within(server.exit, 15_000, 'SIGTERM')).toEqual({ code: 0, signal: null });
    output.push(server.stdout(), server.stderr());
    const text = output.join('\n');
    expect(text).toContain('"msg":"request"');
    expect(findCanary(text)).toEqual([]);
    for (const value of readAllValues(dbPath)) expect(findCanary(value.text), `${value.table}.${value.column}`).toEqual([]);
    scanRawFiles(readTokens().numbers.values());
  });
});
