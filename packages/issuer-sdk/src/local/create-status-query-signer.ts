import { type SigningKeyHandle, type SigningKeyInput, createError, signStatusQuery } from '@pushprov/protocol';
import { toSigningKeyHandle } from '@pushprov/protocol/internal';
import type { StatusQuerySigner } from '../status/query-status.js';
import type { InvocationSignerOptions } from './create-invocation-signer.js';

/**
 * A `StatusQuerySigner` (for `queryStatus` of `@pushprov/issuer-sdk/status`)
 * that signs in the app with an issuer key, for sandboxes, tests and demos
 * only: it refuses to be created (`configuration_invalid`) without
 * `{ sandbox: true }`. A production app signs on its backend
 * (`createBackendStatusQuerySigner`), which also checks that the accounts
 * are the signed-in user's.
 *
 * @example
 * ```ts
 * import { createStatusQuerySigner } from '@pushprov/issuer-sdk/local';
 * const signer = createStatusQuerySigner(sandboxIssuerPrivateJwk, { sandbox: true });
 * const states = await queryStatus(wallet, { issuerId: 'bank-a', accountIds: ['acct_1'], signer });
 * ```
 */
export function createStatusQuerySigner(signingKey: SigningKeyInput, options: InvocationSignerOptions): StatusQuerySigner {
  if (options?.sandbox !== true) {
    throw createError(
      'configuration_invalid',
      'createStatusQuerySigner holds the issuer signing key in the app: it runs only against a sandbox ({ sandbox: true }). In production, sign on the issuer backend',
    );
  }
  let handle: SigningKeyHandle;
  try {
    handle = toSigningKeyHandle(signingKey);
  } catch (cause) {
    throw createError('configuration_invalid', 'signingKey must be a private ES256 or EdDSA JWK with a kid, or a signing key handle', { cause });
  }
  return (query) => signStatusQuery(query, handle);
}
