/**
 * Test helpers: the reference token service started from its CLI (SQLite in
 * a temporary folder, 127.0.0.1, a free port, stopped by PID), a profile for
 * it, and the runner's CLI run as a child process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateEncryptionKey, generateSigningKey, luhnCheckDigit } from '@pushprov/protocol';
import type { TokenServiceProfileInput } from '../src/profile.js';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = join(here, '..', '..', '..');
const TSX = pathToFileURL(require.resolve('tsx')).href;
/** The token service CLI source (run through tsx). Only ever spawned: the runner has no dependency on its code. */
export const TOKEN_SERVICE_CLI = join(REPO_ROOT, 'packages', 'token-service', 'src', 'cli.ts');
/** The runner's CLI and reference adapter, from source. */
export const RUNNER_CLI = join(here, '..', 'src', 'cli.ts');
export const ADAPTER_JS = join(here, '..', 'src', 'adapter-js.ts');

/** `node --conditions=source --import tsx`: how the tests run TypeScript sources as commands. */
export const NODE_TS = [process.execPath, '--conditions=source', '--import', TSX];

/** A temporary folder, removed by `remove()`. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const withLuhn = (partial: string) => partial + luhnCheckDigit(partial);

/** A running reference token service. */
export interface ReferenceService {
  url: string;
  profile: TokenServiceProfileInput;
  child: ChildProcess;
  stderr: () => string;
  /** Stops it (SIGTERM by PID, then SIGKILL after 5 s). */
  stop: () => Promise<void>;
}

const children = new Set<ChildProcess>();
/** Kills every child still running. For `afterAll`. */
export function killChildren(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  children.clear();
}

/**
 * Writes a token service configuration (fresh keys; one issuer with the
 * profile's signing key and BIN range; a wallet provider with an API key and a
 * client assertion key; a second provider the issuer does not accept; a card
 * the issuer declines; a card it steps up; a second issuer) and starts
 * `token-service start --sandbox` on port 0 (the sandbox inbox holds the
 * one-time codes the yellow path cases read).
 */
export async function startReferenceService(dir: string, options: { store?: string } = {}): Promise<ReferenceService> {
  const [serviceKey, issuerKey, providerKey, otherIssuerKey] = await Promise.all([
    generateEncryptionKey({ kid: 'ts-conformance-1' }),
    generateSigningKey({ alg: 'ES256', kid: 'bank-c-sig-1' }),
    generateSigningKey({ alg: 'EdDSA', kid: 'wallet-c-sig-1' }),
    generateSigningKey({ alg: 'ES256', kid: 'bank-d-sig-1' }),
  ]);
  const apiKey = `conformance-test-api-key-${'0123456789abcdef'.repeat(2)}`;
  const otherApiKey = `conformance-other-api-key-${'fedcba9876543210'.repeat(2)}`;
  const pan = withLuhn('471234567890123');
  const decliningPan = withLuhn('471234000000002');
  const stepUpPan = withLuhn('471234000000006');
  const config = {
    serviceId: 'ts-conformance',
    keys: {
      encryptionKeys: { keys: [serviceKey.privateJwk] },
      vault: { keks: [{ id: 'kek-1', key: Buffer.alloc(32, 7).toString('base64url') }], fingerprintKey: Buffer.alloc(32, 9).toString('base64url') },
    },
    issuers: [
      {
        id: 'bank-c',
        jwks: { keys: [issuerKey.publicJwk] },
        binRanges: [{ start: '471234', end: '471234' }],
        walletProviders: ['wallet-c'],
        decision: { default: 'approve', byLast4: { [decliningPan.slice(-4)]: 'decline', [stepUpPan.slice(-4)]: 'step_up' } },
        // What a step-up offers: a code by SMS (sent to the sandbox inbox) and the issuer's app.
        verificationMethods: [
          { id: 'sms', type: 'otp_sms', destination: '•••• 0199' },
          { id: 'app', type: 'issuer_app' },
        ],
      },
      // A second issuer: it must not read or activate bank-c's tokens.
      { id: 'bank-d', jwks: { keys: [otherIssuerKey.publicJwk] }, binRanges: [{ start: '471235', end: '471235' }], walletProviders: ['wallet-c'] },
    ],
    walletProviders: [
      { id: 'wallet-c', apiKeys: [apiKey], jwks: { keys: [providerKey.publicJwk] } },
      { id: 'wallet-other', apiKeys: [otherApiKey] },
    ],
    tokenRange: { bin: '489537', length: 16 },
  };
  const configPath = join(dir, 'token-service.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2), { mode: 0o600 });
  // Sandbox mode: the one-time codes of the yellow path are kept for GET /sandbox/inbox (the profile's codeInbox).
  const child = spawn(...spawnArgs([TOKEN_SERVICE_CLI, 'start', '--sandbox', '--config', configPath, '--port', '0', '--host', '127.0.0.1', '--store', options.store ?? join(dir, 'token-service.db')]), {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  let url: string | undefined;
  while (url === undefined) {
    const line = out.split('\n').find((l) => l.includes('"msg":"listening"'));
    if (line) url = (JSON.parse(line) as { url: string }).url;
    else if (child.exitCode !== null) throw new Error(`the token service exited: ${err.slice(0, 2000)}`);
    else if (Date.now() > deadline) {
      process.kill(child.pid!, 'SIGKILL');
      throw new Error(`the token service did not start: ${err.slice(0, 2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const profile: TokenServiceProfileInput = {
    kind: 'token-service',
    serviceId: config.serviceId,
    issuer: { id: 'bank-c', signingKey: issuerKey.privateJwk as never, binRanges: config.issuers[0]!.binRanges },
    card: { pan, expiry: { month: 12, year: 2099 }, cardholderName: 'Ada Lovelace' },
    walletProvider: { id: 'wallet-c', apiKey, assertionKey: providerKey.privateJwk as never },
    otherWalletProvider: { id: 'wallet-other', apiKey: otherApiKey, acceptedByIssuer: false },
    decliningCard: { pan: decliningPan, expiry: { month: 12, year: 2099 } },
    stepUpCard: { pan: stepUpPan, expiry: { month: 12, year: 2099 } },
    codeInbox: { path: '/sandbox/inbox' },
    otherIssuer: { id: 'bank-d', signingKey: otherIssuerKey.privateJwk as never },
  };
  return {
    url,
    profile,
    child,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        process.kill(child.pid, 'SIGTERM');
        const timer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      children.delete(child);
    },
  };
}

export function spawnArgs(args: string[]): [string, string[]] {
  return [NODE_TS[0]!, [...NODE_TS.slice(1), ...args]];
}

/** What a CLI run gave. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the runner's CLI (from source) with `args`, at most `timeoutMs`. */
export function runCli(args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(...spawnArgs([RUNNER_CLI, ...args]), { cwd: options.cwd ?? REPO_ROOT, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      reject(new Error(`the CLI did not finish within ${options.timeoutMs ?? 120_000} ms: ${stderr.slice(0, 2000)}`));
    }, options.timeoutMs ?? 120_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}
