import { type KeyJwk, createError, signInvocation } from '@pushprov/protocol';
import { isPrivateSigningKey } from '../lib/seal-bound-request.js';
import type { InvocationSigner } from '../request/provisioning-request-source.js';

/**
 * An {@link InvocationSigner} that signs in the app with an issuer key, for
 * apps that hold one. Most apps sign through their backend instead
 * (`createBackendRequestSource(...).signInvocation`) or not at all.
 *
 * @example
 * ```ts
 * import { createInvocationSigner } from '@pushprov/issuer-sdk/local';
 * const issuer = createIssuerClient({ issuerId: 'bank-a', requestSource, invocationSigner: createInvocationSigner(issuerPrivateJwk) });
 * ```
 */
export function createInvocationSigner(signingKey: KeyJwk): InvocationSigner {
  if (!isPrivateSigningKey(signingKey)) throw createError('configuration_invalid', 'signingKey must be a private ES256 or EdDSA JWK with a kid');
  return (invocation) => signInvocation(invocation, signingKey);
}
