// Load, nothing lost: 5 000 provisionings over loopback HTTP, 64 in flight,
// against the SQLite-backed server running as a child process. No 5xx (every
// answer is 201), no token number issued twice; after a restart on the same
// database every acknowledged token is there, sealed with the very number
// that was acknowledged; and the canary PAN of every request is nowhere but
// sealed in the vault: not in a log line, an answer, a column or a raw byte
// of the database and WAL files.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isValidPan, parseProvisioningResponse, parseTokenStatusResponse } from '@pushprov/protocol';
import { CANARY_PAN, digitRuns, findCanary } from '../src/canary.js';
import { type ChildServer, killAllChildren, spawnServer, within } from '../src/child-server.js';
import { countRows, readAllValues, readRawFiles } from '../src/database.js';
import { type Attempt, buildAttempt, runPool, sandboxCipher, sendAttempt, writeServiceFiles } from '../src/load-kit.js';
import { API_KEY, type Sandbox, TOKEN_BIN, createSandbox } from '../src/sandbox.js';

const TOTAL = Number(process.env.PUSHPROV_LOAD_COUNT ?? '5000');
const IN_FLIGHT = 64;
const SERVE = fileURLToPath(new URL('./serve.ts', import.meta.url));

let sb: Sandbox;
let dir: string;
let dbPath: string;
let configFile: string;
let server: ChildServer;
const logs: string[] = [];
const attempts: Attempt[] = [];
/** tokenReferenceId → token number, as acknowledged. */
const acknowledged = new Map<string, string>();

beforeAll(async () => {
  sb = await createSandbox({ now: Date.now() });
  dir = mkdtempSync(join(tmpdir(), 'pushprov-load-'));
  dbPath = join(dir, 'tokens.db');
  configFile = writeServiceFiles(sb, dir);
  server = await spawnServer(SERVE, [configFile, dbPath], dir);
});

afterAll(() => {
  killAllChildren();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe(`${TOTAL} provisionings, ${IN_FLIGHT} in flight, SQLite`, () => {
  it('are all accepted (201, no 5xx) with a distinct, Luhn-valid token number from the range each', async () => {
    await runPool(TOTAL, IN_FLIGHT, async (index) => {
      const attempt = await buildAttempt(sb, index, 'load');
      attempts[index] = attempt;
      await sendAttempt(server.url, attempt);
    });
    const statuses = new Map<string, number>();
    for (const a of attempts) statuses.set(String(a.status ?? a.state), (statuses.get(String(a.status ?? a.state)) ?? 0) + 1);
    expect(Object.fromEntries(statuses)).toEqual({ 201: TOTAL });

    const numbers = new Set<string>();
    for (const a of attempts) {
      expect(findCanary(a.text)).toEqual([]);
      const body = parseProvisioningResponse(a.text);
      const number = body.accessData!.tokenNumber;
      expect(isValidPan(number) && number.startsWith(TOKEN_BIN) && number !== CANARY_PAN).toBe(true);
      numbers.add(number);
      acknowledged.set(body.tokenReferenceId, number);
    }
    expect(numbers.size).toBe(TOTAL);
    expect(acknowledged.size).toBe(TOTAL);
  });

  it('are all there after a restart on the same database, each sealed with the number that was acknowledged', async () => {
    expect(acknowledged.size).toBe(TOTAL);
    server.child.kill('SIGTERM');
    expect(await within(server.exit, 15_000, 'SIGTERM')).toEqual({ code: 0, signal: null });
    logs.push(server.stdout(), server.stderr());
    server = await spawnServer(SERVE, [configFile, dbPath], dir);

    expect(countRows(dbPath)).toMatchObject({ idempotency: TOTAL, replay: TOTAL, tokens: TOTAL, vault: TOTAL, idempotency_pending: 0 });
    const cipher = sandboxCipher(sb);
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT token_reference_id AS ref, sealed_token_number AS sealed, token_last4 AS last4 FROM tokens').all() as { ref: string; sealed: string; last4: string }[];
      expect(rows).toHaveLength(TOTAL);
      for (const row of rows) {
        const number = cipher.open(row.sealed, 'token-number', row.ref);
        expect(acknowledged.get(row.ref)).toBe(number);
        expect(row.last4).toBe(number.slice(-4));
      }
    } finally {
      db.close();
    }

    const refs = [...acknowledged.keys()];
    let found = 0;
    await runPool(refs.length, IN_FLIGHT, async (i) => {
      const response = await fetch(`${server.url}/v1/tokens/${refs[i]}`, { headers: { authorization: `Bearer ${API_KEY}` }, signal: AbortSignal.timeout(30_000) });
      const status = parseTokenStatusResponse(await response.text());
      if (response.status === 200 && status.tokenLast4 === acknowledged.get(refs[i]!)!.slice(-4)) found++;
    });
    expect(found).toBe(TOTAL);
  });

  it('answer a retry after the restart with the stored answer, byte for byte, and issue nothing new', async () => {
    const sample = attempts.filter((_, i) => i % 25 === 0);
    for (const original of sample) {
      const retry = await sendAttempt(server.url, { ...original, state: 'built' });
      expect(retry.status).toBe(201);
      expect(retry.replayed).toBe(true);
      expect(retry.text).toBe(original.text);
    }
    expect(countRows(dbPath).tokens).toBe(TOTAL);
  });

  it('leave the canary PAN only in the vault, sealed: not in logs, answers, columns or raw database bytes', async () => {
    server.child.kill('SIGKILL');
    await within(server.exit, 15_000, 'SIGKILL');
    logs.push(server.stdout(), server.stderr());
    const logText = logs.join('\n');
    expect(logText.split('\n').filter((l) => l.includes('"msg":"request"')).length).toBeGreaterThanOrEqual(2 * TOTAL);
    expect(findCanary(logText)).toEqual([]);
    expect(logText.includes('"level":"error"')).toBe(false);

    for (const value of readAllValues(dbPath)) expect(findCanary(value.text), `${value.table}.${value.column}`).toEqual([]);
    const files = readRawFiles(dbPath);
    expect(files.map((f) => f.file.slice(dbPath.length))).toContain('-wal');
    for (const { file, bytes } of files) {
      expect(bytes.includes(CANARY_PAN), file).toBe(false);
      const runs = [...digitRuns(bytes)];
      for (const number of acknowledged.values()) expect(runs.some((run) => run.includes(number)), `a token number in ${file}`).toBe(false);
    }

    // The positive control: the PAN is in the vault, sealed, and opens with the vault key.
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare('SELECT token_reference_id AS ref, sealed_card AS sealed FROM vault LIMIT 1').get() as { ref: string; sealed: string };
      expect(JSON.parse(sandboxCipher(sb).open(row.sealed, 'card', row.ref)).pan).toBe(CANARY_PAN);
    } finally {
      db.close();
    }
  });
});
