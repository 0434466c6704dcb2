import { type SigningKeyHandle, type SigningKeyInput, createError, signInvocation } from '@pushprov/protocol';
import { toSigningKeyHandle } from '@pushprov/protocol/internal';
import type { InvocationSigner } from '../request/provisioning-request-source.js';

/**
 * Options of {@link createInvocationSigner}.
 *
 * @example
 * ```ts
 * const options: InvocationSignerOptions = { sandbox: true };
 * ```
 */
export interface InvocationSignerOptions {
  /**
   * Required, and must be `true`: the signer holds the issuer's private key
   * in the app, which only a sandbox (a test key) may do. A production app
   * signs through its backend (`createBackendRequestSource(...).signInvocation`).
   */
  sandbox: true;
}

/**
 * An {@link InvocationSigner} that signs in the app with an issuer key, for
 * sandboxes, tests and demos only: it refuses to be created
 * (`configuration_invalid`) without `{ sandbox: true }`. A production app
 * signs through its backend (`createBackendRequestSource(...).signInvocation`)
 * or not at all.
 *
 * @example
 * ```ts
 * import { createInvocationSigner } from '@pushprov/issuer-sdk/local';
 * const invocationSigner = createInvocationSigner(sandboxIssuerPrivateJwk, { sandbox: true });
 * const issuer = createIssuerClient({ issuerId: 'bank-a', requestSource, invocationSigner });
 * ```
 */
export function createInvocationSigner(signingKey: SigningKeyInput, options: InvocationSignerOptions): InvocationSigner {
  if (options?.sandbox !== true) {
    throw createError(
      'configuration_invalid',
      'createInvocationSigner holds the issuer signing key in the app: it runs only against a sandbox ({ sandbox: true }). In production, sign on the issuer backend',
    );
  }
  let handle: SigningKeyHandle;
  try {
    handle = toSigningKeyHandle(signingKey);
  } catch (cause) {
    throw createError('configuration_invalid', 'signingKey must be a private ES256 or EdDSA JWK with a kid, or a signing key handle', { cause });
  }
  return (invocation) => signInvocation(invocation, handle);
}
