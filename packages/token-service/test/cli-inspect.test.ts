// `token-service inspect` (a spawned CLI, from source through tsx): a dry
// run here from the configuration (sandbox mode only), from a file and
// from standard input, as text and JSON; and by a running sandbox service
// over HTTP on 127.0.0.1, a recent request by its correlation id and a
// submission. Exit codes 0 (no step refused it), 1 (one did), 2 (usage).
// No card number in any output.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/index.js';
import { type RunningTokenServer, startTokenServer } from '../src/server.js';
import { API_KEY, CARD, type Fixture, PAN, PAN_DECLINE, buildSubmission, createFixture, createIdentifiers, createTempDir } from './helpers.js';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

let fx: Fixture;
let temp: ReturnType<typeof createTempDir>;
let server: RunningTokenServer;

beforeAll(async () => {
  fx = await createFixture();
  // The CLI runs on the real clock: requests made now.
  fx.clock.set(Date.now());
  temp = createTempDir('cli-inspect-');
  writeFileSync(join(temp.dir, 'keys.json'), JSON.stringify(fx.keySet), { mode: 0o600 });
  const config = { ...structuredClone(fx.config), keys: './keys.json' };
  writeFileSync(join(temp.dir, 'sandbox.json'), JSON.stringify({ ...config, sandbox: true }));
  writeFileSync(join(temp.dir, 'production.json'), JSON.stringify(config));
  server = await startTokenServer({ config: { ...fx.config, sandbox: true }, dbPath: join(temp.dir, 'server.db'), clock: fx.clock, purgeIntervalMs: 0, logger: silentLogger });
});

afterAll(async () => {
  await server?.close();
  temp?.remove();
});

function run(args: string[], stdin?: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', TSX, CLI, 'inspect', ...args], {
      cwd: temp.dir,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: 30_000,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
    child.stdin.end(stdin ?? '');
  });
}

const noNumbers = (text: string) => {
  expect(text).not.toMatch(/[0-9]{12,}/);
  expect(text).not.toContain(PAN);
};

describe('token-service inspect', () => {
  it('a dry run here: a declined submission from a file (exit 1), a valid one from standard input (exit 0), JSON; sandbox mode only', async () => {
    const declined = (await buildSubmission(fx, { card: { ...CARD, pan: PAN_DECLINE }, identifiers: createIdentifiers() })).submission;
    writeFileSync(join(temp.dir, 'declined.json'), JSON.stringify(declined));
    const refused = await run(['--config', 'sandbox.json', '--submission', 'declined.json']);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('Refused at step 15 (Issuer decision): declined');
    expect(refused.out).toMatch(/^13 {2}Binding +passed/m);
    expect(refused.out).toMatch(/^16 {2}Issue +not reached/m);
    expect(refused.out).toContain('Troubleshooting: docs/troubleshooting.md#declined');
    expect(refused.out).toContain('"pan": "•••• 0002"');
    expect(refused.out).toContain('deviceId');
    expect(refused.err).toContain('No store at');
    noNumbers(refused.out + refused.err);

    const valid = (await buildSubmission(fx, { identifiers: createIdentifiers() })).submission;
    const passed = await run(['--config', 'sandbox.json', '--submission', '-', '--json'], JSON.stringify(valid));
    expect(passed.code).toBe(0);
    const report = JSON.parse(passed.out) as { outcome: unknown; steps: { step: number; status: string }[] };
    expect(report.outcome).toEqual({ status: 'passed' });
    expect(report.steps.find((s) => s.step === 16)!.status).toBe('not_checked');
    noNumbers(passed.out);

    const moved = await run(['--config', 'sandbox.json', '--submission', '-', '--wallet-provider', 'wallet-two'], JSON.stringify(valid));
    expect(moved.code).toBe(1);
    expect(moved.out).toContain('Refused at step 13 (Binding): wallet_provider_mismatch');
    expect(moved.out).toMatch(/walletProviderId +wallet-co \| wallet-two +DIFFERS/);

    const production = await run(['--config', 'production.json', '--submission', 'declined.json']);
    expect(production.code).toBe(2);
    expect(production.err).toContain('sandbox mode only');
  }, 60_000);

  it('by a running sandbox service: a recent request by its correlation id, a submission; usage errors', async () => {
    const { submission } = await buildSubmission(fx, { identifiers: createIdentifiers() });
    const moved = await fetch(`${server.url}/v1/provisioning-requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', 'idempotency-key': 'cli-1', 'x-correlation-id': 'cli-case-7' },
      body: JSON.stringify({ ...submission, deviceId: 'device-elsewhere' }),
    });
    expect(moved.status).toBe(422);
    const recent = await run(['--url', server.url, '--request', 'cli-case-7']);
    expect(recent.code).toBe(1);
    expect(recent.out).toContain('Refused at step 13 (Binding): device_mismatch');
    expect(recent.out).toContain('correlation cli-case-7');
    expect(recent.out).toMatch(/^ 1 {2}Authenticate +passed/m);
    expect(recent.out).toMatch(/deviceId +device-\S+ \| device-elsewhere +DIFFERS/);
    noNumbers(recent.out);

    writeFileSync(join(temp.dir, 'valid.json'), JSON.stringify(submission));
    const asked = await run(['--url', server.url, '--submission', 'valid.json']);
    expect(asked.code).toBe(0);
    expect(asked.out).toContain('No step refused it.');

    const unknown = await run(['--url', server.url, '--request', 'nothing-here']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('not_found');
    for (const args of [['--config', 'sandbox.json', '--url', server.url, '--submission', 'valid.json'], ['--config', 'sandbox.json', '--request', 'x'], ['--url', server.url]]) {
      const usage = await run(args);
      expect(usage.code, args.join(' ')).toBe(2);
    }
  }, 60_000);
});
