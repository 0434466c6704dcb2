// The `token-service vault` commands as spawned processes: status, rotate
// (while a server runs on the store), pin-fingerprint-key, and the start
// refusals of a store built with other vault keys.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type KeyJwk, parseProvisioningResponse, toBase64Url, toPublicJwk } from '@pushprov/protocol';
import { type KeySet, deriveFingerprintKey, generateKeySet, zKeySet } from '../src/index.js';
import { API_KEY, type Fixture, PAN, PAN_2, SERVICE_ID, WALLET, buildSubmission, createFixture, createIdentifiers, createTempDir, postSubmission } from './helpers.js';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

let temp: ReturnType<typeof createTempDir>;
const children: ChildProcess[] = [];
/** Everything every spawned command printed: searched for keys at the end. */
const printed: string[] = [];

beforeAll(() => {
  temp = createTempDir('cli-vault-');
});
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
afterAll(() => temp.remove());

interface Spawned {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function spawnCli(args: string[]): Spawned {
  const child = spawn(process.execPath, ['--conditions=source', '--import', TSX, CLI, ...args], {
    cwd: temp.dir,
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      printed.push(out, err);
      resolve({ code, signal });
    }),
  );
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const spawned = spawnCli(args);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${args.join(' ')}`)), 30_000)));
  try {
    const { code } = await Promise.race([spawned.exit, timeout]);
    return { code, stdout: spawned.stdout(), stderr: spawned.stderr() };
  } finally {
    clearTimeout(timer);
  }
}

async function startServer(config: string, db: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const spawned = spawnCli(['start', '--config', config, '--port', '0', '--db', db]);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const line = spawned.stdout().split('\n').find((l) => l.includes('"msg":"listening"'));
    if (line) {
      return {
        url: (JSON.parse(line) as { url: string }).url,
        async stop() {
          spawned.child.kill('SIGTERM');
          expect((await spawned.exit).code).toBe(0);
        },
      };
    }
    if (spawned.child.exitCode !== null) throw new Error(`server exited: ${spawned.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('server did not start in time');
}

/** A key set file (mode 600) and a configuration using it. */
function writeConfig(fx: Fixture, name: string, keySet: KeySet): string {
  writeFileSync(join(temp.dir, `${name}.keys.json`), JSON.stringify(keySet), { mode: 0o600 });
  const config = {
    serviceId: SERVICE_ID,
    keys: `./${name}.keys.json`,
    issuers: [{ id: 'bank-a', jwks: { keys: [fx.issuer.publicJwk] }, binRanges: [{ start: '411111', end: '411111' }], walletProviders: [WALLET], network: 'visa' }],
    walletProviders: [{ id: WALLET, apiKeys: [API_KEY] }],
    tokenRange: { bin: '489537' },
  };
  writeFileSync(join(temp.dir, `${name}.config.json`), JSON.stringify(config));
  return `${name}.config.json`;
}

const withVault = (keySet: KeySet, vault: NonNullable<KeySet['vault']>): KeySet => ({ ...keySet, vault });

interface StatusJson {
  rotated?: { keyId: string; resealed: Record<string, number> };
  keys: { id: string; configured: boolean; vault: number; tokens: number; idempotency: number }[];
  fingerprintKey: string;
}
const countsOf = (status: StatusJson) => Object.fromEntries(status.keys.map((k) => [k.id, [k.vault, k.tokens, k.idempotency]]));

function rows(db: string): { tokens: Record<string, string>[]; vault: Record<string, string>[]; idempotency: Record<string, string>[] } {
  const handle = new Database(join(temp.dir, db), { readonly: true, fileMustExist: true });
  try {
    return {
      tokens: handle.prepare('SELECT token_reference_id, token_number_hash, sealed_token_number FROM tokens ORDER BY 1').all() as Record<string, string>[],
      vault: handle.prepare('SELECT token_reference_id, pan_fingerprint, sealed_card FROM vault ORDER BY 1').all() as Record<string, string>[],
      idempotency: handle.prepare('SELECT scope, key, sealed_response FROM idempotency ORDER BY 1, 2').all() as Record<string, string>[],
    };
  } finally {
    handle.close();
  }
}

async function sandbox(keySet: KeySet): Promise<Fixture> {
  const fx = await createFixture();
  fx.clock.set(Date.now());
  return { ...fx, keySet, serviceEncryptionKey: toPublicJwk(keySet.encryptionKeys.keys[0]!) as KeyJwk };
}

function expectNoSecrets(...keySets: KeySet[]) {
  const all = printed.join('\n');
  for (const keySet of keySets) {
    for (const k of keySet.vault?.keks ?? []) expect(all).not.toContain(k.key);
    if (keySet.vault?.fingerprintKey) expect(all).not.toContain(keySet.vault.fingerprintKey);
    expect(all).not.toContain(keySet.encryptionKeys.keys[0]!.d);
  }
  for (const pan of [PAN, PAN_2, '4111111111111137']) expect(all).not.toContain(pan);
}

describe('token-service vault', () => {
  it('status counts values per key id; start refuses a removed KEK that still holds values; rotate (while a server runs) moves everything, a second run changes nothing; afterwards the old KEK may go and cards, answers and token numbers still hold', async () => {
    const keySet = await generateKeySet({ kid: 'svc-rot', kekId: 'kek-old' });
    const fx = await sandbox(keySet);
    const oldConfig = writeConfig(fx, 'old', keySet);
    const server = await startServer(oldConfig, 'rotate.db');
    const identifiers = createIdentifiers();
    const { submission: first } = await buildSubmission(fx, { identifiers });
    const created = await postSubmission(server.url, first, { idempotencyKey: 'card-1' });
    expect(created.status).toBe(201);
    const createdText = await created.text();
    const token1 = parseProvisioningResponse(createdText);
    const second = await postSubmission(server.url, (await buildSubmission(fx, { card: { pan: PAN_2, expiry: { month: 12, year: 2030 } } })).submission, {
      idempotencyKey: 'card-2',
    });
    expect(second.status).toBe(201);
    const token2 = parseProvisioningResponse(await second.text());
    await server.stop();
    const before = rows('rotate.db');

    const kekNew = { id: 'kek-new', key: toBase64Url(crypto.getRandomValues(new Uint8Array(32))) };
    const bothKeys = withVault(keySet, { keks: [kekNew, keySet.vault!.keks[0]!], fingerprintKey: keySet.vault!.fingerprintKey });
    const bothConfig = writeConfig(fx, 'both', bothKeys);
    const newKeys = withVault(keySet, { keks: [kekNew], fingerprintKey: keySet.vault!.fingerprintKey });
    const newConfig = writeConfig(fx, 'new', newKeys);

    const status = await run(['vault', 'status', '--config', bothConfig, '--store', 'rotate.db', '--json']);
    expect(status.code).toBe(0);
    expect(countsOf(JSON.parse(status.stdout) as StatusJson)).toEqual({ 'kek-new': [0, 0, 0], 'kek-old': [2, 2, 2] });
    expect((JSON.parse(status.stdout) as StatusJson).fingerprintKey).toBe('matches');
    const text = await run(['vault', 'status', '--config', bothConfig, '--store', 'rotate.db']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/kek-old\s+2\s+2\s+2/);
    expect(text.stdout).toContain('Fingerprint key: the one this store was built with.');
    expect(rows('rotate.db')).toEqual(before);

    // The old KEK removed before rotation: refused, naming it and the way out.
    const refused = await run(['start', '--config', newConfig, '--port', '0', '--db', 'rotate.db']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('configuration_invalid');
    expect(refused.stderr).toContain('kek-old (vault, tokens, idempotency)');
    expect(refused.stderr).toContain('token-service vault rotate');
    // Without --json it says the same and exits 1.
    const missing = await run(['vault', 'status', '--config', newConfig, '--store', 'rotate.db']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/kek-old\s+2\s+2\s+2\s+not configured/);

    // Rotation while a server with the new key first serves (and writes) on the same store.
    const running = await startServer(bothConfig, 'rotate.db');
    const third = await postSubmission(running.url, (await buildSubmission(fx, { card: { pan: '4111111111111137', expiry: { month: 1, year: 2031 } } })).submission, { idempotencyKey: 'card-3' });
    expect(third.status).toBe(201);
    const token3 = parseProvisioningResponse(await third.text());
    const rotated = await run(['vault', 'rotate', '--config', bothConfig, '--store', 'rotate.db', '--batch-size', '1', '--json']);
    expect(rotated.code).toBe(0);
    const result = JSON.parse(rotated.stdout) as StatusJson;
    expect(result.rotated).toMatchObject({ keyId: 'kek-new', resealed: { vault: 2, tokens: 2, idempotency: 2 } });
    expect(countsOf(result)).toEqual({ 'kek-new': [3, 3, 3], 'kek-old': [0, 0, 0] });
    const again = await run(['vault', 'rotate', '--config', bothConfig, '--store', 'rotate.db']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Sealed again under kek-new: 0 vault entries, 0 token numbers, 0 stored answers.');
    expect(again.stdout).toMatch(/kek-old\s+0\s+0\s+0\s+holds nothing: may be removed/);
    await running.stop();

    // Every sealed value changed, nothing that carries uniqueness or finds a card did.
    const after = rows('rotate.db');
    const strip = (r: Record<string, string>[], column: string) => r.map(({ [column]: _sealed, ...rest }) => rest);
    expect(strip(after.tokens.filter((t) => t.token_reference_id !== token3.tokenReferenceId), 'sealed_token_number')).toEqual(strip(before.tokens, 'sealed_token_number'));
    expect(strip(after.vault.filter((t) => t.token_reference_id !== token3.tokenReferenceId), 'sealed_card')).toEqual(strip(before.vault, 'sealed_card'));
    for (const r of [...after.tokens.map((t) => t.sealed_token_number), ...after.vault.map((v) => v.sealed_card), ...after.idempotency.map((i) => i.sealed_response)]) {
      expect(r!.startsWith('v1.kek-new.')).toBe(true);
    }

    // The old KEK gone: the server starts, the stored answer replays byte for byte, the card is found, a new card gets a new number.
    const final = await startServer(newConfig, 'rotate.db');
    const replayed = await postSubmission(final.url, first, { idempotencyKey: 'card-1' });
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(await replayed.text()).toBe(createdText);
    const { submission: sameCard } = await buildSubmission(fx, { identifiers: createIdentifiers({ walletAccountId: identifiers.walletAccountId, deviceId: identifiers.deviceId }) });
    const found = await postSubmission(final.url, sameCard, { idempotencyKey: 'card-1-again' });
    expect(found.status).toBe(200);
    const foundBody = parseProvisioningResponse(await found.text());
    expect(foundBody.tokenReferenceId).toBe(token1.tokenReferenceId);
    expect(foundBody.accessData!.tokenNumber).toBe(token1.accessData!.tokenNumber);
    const fourth = await postSubmission(final.url, (await buildSubmission(fx)).submission, { idempotencyKey: 'card-4' });
    expect(fourth.status).toBe(201);
    const numbers = [token1, token2, token3, parseProvisioningResponse(await fourth.text())].map((t) => t.accessData!.tokenNumber);
    expect(new Set(numbers).size).toBe(4);
    await final.stop();
    expectNoSecrets(keySet, bothKeys);
    for (const n of numbers) expect(printed.join('\n')).not.toContain(n);
  }, 180_000);

  it('pin-fingerprint-key writes the derived fingerprint key into a key set (mode 600, never printed); a changed first KEK is refused until it is pinned', async () => {
    const generated = await generateKeySet({ kid: 'svc-pin', kekId: 'kek-first' });
    const derivedKeys = withVault(generated, { keks: generated.vault!.keks });
    const fx = await sandbox(derivedKeys);
    const derivedConfig = writeConfig(fx, 'derived', derivedKeys);
    const server = await startServer(derivedConfig, 'pin.db');
    const identifiers = createIdentifiers();
    const created = await postSubmission(server.url, (await buildSubmission(fx, { identifiers })).submission);
    expect(created.status).toBe(201);
    const token = parseProvisioningResponse(await created.text());
    await server.stop();

    // The first KEK replaced without pinning: refused, telling the operator how to proceed.
    const kekNew = { id: 'kek-second', key: toBase64Url(crypto.getRandomValues(new Uint8Array(32))) };
    const replacedKeys = withVault(generated, { keks: [kekNew] });
    const replacedConfig = writeConfig(fx, 'replaced', replacedKeys);
    const refused = await run(['start', '--config', replacedConfig, '--port', '0', '--db', 'pin.db']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('differs from the one this store was built with');
    expect(refused.stderr).toContain('token-service vault pin-fingerprint-key');
    // Pinning the wrong (new) derived key is refused, writing nothing.
    const wrong = await run(['vault', 'pin-fingerprint-key', '--config', replacedConfig, '--out', 'wrong.keys.json', '--store', 'pin.db']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('Nothing was written');
    expect(existsSync(join(temp.dir, 'wrong.keys.json'))).toBe(false);

    const pin = await run(['vault', 'pin-fingerprint-key', '--config', derivedConfig, '--out', 'pinned.keys.json', '--store', 'pin.db']);
    expect(pin.code).toBe(0);
    const file = join(temp.dir, 'pinned.keys.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const pinned = zKeySet.parse(JSON.parse(readFileSync(file, 'utf8'))) as KeySet;
    expect(pinned.vault).toEqual({ keks: generated.vault!.keks, fingerprintKey: toBase64Url(deriveFingerprintKey(Buffer.from(generated.vault!.keks[0]!.key, 'base64url'))) });
    expect(pinned.encryptionKeys).toEqual(generated.encryptionKeys);
    expect(pin.stdout + pin.stderr).not.toContain(pinned.vault!.fingerprintKey);
    // An existing file is replaced only with --force.
    expect((await run(['vault', 'pin-fingerprint-key', '--config', derivedConfig, '--out', 'pinned.keys.json'])).code).toBe(2);
    expect((await run(['vault', 'pin-fingerprint-key', '--config', derivedConfig, '--out', 'pinned.keys.json', '--force'])).code).toBe(0);
    expect(zKeySet.parse(JSON.parse(readFileSync(file, 'utf8')))).toEqual(pinned);

    // Pinned, the new KEK goes first: the service starts and finds the card; rotation then moves the old KEK's values.
    const rotatedKeys = withVault(pinned, { keks: [kekNew, ...pinned.vault!.keks], fingerprintKey: pinned.vault!.fingerprintKey });
    const rotatedConfig = writeConfig(fx, 'pinned-rotated', rotatedKeys);
    const restarted = await startServer(rotatedConfig, 'pin.db');
    const found = await postSubmission(restarted.url, (await buildSubmission(fx, { identifiers: createIdentifiers({ walletAccountId: identifiers.walletAccountId, deviceId: identifiers.deviceId }) })).submission);
    expect(found.status).toBe(200);
    expect(parseProvisioningResponse(await found.text()).tokenReferenceId).toBe(token.tokenReferenceId);
    await restarted.stop();
    const rotated = await run(['vault', 'rotate', '--config', rotatedConfig, '--store', 'pin.db', '--json']);
    expect(rotated.code).toBe(0);
    expect(countsOf(JSON.parse(rotated.stdout) as StatusJson)).toEqual({ 'kek-second': [1, 1, 2], 'kek-first': [0, 0, 0] });
    expect((await run(['vault', 'pin-fingerprint-key', '--config', rotatedConfig, '--out', 'noop.keys.json'])).stdout).toContain('nothing to pin');
    expect((await run(['vault', 'status', '--config', rotatedConfig, '--store', 'missing.db'])).code).toBe(2);
    expectNoSecrets(generated, replacedKeys);
  }, 180_000);
});
