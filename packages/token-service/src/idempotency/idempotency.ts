// Idempotency (docs/protocol.md section 7.2), held by the store: a request
// begins by taking its key's pending entry with a lease; the entry is
// completed in the same commit as the token, burnt with a refusal that
// sticks, or released. Nothing of it lives in one process's memory.
import { HttpError, InternalError, type ProvisioningResponse, type RandomSource, createId, parseProvisioningResponse } from '@pushprov/protocol';
import type { SubmitResult } from '../provisioning/types.js';
import type { IdempotencyRecord, TokenServiceStore } from '../store/types.js';
import type { VaultCipher } from '../vault/vault-cipher.js';

/** The codes idempotency (the second half of step 3) answers with. */
export const IDEMPOTENCY_CODES = ['idempotency_key_reused', 'idempotency_in_flight'] as const;

/** The sealing context of a stored answer: it opens only under its own scope and key. */
export const idempotencyContext = (scope: string, key: string): string => `${scope}\u0000${key}`;

/** A request's hold on its idempotency key. */
export interface IdempotencyLease {
  scope: string;
  key: string;
  requestHash: string;
  leaseId: string;
}

/** Opens a stored answer for a request with `requestHash`; another body is `idempotency_key_reused`. */
export function replayStored(cipher: VaultCipher, record: IdempotencyRecord, requestHash: string): SubmitResult {
  if (record.requestHash !== requestHash) throw new HttpError('idempotency_key_reused', 'This idempotency key was used with another request body');
  const text = cipher.open(record.sealedResponse, 'idempotency-response', idempotencyContext(record.scope, record.key));
  parseProvisioningResponse(text);
  // The stored text is what was answered; JSON.parse keeps its member order, so the replay is byte for byte the same.
  const body = JSON.parse(text) as ProvisioningResponse;
  return { status: record.status === 200 ? 200 : 201, body, replayed: true };
}

/**
 * Begins a request for its key, atomically in the store: the stored answer
 * of the same body is replayed (`{ stored }`), another body's is
 * `idempotency_key_reused`, a live attempt is `idempotency_in_flight`
 * (retryable: it may still be refused and store nothing); otherwise this
 * request now holds the key (`{ lease }`) for `leaseMs`.
 */
export async function beginIdempotent(
  deps: { store: TokenServiceStore; cipher: VaultCipher; random: RandomSource; nowMs: number; leaseMs: number },
  scope: string,
  key: string,
  requestHash: string,
): Promise<{ lease: IdempotencyLease } | { stored: SubmitResult }> {
  const leaseId = createId('lease', deps.random);
  const outcome = await deps.store.idempotency.begin({ scope, key, requestHash, leaseId, nowMs: deps.nowMs, leaseMs: deps.leaseMs });
  switch (outcome.state) {
    case 'started':
      return { lease: { scope, key, requestHash, leaseId } };
    case 'stored':
      return { stored: replayStored(deps.cipher, outcome.record, requestHash) };
    case 'mismatch':
      throw new HttpError('idempotency_key_reused', 'This idempotency key was used with another request body');
    case 'in_flight':
      throw new HttpError('idempotency_in_flight', 'A request with this idempotency key is in progress');
    default:
      throw new InternalError('internal_error', 'The store answered an unknown idempotency state');
  }
}

/**
 * After a conflict on the key or the `jti`: the answer stored under this
 * key for this body, if there is one (a lost answer is always recoverable
 * with the same key, on any instance); undefined otherwise.
 */
export async function findStoredAnswer(store: TokenServiceStore, cipher: VaultCipher, lease: IdempotencyLease): Promise<SubmitResult | undefined> {
  const record = await store.idempotency.find(lease.scope, lease.key);
  return record === undefined ? undefined : replayStored(cipher, record, lease.requestHash);
}
