// `token-service start` reloads its configuration file on SIGHUP (a spawned
// CLI, from source through tsx): a new issuer is accepted once the signal
// is handled; a broken file is refused, logged, and the server goes on.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type Card, generateSigningKey, luhnValid, parseProblemDetails } from '@pushprov/protocol';
import { buildSubmission, createFixture, createIdentifiers, createTempDir, postSubmission } from './helpers.js';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const temp = createTempDir('cli-reload-');
let child: ChildProcess | undefined;
afterAll(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  temp.remove();
});

/** Waits (bounded) until a stdout line of the server has `msg`, after `skip` such lines; returns it parsed. */
async function waitForLine(out: () => string, msg: string, skip = 0, timeoutMs = 20_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const lines = out()
      .split('\n')
      .filter((l) => l.includes(`"msg":"${msg}"`));
    if (lines.length > skip) return JSON.parse(lines[skip]!) as Record<string, unknown>;
    if (child?.exitCode !== null) throw new Error(`server exited: ${out()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no "${msg}" line in time`);
}

describe('token-service start: SIGHUP', () => {
  it('reads the configuration file again: a new issuer is accepted; a broken file is refused and logged, the server goes on; log.level follows, metrics need a restart', async () => {
    const fx = await createFixture();
    fx.clock.set(Date.now());
    const bankB = await generateSigningKey({ alg: 'ES256', kid: 'bank-b-1' });
    let pan = '';
    for (let d = 0; d <= 9 && pan === ''; d++) if (luhnValid(`422222000000000${d}`)) pan = `422222000000000${d}`;
    const cardB: Card = { pan, expiry: { month: 12, year: 2030 }, cardholderName: 'Grace Hopper' };
    writeFileSync(join(temp.dir, 'keys.json'), JSON.stringify(fx.keySet), { mode: 0o600 });
    const config = { ...structuredClone(fx.config), keys: './keys.json' };
    const file = join(temp.dir, 'config.json');
    writeFileSync(file, JSON.stringify(config));

    child = spawn(process.execPath, ['--conditions=source', '--import', TSX, CLI, 'start', '--config', file, '--port', '0', '--store', join(temp.dir, 'tokens.db')], {
      cwd: temp.dir,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    const url = String((await waitForLine(() => out, 'listening', 0, 30_000)).url);

    const forBankB = async () =>
      (await buildSubmission({ ...fx, issuer: bankB }, { card: cardB, claims: (c) => ({ ...c, iss: 'bank-b' }), identifiers: createIdentifiers() })).submission;
    const before = await postSubmission(url, await forBankB());
    expect(parseProblemDetails(await before.text()).code).toBe('unknown_issuer');

    // A new issuer in the file, then SIGHUP.
    config.issuers.push({ id: 'bank-b', jwks: { keys: [bankB.publicJwk] }, binRanges: [{ start: '422222', end: '422222' }], walletProviders: ['wallet-co'] });
    writeFileSync(file, JSON.stringify(config));
    child.kill('SIGHUP');
    expect(await waitForLine(() => out, 'configuration reloaded')).toMatchObject({ issuers: 2, encryptionKeyIds: 'svc-1' });
    expect((await postSubmission(url, await forBankB())).status).toBe(201);

    // A broken file: refused, said why, nothing changes.
    writeFileSync(file, '{"serviceId": "ts-sandbox",');
    child.kill('SIGHUP');
    const refused = await waitForLine(() => out, 'reload refused');
    expect(refused).toMatchObject({ level: 'error', code: 'configuration_invalid', reason: expect.stringContaining('not strict JSON') });
    expect(out).not.toContain(fx.keySet.encryptionKeys.keys[0]!.d);
    expect((await postSubmission(url, await forBankB())).status).toBe(201);
    expect(child.exitCode).toBeNull();

    // log.level follows the file (no --log-level given): at `error`, a request writes no `request` line.
    writeFileSync(file, JSON.stringify({ ...config, log: { level: 'error' } }));
    child.kill('SIGHUP');
    expect(await waitForLine(() => out, 'configuration reloaded', 1)).toMatchObject({ logLevel: 'error' });
    const requestLines = () => out.split('\n').filter((l) => l.includes('"msg":"request"')).length;
    const seen = requestLines();
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect((await postSubmission(url, await forBankB())).status).toBe(201);
    await new Promise((r) => setTimeout(r, 200));
    expect(requestLines()).toBe(seen);
    // Back to info: the lines are written again. A changed metrics setting is named as needing a restart.
    writeFileSync(file, JSON.stringify({ ...config, log: { level: 'info' }, metrics: { port: 9 } }));
    child.kill('SIGHUP');
    expect(await waitForLine(() => out, 'configuration reloaded', 2)).toMatchObject({ logLevel: 'info', notApplied: 'metrics (needs a restart)' });
    expect((await fetch(`${url}/health`)).status).toBe(200);
    await waitForLine(() => out, 'request', seen);

    child.kill('SIGTERM');
    await new Promise((resolve) => child!.once('exit', resolve));
  }, 60_000);
});
