/**
 * What the load and crash tests share: the sandbox written as configuration
 * files, a bounded worker pool, one provisioning attempt recorded whole, and
 * the vault cipher of the sandbox (to read back what the service sealed).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Submission, systemClock } from '@pushprov/protocol';
import { type VaultCipher, createVaultCipher, deriveFingerprintKey } from '@pushprov/token-service';
import { freshIdempotencyKey } from './http.js';
import { API_KEY, type Sandbox, buildRequest, createIdentifiers } from './sandbox.js';

/**
 * Writes the sandbox's key set to `keys.json` (mode 600) and a configuration
 * naming it to `config.json` in `dir`, as an operator would. Returns the
 * configuration's path.
 */
export function writeServiceFiles(sb: Sandbox, dir: string): string {
  writeFileSync(join(dir, 'keys.json'), JSON.stringify(sb.keySet), { mode: 0o600 });
  const config = { ...sb.config, keys: './keys.json' };
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** The sandbox's vault cipher: opens what the service sealed (token numbers, cards). */
export function sandboxCipher(sb: Sandbox): VaultCipher {
  const vault = sb.keySet.vault!;
  const keys = vault.keks.map((k) => ({ id: k.id, key: new Uint8Array(Buffer.from(k.key, 'base64url')) }));
  const fingerprintKey = vault.fingerprintKey === undefined ? deriveFingerprintKey(keys[0]!.key) : new Uint8Array(Buffer.from(vault.fingerprintKey, 'base64url'));
  return createVaultCipher({ keys, fingerprintKey });
}

/**
 * Runs `task(i)` for i in [0, count) with at most `concurrency` in flight;
 * stops taking new work once `stop()` is true.
 */
export async function runPool(count: number, concurrency: number, task: (index: number) => Promise<void>, stop: () => boolean = () => false): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (!stop()) {
      const index = next++;
      if (index >= count) return;
      await task(index);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** One provisioning of the load: what was sent, and what came back. */
export interface Attempt {
  index: number;
  deviceId: string;
  idempotencyKey: string;
  body: string;
  submission: Submission;
  /** `sent` once the request left; then `answered` with the answer, or `failed` (no answer: connection error, timeout). */
  state: 'built' | 'sent' | 'answered' | 'failed';
  status?: number | undefined;
  text?: string | undefined;
  replayed?: boolean | undefined;
}

/** Builds a fresh request (real time, a device of its own, the canary card) for load index `index`. */
export async function buildAttempt(sb: Sandbox, index: number, prefix: string): Promise<Attempt> {
  const deviceId = `${prefix}-${index}`;
  const { submission } = await buildRequest(sb, { identifiers: createIdentifiers({ deviceId }), clock: systemClock });
  return { index, deviceId, idempotencyKey: freshIdempotencyKey(prefix), body: JSON.stringify(submission), submission, state: 'built' };
}

/** POSTs an attempt (its exact body and idempotency key) and records the answer. */
export async function sendAttempt(url: string, attempt: Attempt, timeoutMs = 30_000): Promise<Attempt> {
  attempt.state = 'sent';
  try {
    const response = await fetch(`${url}/v1/provisioning-requests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, 'idempotency-key': attempt.idempotencyKey },
      body: attempt.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    attempt.status = response.status;
    attempt.text = text;
    attempt.replayed = response.headers.get('idempotent-replayed') === 'true';
    attempt.state = 'answered';
  } catch {
    attempt.state = 'failed';
  }
  return attempt;
}
