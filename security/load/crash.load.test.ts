// Faults, nothing lost: the shipped CLI (`token-service start`, from source
// through tsx) runs on SQLite in a child process; a load of 64 provisionings
// in flight is cut by SIGKILL once 800 of them were acknowledged. After a
// restart on the same database: every acknowledged token is there with the
// number that was acknowledged; every acknowledged and every in-flight
// request, sent again with its same idempotency key and JWE, gets the stored
// answer or is issued now, once; sent again under a new key, every one of
// them is `replayed`; one token per request, no number twice. The canary PAN
// is in no log line, answer, column or raw byte, the killed process's WAL
// included.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
const KILL_AFTER_ACKS = Number(process.env.PUSHPROV_CRASH_ACKS ?? '800');
const IN_FLIGHT = 64;

let sb: Sandbox;
let dir: string;
let dbPath: string;
let server: ChildServer;
const output: string[] = [];
const attempts: Attempt[] = [];
let acked: Attempt[] = [];
let inFlight: Attempt[] = [];

const startCli = () => spawnServer(TOKEN_SERVICE_CLI, ['start', '--config', 'config.json', '--port', '0', '--db', 'tokens.db'], dir);

/** The stored token number of every token, by reference id, and the device of each. */
function readTokens(): { numbers: Map<string, string>; devices: Map<string, number> } {
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
}

/** Asserts no canary and no issued token number in the raw database files. */
function scanRawFiles(numbers: Iterable<string>): string[] {
  const files = readRawFiles(dbPath);
  const all = [...numbers];
  for (const { file, bytes } of files) {
    expect(bytes.includes(CANARY_PAN), file).toBe(false);
    const runs = [...digitRuns(bytes)];
    for (const number of all) expect(runs.some((run) => run.includes(number)), `a token number in ${file}`).toBe(false);
  }
  return files.map((f) => f.file.slice(dbPath.length));
}

beforeAll(async () => {
  sb = await createSandbox({ now: Date.now() });
  dir = mkdtempSync(join(tmpdir(), 'pushprov-crash-'));
  dbPath = join(dir, 'tokens.db');
  writeServiceFiles(sb, dir);
  server = await startCli();
});

afterAll(() => {
  killAllChildren();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('SIGKILL in the middle of a load', () => {
  it('cuts the load: what was acknowledged before is all 201; the rest is in flight or never sent', async () => {
    let acks = 0;
    let killed = false;
    const exited = server.exit;
    await runPool(
      PLANNED,
      IN_FLIGHT,
      async (index) => {
        const attempt = await buildAttempt(sb, index, 'crash');
        attempts[index] = attempt;
        if (killed) return;
        await sendAttempt(server.url, attempt, 20_000);
        if (attempt.state === 'answered' && ++acks === KILL_AFTER_ACKS && !killed) {
          killed = true;
          server.child.kill('SIGKILL');
        }
      },
      () => killed,
    );
    expect((await within(exited, 15_000, 'SIGKILL')).signal).toBe('SIGKILL');
    output.push(server.stdout(), server.stderr());

    acked = attempts.filter((a) => a?.state === 'answered');
    inFlight = attempts.filter((a) => a?.state === 'sent' || a?.state === 'failed');
    expect(acked.length).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    expect(acked.every((a) => a.status === 201)).toBe(true);
    expect(inFlight.length).toBeGreaterThan(0);
    expect(acked.length + inFlight.length).toBeLessThan(PLANNED);
    for (const a of acked) expect(findCanary(a.text)).toEqual([]);
    // The killed process's WAL is on disk: neither the canary nor a token number in it, or in the database file.
    expect(scanRawFiles(acked.map((a) => parseProvisioningResponse(a.text).accessData!.tokenNumber))).toContain('-wal');
  });

  it('after a restart on the same database, every acknowledged token is there, with the number acknowledged', async () => {
    server = await startCli();
    const { numbers } = readTokens();
    for (const a of acked) {
      const body = parseProvisioningResponse(a.text);
      expect(numbers.get(body.tokenReferenceId), a.deviceId).toBe(body.accessData!.tokenNumber);
    }
    // Committed but unacknowledged requests may be there too; nothing else.
    expect(numbers.size).toBeGreaterThanOrEqual(acked.length);
    expect(numbers.size).toBeLessThanOrEqual(acked.length + inFlight.length);
  });

  it('resubmitted with the same key and JWE: the stored answer for the acknowledged, one issuance for the in-flight', async () => {
    const retries = [...acked, ...inFlight].map((a) => ({ original: a, retry: { ...a, state: 'built' as const, status: undefined, text: undefined, replayed: undefined } }));
    await runPool(retries.length, IN_FLIGHT, async (i) => {
      await sendAttempt(server.url, retries[i]!.retry);
    });
    for (const { original, retry } of retries) {
      expect(retry.status, retry.text?.slice(0, 200)).toBe(201);
      if (original.state === 'answered') {
        expect(retry.replayed).toBe(true);
        expect(retry.text).toBe(original.text);
      }
    }
    const { numbers, devices } = readTokens();
    expect(numbers.size).toBe(acked.length + inFlight.length);
    expect(new Set(numbers.values()).size).toBe(numbers.size);
    expect([...devices.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(devices.keys())).toEqual(new Set([...acked, ...inFlight].map((a) => a.deviceId)));
    const committedBeforeTheKill = retries.filter(({ original, retry }) => original.state !== 'answered' && retry.replayed).length;
    console.info(`crash: ${acked.length} acknowledged, ${inFlight.length} in flight (${committedBeforeTheKill} committed before the kill, ${inFlight.length - committedBeforeTheKill} issued on retry)`);
    for (const { retry } of retries) {
      const body = parseProvisioningResponse(retry.text);
      expect(numbers.get(body.tokenReferenceId)).toBe(body.accessData!.tokenNumber);
    }
  });

  it('resubmitted under a new idempotency key, every one of them is replayed, and nothing new is stored', async () => {
    const again = [...acked, ...inFlight].map((a) => ({ ...a, idempotencyKey: freshIdempotencyKey('crash-again'), state: 'built' as const, status: undefined, text: undefined, replayed: undefined }));
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
