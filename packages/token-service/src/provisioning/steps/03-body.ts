// Step 3 of docs/protocol.md section 6: the body. (The idempotency half of
// step 3 is beginIdempotent in ../../idempotency/idempotency.ts.)
import { type Submission, canonicalJson, parseSubmission } from '@pushprov/protocol';
import { checkDevicePublicKey } from '../../lib/check-device-key.js';
import { sha256Hex } from '../../lib/hash.js';

/** The codes step 3 (the body) answers with. */
export const STEP_3_CODES = ['invalid_json', 'invalid_message', 'unsupported_version', 'payload_too_large'] as const;

/**
 * Step 3: strict JSON and the `Submission` schema, a `devicePublicKey` that
 * is a point on P-256; and the request hash idempotency compares
 * (SHA-256 of the canonical JSON, as the protocol's `sha256Hex(canonicalJson(…))`, hashed natively).
 */
export async function parseBody(body: unknown): Promise<{ submission: Submission; requestHash: string }> {
  const submission = parseSubmission(body);
  if (submission.devicePublicKey !== undefined) await checkDevicePublicKey(submission.devicePublicKey);
  return { submission, requestHash: sha256Hex(canonicalJson(submission)) };
}
