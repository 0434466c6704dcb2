// Runs the one-command demo (`pnpm demo`) as a child process, in both output
// modes, and checks what a reader of its output relies on: every step, the
// two refusals with their codes, valid JSON, exit codes, no card or token
// number anywhere, and nothing left behind.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
/** What `pnpm demo` runs. */
const DEMO = join(root, 'examples/demo/bin/demo.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'pushprov-demo-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** What the demo left in its temporary folder. */
  leftBehind: string[];
}

/** Runs the demo with its own TMPDIR, so whatever it leaves behind can be seen. */
function runDemo(args: string[], tmp = mkdtempSync(join(scratch, 'run-'))): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--conditions=source', DEMO, ...args], {
      cwd: root,
      env: { ...process.env, TMPDIR: tmp, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: args.includes('postgres') ? 85_000 : 45_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', fail);
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr, leftBehind: readdirSync(tmp).filter((f) => f.startsWith('pushprov-demo-')) }));
  });
}

/** Any run of 12 or more digits (also split by spaces or dashes): a card or token number would be one. */
const DIGIT_RUN = /\d(?:[ -]?\d){11,}/;

const STEPS_IN_ORDER = [
  'sandbox started',
  'invocation sent',
  'user consents',
  'identifiers sent',
  'encrypted request built',
  'request delivered',
  'request submitted',
  'request validated',
  'token issued',
  'token stored',
  'result returned',
  'provisioning completed',
  'replayed request refused',
  'request moved to another device refused',
  'step-up requested',
  'code sent by SMS',
  'code read from the sandbox inbox',
  'token activated',
  'token suspended',
  'token resumed',
  'token deleted',
  'notifications received',
  'card number checks',
];

