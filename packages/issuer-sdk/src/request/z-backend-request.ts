import { zIdentifiers, zInvocation, zOpaqueId, zVersion } from '@pushprov/protocol';
import * as z from 'zod/mini';

/**
 * Body of `POST` to the issuer backend asking it to build the encrypted
 * provisioning request for an account and the wallet's identifiers.
 *
 * @example
 * ```ts
 * const body = parseWith(zBuildRequestBody, await request.text(), { name: 'build request' });
 * ```
 */
export const zBuildRequestBody = z.strictObject({
  type: z.literal('build-request'),
  version: zVersion,
  /** The issuer's reference to the account the user picked. */
  accountRef: zOpaqueId,
  /** The identifiers the wallet answered with. */
  identifiers: zIdentifiers,
});
/**
 * Body asking the issuer backend to build a provisioning request.
 *
 * @example
 * ```ts
 * const body: BuildRequestBody = { type: 'build-request', version: 1, accountRef: 'acc_8f2c', identifiers };
 * ```
 */
export type BuildRequestBody = z.infer<typeof zBuildRequestBody>;

/**
 * Body of `POST` to the issuer backend asking it to sign an invocation for an account.
 *
 * @example
 * ```ts
 * const body = parseWith(zSignInvocationBody, json, { name: 'sign invocation request' });
 * ```
 */
export const zSignInvocationBody = z.strictObject({
  type: z.literal('sign-invocation'),
  version: zVersion,
  accountRef: zOpaqueId,
  /** The unsigned invocation. */
  invocation: zInvocation,
});
/**
 * Body asking the issuer backend to sign an invocation.
 *
 * @example
 * ```ts
 * const body: SignInvocationBody = { type: 'sign-invocation', version: 1, accountRef: 'acc_8f2c', invocation };
 * ```
 */
export type SignInvocationBody = z.infer<typeof zSignInvocationBody>;

/**
 * Every body the issuer backend endpoint accepts.
 *
 * @example
 * ```ts
 * const body = parseWith(zIssuerBackendRequest, await request.text(), { name: 'issuer backend request' });
 * if (body.type === 'build-request') console.log(body.identifiers.sessionId);
 * ```
 */
export const zIssuerBackendRequest = z.discriminatedUnion('type', [zBuildRequestBody, zSignInvocationBody]);
/**
 * Every body the issuer backend endpoint accepts.
 *
 * @example
 * ```ts
 * function route(body: IssuerBackendRequest) {
 *   return body.type === 'build-request' ? build(body) : sign(body);
 * }
 * ```
 */
export type IssuerBackendRequest = z.infer<typeof zIssuerBackendRequest>;
