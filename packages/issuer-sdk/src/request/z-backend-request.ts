import { zIdentifiers, zInvocation, zOpaqueId, zVersion } from '@pushprov/protocol';
import * as z from 'zod/mini';

/**
 * Body of `POST` to the issuer backend asking it to build the encrypted
 * provisioning request for an account and the wallet's identifiers.
 */
export const zBuildRequestBody = z.strictObject({
  type: z.literal('build-request'),
  version: zVersion,
  /** The issuer's reference to the account the user picked. */
  accountRef: zOpaqueId,
  /** The identifiers the wallet answered with. */
  identifiers: zIdentifiers,
});
/** Body asking the issuer backend to build a provisioning request. */
export type BuildRequestBody = z.infer<typeof zBuildRequestBody>;

/** Body of `POST` to the issuer backend asking it to sign an invocation for an account. */
export const zSignInvocationBody = z.strictObject({
  type: z.literal('sign-invocation'),
  version: zVersion,
  accountRef: zOpaqueId,
  /** The unsigned invocation. */
  invocation: zInvocation,
});
/** Body asking the issuer backend to sign an invocation. */
export type SignInvocationBody = z.infer<typeof zSignInvocationBody>;

/** Every body the issuer backend endpoint accepts. */
export const zIssuerBackendRequest = z.discriminatedUnion('type', [zBuildRequestBody, zSignInvocationBody]);
/** Every body the issuer backend endpoint accepts. */
export type IssuerBackendRequest = z.infer<typeof zIssuerBackendRequest>;