describe('pnpm demo', () => {
  it('provisions the test card step by step, shows both refusals with their codes, and prints only masked numbers', async () => {
    const run = await runDemo([]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.signal).toBeNull();
    const out = run.stdout;

    // Every step, in the order it happened, each with a timing.
    const positions = STEPS_IN_ORDER.map((title) => out.indexOf(title));
    expect(positions.every((p) => p >= 0), `missing steps: ${STEPS_IN_ORDER.filter((_, i) => positions[i]! < 0).join(', ')}`).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    for (const title of STEPS_IN_ORDER) expect(out).toMatch(new RegExp(`${title}.*\\+\\d+\\.\\d ms`));

    // Identifiers and the masked card and token.
    expect(out).toMatch(/session [A-Za-z0-9_-]{8}…/);
    expect(out).toContain('wallet provider wallet-co, wallet account wallet-user-42, device pixel-8-7f3a');
    expect(out).toContain('Visa •••• 1111');
    expect(out).toMatch(/token •••• \d{4} \(card •••• 1111\)/);
    expect(out).toMatch(/token reference tok_[A-Za-z0-9_-]+/);

    // The refusals, with their HTTP status and code.
    expect(out).toContain('→ HTTP 409 replayed');
    expect(out).toContain('→ HTTP 422 device_mismatch');

    // The summary.
    expect(out).toContain('replayed request → 409 replayed · moved to another device → 422 device_mismatch');
    expect(out).toContain('✔ The card was provisioned, and both attacks were refused.');

    // The yellow path: a step-up card, its method with the masked destination, the code from the sandbox inbox.
    expect(out).toContain('Visa •••• 0028 (a sandbox test card)');
    expect(out).toContain('status pending_activation');
    expect(out).toContain('methods: otp_sms to •••• 0199');
    expect(out).toMatch(/GET \/sandbox\/inbox\?tokenReferenceId=tok_[A-Za-z0-9_-]+ \(sandbox mode only\): 1 message, to •••• 0199/);
    expect(out).toMatch(/token •••• \d{4} is active; the wallet’s store says active/);
    expect(out).toContain('yellow path      •••• 0028: otp_sms to •••• 0199, code read from the sandbox inbox → active');
    expect(out).toContain('✔ The yellow-path card was confirmed with a one-time code and is active.');
    // The one-time code itself is never printed: no run of 6 digits appears after "code".
    expect(out).not.toMatch(/code\D{0,20}\b\d{6}\b/);

    // No card or token number anywhere, and nothing left behind.
    expect(out).not.toContain('4111111111111111');
    expect(out).not.toMatch(DIGIT_RUN);
    expect(run.leftBehind).toEqual([]);
  });

  it('--json prints one machine-readable summary with the same facts', async () => {
    const run = await runDemo(['--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(DIGIT_RUN);
    const summary = JSON.parse(run.stdout) as {
      ok: boolean;
      card: { last4: string; network: string };
      sessionId: string;
      token: { tokenReferenceId: string; tokenLast4: string; status: string; encryptedToDevice: boolean };
      request: { alg: string; enc: string; cty: string };
      issuerOutcome: { state: string; status: string };
      refusals: Array<{ attack: string; code: string; status: number }>;
      yellow: { last4: string; tokenReferenceId: string; method: string; destination: string; codeLength: number; attemptsLeft: number; status: string };
      checks: { panInAppMessages: boolean; panInDatabase: boolean };
      steps: Array<{ id: string; elapsedMs: number; stepMs: number }>;
      lifecycle: { changes: unknown[]; bank: unknown[]; wallet: unknown[] };
    };
    expect(summary.ok).toBe(true);
    expect(summary.card).toMatchObject({ last4: '1111', network: 'visa' });
    expect(summary.sessionId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(summary.token).toMatchObject({ status: 'active', encryptedToDevice: true });
    expect(summary.token.tokenLast4).toMatch(/^\d{4}$/);
    expect(summary.token.tokenReferenceId).toMatch(/^tok_/);
    expect(summary.request).toMatchObject({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', cty: 'JWT' });
    expect(summary.issuerOutcome).toEqual({ state: 'completed', status: 'provisioned' });
    expect(summary.refusals.map(({ attack, code, status }) => ({ attack, code, status }))).toEqual([
      { attack: 'replay', code: 'replayed', status: 409 },
      { attack: 'device_move', code: 'device_mismatch', status: 422 },
    ]);
    expect(summary.checks).toMatchObject({ panInAppMessages: false, panInDatabase: false });
    expect(summary.yellow).toMatchObject({ last4: '0028', method: 'otp_sms', destination: '•••• 0199', codeLength: 6, attemptsLeft: 5, status: 'active' });
    expect(summary.yellow.tokenReferenceId).toMatch(/^tok_/);
    expect(summary.steps.map((s) => s.id)).toEqual([
      'setup',
      'invocation',
      'consent',
      'identifiers',
      'request_built',
      'delivered',
      'submitted',
      'validated',
      'token_issued',
      'stored',
      'result',
      'completed',
      'replay_refused',
      'device_move_refused',
      'step_up',
      'code_sent',
      'code_read',
      'activated',
      'suspended',
      'resumed',
      'deleted',
      'notified',
      'vault_checked',
    ]);
    // The token's life, and the signed notifications each backend processed for it, once each, in order.
    expect(summary.lifecycle.changes).toEqual([
      { by: 'wallet', action: 'suspend', previousStatus: 'active', status: 'suspended' },
      { by: 'bank', action: 'resume', previousStatus: 'suspended', status: 'active' },
      { by: 'wallet', action: 'delete', previousStatus: 'active', status: 'deleted' },
    ]);
    const expectedEvents = [
      { type: 'token.created', sequence: 1, actor: 'wallet_provider', reason: 'customer_request' },
      { type: 'token.suspended', sequence: 2, actor: 'cardholder', reason: 'card_lost' },
      { type: 'token.resumed', sequence: 3, actor: 'issuer', reason: 'identity_verified' },
      { type: 'token.deleted', sequence: 4, actor: 'cardholder', reason: 'customer_request' },
    ];
    expect(summary.lifecycle.bank).toEqual(expectedEvents);
    expect(summary.lifecycle.wallet).toEqual(expectedEvents);
    for (const step of summary.steps) expect(step.stepMs).toBeGreaterThanOrEqual(0);
    expect(run.leftBehind).toEqual([]);
  });

  it('--store postgres runs the same flow on a throwaway PostgreSQL cluster, scans its tables, and removes it', async () => {
    const tmp = mkdtempSync(join(scratch, 'pg-'));
    const run = await runDemo(['--json', '--store', 'postgres'], tmp);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(DIGIT_RUN);
    const summary = JSON.parse(run.stdout) as {
      ok: boolean;
      token: { status: string };
      yellow: { status: string };
      refusals: Array<{ code: string }>;
      checks: { panInDatabase: boolean };
    };
    expect(summary.ok).toBe(true);
    expect(summary.token.status).toBe('active');
    expect(summary.yellow.status).toBe('active');
    expect(summary.refusals.map((r) => r.code)).toEqual(['replayed', 'device_mismatch']);
    expect(summary.checks.panInDatabase).toBe(false);
    // Nothing left: neither the demo's folder nor the cluster's.
    expect(readdirSync(tmp)).toEqual([]);
  }, 90_000);

  it('refuses an unknown option with exit code 2 and the usage', async () => {
    const run = await runDemo(['--bogus']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Unknown option '--bogus'");
    expect(run.stderr).toContain('Usage: pnpm demo [--json]');
    expect(run.stdout).toBe('');
  });
});
