// The `token-service` CLI as a spawned process (from source through tsx):
// keys generate, config check, start; SIGKILL and restart lose nothing.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type KeyJwk, generateSigningKey, parseProvisioningResponse, parsePublicJwks, parseTokenStatusResponse, toPublicJwk } from '@pushprov/protocol';
import { generateKeySet, zKeySet } from '../src/index.js';
import { testDatabaseUrl } from '../../../test/support/postgres.js';
import { API_KEY, PAN, SERVICE_ID, WALLET, buildSubmission, createFixture, createTempDir, postSubmission } from './helpers.js';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

let temp: ReturnType<typeof createTempDir>;
const children: ChildProcess[] = [];

beforeAll(() => {
  temp = createTempDir('cli-');
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

function spawnCli(args: string[], env: Record<string, string> = {}): Spawned {
  const child = spawn(process.execPath, ['--conditions=source', '--import', TSX, CLI, ...args], {
    cwd: temp.dir,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exit };
}

/** The parsed "listening" log line of a started server. */
function listeningLine(spawned: Spawned): { threadpoolSize?: unknown } {
  const line = spawned.stdout().split('\n').find((l) => l.includes('"msg":"listening"'));
  if (!line) throw new Error('no listening line');
  return JSON.parse(line) as { threadpoolSize?: unknown };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits (bounded) for the server's "listening" log line and returns its URL. */
async function waitForListening(spawned: Spawned): Promise<string> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    for (const line of spawned.stdout().split('\n')) {
      if (line.includes('"msg":"listening"')) return (JSON.parse(line) as { url: string }).url;
    }
    if (spawned.child.exitCode !== null) throw new Error(`server exited: ${spawned.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('server did not start in time');
}

describe('token-service CLI', () => {
  it('keys generate writes a private key set (mode 600) and prints only its public JWK set; refuses to overwrite', async () => {
    const file = join(temp.dir, 'gen-keys.json');
    const run = spawnCli(['keys', 'generate', '--out', file, '--kid', 'ts-2026']);
    expect(await withTimeout(run.exit, 20_000, 'keys generate')).toEqual({ code: 0, signal: null });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const keySet = zKeySet.parse(JSON.parse(readFileSync(file, 'utf8')));
    expect(keySet.encryptionKeys.keys[0]!.kid).toBe('ts-2026');
    expect(keySet.vault!.keks).toHaveLength(1);
    const published = parsePublicJwks(JSON.parse(run.stdout()));
    expect(published.keys[0]).toMatchObject({ kid: 'ts-2026', x: keySet.encryptionKeys.keys[0]!.x });
    expect(run.stdout()).not.toContain(keySet.encryptionKeys.keys[0]!.d);
    expect(run.stdout()).not.toContain(keySet.vault!.keks[0]!.key);
    // The notification signing key (ES256): in the set, published after the encryption key (use sig), its d never printed.
    const signing = keySet.signingKeys!.keys[0]!;
    expect(signing).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(published.keys[1]).toEqual({ kty: 'EC', crv: 'P-256', x: signing.x, y: signing.y, kid: signing.kid, alg: 'ES256', use: 'sig' });
    expect(run.stdout()).not.toContain(signing.d);

    const again = spawnCli(['keys', 'generate', '--out', file]);
    expect((await withTimeout(again.exit, 20_000, 'keys generate again')).code).toBe(2);
    expect(again.stderr()).toContain('exists; pass --force');

    // --force over a file that was world-readable leaves it private too.
    chmodSync(file, 0o644);
    const forced = spawnCli(['keys', 'generate', '--out', file, '--force']);
    expect((await withTimeout(forced.exit, 20_000, 'keys generate --force')).code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('keys generate --force writes a new private file and renames it over the old one, never writing into the old file', async () => {
    const dir = join(temp.dir, 'force');
    mkdirSync(dir);
    const file = join(dir, 'keys.json');
    writeFileSync(file, 'old secret\n', { mode: 0o644 });
    const before = statSync(file).ino;
    const forced = spawnCli(['keys', 'generate', '--out', file, '--force']);
    expect((await withTimeout(forced.exit, 20_000, 'keys generate --force')).code).toBe(0);
    // A new file (another inode), mode 600 from its creation: the secrets never sat in the old, readable file.
    expect(statSync(file).ino).not.toBe(before);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(zKeySet.parse(JSON.parse(readFileSync(file, 'utf8'))).vault!.keks).toHaveLength(1);
    expect(readdirSync(dir)).toEqual(['keys.json']);
  });

  it('keys generate refuses a target that is a symbolic link, with or without --force, and writes nothing through it', async () => {
    const dir = join(temp.dir, 'links');
    mkdirSync(dir);
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'not a key file\n', { mode: 0o644 });
    const link = join(dir, 'keys.json');
    symlinkSync(victim, link);
    for (const args of [['--force'], []]) {
      const run = spawnCli(['keys', 'generate', '--out', link, ...args]);
      expect((await withTimeout(run.exit, 20_000, 'keys generate through a link')).code).toBe(2);
      expect(run.stderr()).toContain('is a symbolic link; refusing to write a key file through it');
      expect(run.stdout()).toBe('');
    }
    expect(readFileSync(victim, 'utf8')).toBe('not a key file\n');
    expect(statSync(victim).mode & 0o777).toBe(0o644);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(victim);
    // A dangling link is refused too (exclusive creation would not follow it either).
    const dangling = join(dir, 'dangling.json');
    symlinkSync(join(dir, 'nowhere.json'), dangling);
    const run = spawnCli(['keys', 'generate', '--out', dangling, '--force']);
    expect((await withTimeout(run.exit, 20_000, 'keys generate through a dangling link')).code).toBe(2);
    expect(readdirSync(dir).sort()).toEqual(['dangling.json', 'keys.json', 'victim.txt']);
  });

  it('config check refuses a key file others can read, naming it and the fix, unless TOKEN_SERVICE_ALLOW_LOOSE_KEY_FILE=1', async () => {
    const dir = join(temp.dir, 'loose');
    mkdirSync(dir);
    const gen = spawnCli(['keys', 'generate', '--out', join(dir, 'keys.json')]);
    expect((await withTimeout(gen.exit, 20_000, 'keys generate')).code).toBe(0);
    const issuer = await generateSigningKey({ kid: 'issuer-loose' });
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({
        serviceId: SERVICE_ID,
        keys: './keys.json',
        issuers: [{ id: 'bank-a', jwks: { keys: [issuer.publicJwk] }, binRanges: [{ start: '411111', end: '411111' }], walletProviders: [WALLET] }],
        walletProviders: [{ id: WALLET, apiKeys: [API_KEY] }],
        tokenRange: { bin: '489537' },
      }),
    );
    expect((await withTimeout(spawnCli(['config', 'check', '--config', 'loose/config.json']).exit, 20_000, 'config check')).code).toBe(0);
    chmodSync(join(dir, 'keys.json'), 0o644);
    const refused = spawnCli(['config', 'check', '--config', 'loose/config.json']);
    expect((await withTimeout(refused.exit, 20_000, 'config check loose')).code).toBe(2);
    expect(refused.stderr()).toContain('keys: the key file "./keys.json" is readable or writable by group or others (mode 644); restrict it with `chmod 600 ./keys.json`');
    const allowed = spawnCli(['config', 'check', '--config', 'loose/config.json'], { TOKEN_SERVICE_ALLOW_LOOSE_KEY_FILE: '1' });
    expect((await withTimeout(allowed.exit, 20_000, 'config check allowed')).code).toBe(0);
  });

  it('config check lists every mistake and exits 2; usage errors exit 2', async () => {
    writeFileSync(join(temp.dir, 'bad.json'), JSON.stringify({ serviceId: 'Bad Id', keys: './missing-keys.json', issuers: [], walletProviders: [], tokenRange: { bin: '1' } }));
    const run = spawnCli(['config', 'check', '--config', 'bad.json']);
    expect((await withTimeout(run.exit, 20_000, 'config check')).code).toBe(2);
    for (const path of ['serviceId', 'issuers', 'walletProviders', 'tokenRange.bin']) expect(run.stderr()).toContain(`  - ${path}:`);
    const usage = spawnCli(['start']);
    expect((await withTimeout(usage.exit, 20_000, 'usage')).code).toBe(2);
    expect(usage.stderr()).toContain('--config is required');
  });

  it('start serves requests; after SIGKILL a restart on the same database still has every acknowledged token, replay and idempotency record', async () => {
    const fx = await createFixture();
    fx.clock.set(Date.now());
    const keysFile = join(temp.dir, 'server-keys.json');
    const gen = spawnCli(['keys', 'generate', '--out', keysFile, '--kid', 'svc-cli']);
    expect((await withTimeout(gen.exit, 20_000, 'keys generate')).code).toBe(0);
    const keySet = zKeySet.parse(JSON.parse(readFileSync(keysFile, 'utf8')));
    const issuer = await generateSigningKey({ kid: 'issuer-cli' });
    writeFileSync(join(temp.dir, 'issuer.jwks.json'), JSON.stringify({ keys: [issuer.publicJwk] }));
    const config = {
      serviceId: SERVICE_ID,
      keys: './server-keys.json',
      issuers: [{ id: 'bank-a', jwks: './issuer.jwks.json', binRanges: [{ start: '411111', end: '411111' }], walletProviders: [WALLET], network: 'visa' }],
      walletProviders: [{ id: WALLET, apiKeys: [API_KEY] }],
      tokenRange: { bin: '489537' },
    };
    writeFileSync(join(temp.dir, 'config.json'), JSON.stringify(config));
    const publicKey = parsePublicJwks(JSON.parse(gen.stdout())).keys[0] as KeyJwk;
    const cliFixture = { ...fx, issuer, serviceEncryptionKey: publicKey };

    const first = spawnCli(['start', '--config', 'config.json', '--port', '0', '--db', 'cli.db']);
    const url = await waitForListening(first);
    // Started without the launcher and without UV_THREADPOOL_SIZE: libuv's default of 4 threads.
    expect(listeningLine(first).threadpoolSize).toBe(4);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    const { submission } = await buildSubmission(cliFixture);
    const created = await postSubmission(url, submission, { idempotencyKey: 'cli-1' });
    expect(created.status).toBe(201);
    const createdText = await created.text();
    const body = parseProvisioningResponse(createdText);

    first.child.kill('SIGKILL');
    expect((await withTimeout(first.exit, 10_000, 'SIGKILL')).signal).toBe('SIGKILL');
    const logs = first.stdout();
    expect(logs).toContain('"msg":"request"');
    expect(logs).not.toContain(PAN);
    expect(logs).not.toContain(body.accessData!.tokenNumber);

    const second = spawnCli(['start', '--config', 'config.json', '--port', '0', '--db', 'cli.db'], { UV_THREADPOOL_SIZE: '2' });
    const url2 = await waitForListening(second);
    expect(listeningLine(second).threadpoolSize).toBe(2);
    const status = await fetch(`${url2}/v1/tokens/${body.tokenReferenceId}`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(parseTokenStatusResponse(await status.text()).tokenReferenceId).toBe(body.tokenReferenceId);
    const replayed = await postSubmission(url2, submission, { idempotencyKey: 'cli-1' });
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(await replayed.text()).toBe(createdText);
    const again = await postSubmission(url2, submission, { idempotencyKey: 'cli-2' });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { code: string }).code).toBe('replayed');

    second.child.kill('SIGTERM');
    expect(await withTimeout(second.exit, 10_000, 'SIGTERM')).toEqual({ code: 0, signal: null });
    expect(keySet.encryptionKeys.keys[0]!.kid).toBe('svc-cli');
  });

  it('start --sandbox serves the sandbox inbox and steps the sandbox test cards up; without it the inbox is 404', async () => {
    const keySet = await generateKeySet({ kid: 'svc-sandbox' });
    writeFileSync(join(temp.dir, 'sandbox-keys.json'), JSON.stringify(keySet), { mode: 0o600 });
    const issuer = await generateSigningKey({ kid: 'issuer-sandbox' });
    const config = {
      serviceId: SERVICE_ID,
      keys: './sandbox-keys.json',
      issuers: [{ id: 'bank-a', jwks: { keys: [issuer.publicJwk] }, binRanges: [{ start: '400000', end: '400000' }], walletProviders: [WALLET], network: 'visa' }],
      walletProviders: [{ id: WALLET, apiKeys: [API_KEY] }],
      tokenRange: { bin: '489537' },
    };
    writeFileSync(join(temp.dir, 'sandbox-config.json'), JSON.stringify(config));
    const fx = await createFixture();
    fx.clock.set(Date.now());
    const cliFixture = { ...fx, issuer, serviceEncryptionKey: toPublicJwk(keySet.encryptionKeys.keys[0]!) };

    const sandbox = spawnCli(['start', '--config', 'sandbox-config.json', '--port', '0', '--db', 'sandbox.db', '--sandbox']);
    const url = await waitForListening(sandbox);
    expect(listeningLine(sandbox)).toMatchObject({ sandbox: true });
    const { submission } = await buildSubmission(cliFixture, { card: { pan: '4000000000000028', expiry: { month: 12, year: 2030 } } });
    const pending = parseProvisioningResponse(await (await postSubmission(url, submission)).text());
    expect(pending.verification?.methods).toEqual([{ id: 'sms', type: 'otp_sms', destination: '•••• 0199' }]);
    const sent = await fetch(`${url}/v1/tokens/${pending.tokenReferenceId}/verification`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, 'idempotency-key': 'cli-v-1' },
      body: JSON.stringify({ type: 'verification-request', version: 1, methodId: 'sms' }),
    });
    expect(sent.status).toBe(200);
    const inbox = (await (await fetch(`${url}/sandbox/inbox?tokenReferenceId=${pending.tokenReferenceId}`)).json()) as { messages: { code: string }[] };
    expect(inbox.messages).toHaveLength(1);
    expect(inbox.messages[0]!.code).toMatch(/^[0-9]{6}$/);
    // the code is in the inbox, never in the log
    expect(sandbox.stdout()).not.toContain(inbox.messages[0]!.code);
    sandbox.child.kill('SIGTERM');
    expect(await withTimeout(sandbox.exit, 10_000, 'SIGTERM')).toEqual({ code: 0, signal: null });

    const plain = spawnCli(['start', '--config', 'sandbox-config.json', '--port', '0', '--db', 'sandbox.db']);
    const plainUrl = await waitForListening(plain);
    const absent = await fetch(`${plainUrl}/sandbox/inbox?tokenReferenceId=${pending.tokenReferenceId}`);
    expect(absent.status).toBe(404);
    plain.child.kill('SIGTERM');
    expect(await withTimeout(plain.exit, 10_000, 'SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('start --store postgres:// refuses a schema that is not migrated, migrate brings it forward once, then start serves from it', async () => {
    const url = await testDatabaseUrl();
    const keySet = await generateKeySet({ kid: 'svc-pg' });
    writeFileSync(join(temp.dir, 'pg-keys.json'), JSON.stringify(keySet), { mode: 0o600 });
    const issuer = await generateSigningKey({ kid: 'issuer-pg' });
    const config = {
      serviceId: SERVICE_ID,
      keys: './pg-keys.json',
      issuers: [{ id: 'bank-a', jwks: { keys: [issuer.publicJwk] }, binRanges: [{ start: '411111', end: '411111' }], walletProviders: [WALLET], network: 'visa' }],
      walletProviders: [{ id: WALLET, apiKeys: [API_KEY] }],
      tokenRange: { bin: '489537' },
    };
    writeFileSync(join(temp.dir, 'pg-config.json'), JSON.stringify(config));

    const refused = spawnCli(['start', '--config', 'pg-config.json', '--port', '0', '--store', url]);
    expect((await withTimeout(refused.exit, 20_000, 'start refused')).code).not.toBe(0);
    expect(refused.stderr()).toMatch(/token-service migrate/);
    expect(refused.stderr()).not.toContain('postgres://');

    const migrated = spawnCli(['migrate', '--store', url]);
    expect((await withTimeout(migrated.exit, 20_000, 'migrate')).code).toBe(0);
    expect(migrated.stdout()).toMatch(/from schema version 0 to [1-9]/);
    const again = spawnCli(['migrate'], { TOKEN_SERVICE_STORE: url });
    expect((await withTimeout(again.exit, 20_000, 'migrate again')).code).toBe(0);
    expect(again.stdout()).toMatch(/nothing to do/);

    // The store from the environment, as an operator keeps a password out of the file.
    const server = spawnCli(['start', '--config', 'pg-config.json', '--port', '0'], { TOKEN_SERVICE_STORE: url });
    const base = await waitForListening(server);
    expect(listeningLine(server)).toMatchObject({ store: 'postgres' });
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
    const fx = await createFixture();
    fx.clock.set(Date.now());
    const publicKey = { ...keySet.encryptionKeys.keys[0]! } as KeyJwk & { d?: string };
    delete publicKey.d;
    const { submission } = await buildSubmission({ ...fx, issuer, serviceEncryptionKey: publicKey });
    const created = await postSubmission(base, submission, { idempotencyKey: 'pg-1' });
    expect(created.status).toBe(201);
    server.child.kill('SIGTERM');
    expect(await withTimeout(server.exit, 10_000, 'SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('migrate brings a SQLite file forward (it also migrates itself when opened) and needs a store to act on', async () => {
    const sqlite = spawnCli(['migrate', '--store', 'migrated.db']);
    expect((await withTimeout(sqlite.exit, 20_000, 'migrate sqlite')).code).toBe(0);
    expect(sqlite.stdout()).toMatch(/migrated\.db from schema version 0 to [1-9]/);
    expect(statSync(join(temp.dir, 'migrated.db')).mode & 0o777).toBe(0o600);
    const none = spawnCli(['migrate']);
    expect((await withTimeout(none.exit, 20_000, 'migrate without a store')).code).toBe(2);
    expect(none.stderr()).toMatch(/--store/);
  });
});
