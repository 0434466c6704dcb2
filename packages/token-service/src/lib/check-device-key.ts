import { type PublicEcJwk, SchemaError } from '@pushprov/protocol';

/**
 * Checks that a submission's device key is a real P-256 public key (a point
 * on the curve), so access data can be encrypted to it. The schema checks
 * only its shape; a point off the curve is `invalid_message`, refused with
 * the body (step 3) before any other work.
 *
 * @example
 * ```ts
 * if (submission.devicePublicKey) await checkDevicePublicKey(submission.devicePublicKey);
 * ```
 */
export async function checkDevicePublicKey(jwk: PublicEcJwk): Promise<void> {
  try {
    await globalThis.crypto.subtle.importKey('jwk', { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
  } catch (cause) {
    throw new SchemaError('invalid_message', 'Invalid submission: devicePublicKey: must be a point on the P-256 curve', { cause });
  }
}
