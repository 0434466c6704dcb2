/**
 * The issuer backend side of push provisioning: build the encrypted
 * provisioning request from an account reference (the card never leaves the
 * backend), and serve it to the app through a Fetch API handler.
 *
 * @packageDocumentation
 * @module @pushprov/issuer-sdk/server
 */
export {
  createProvisioningRequestBuilder,
  type BuildProvisioningRequestInput,
  type CardLookup,
  type ProvisioningRequestBuilder,
  type ProvisioningRequestBuilderOptions,
  type SignInvocationInput,
  type TokenServiceOptions,
} from './server/create-provisioning-request-builder.js';
export {
  createIssuerBackendHandler,
  type FetchHandler,
  type IssuerBackendHandlerOptions,
  type IssuerBackendLogEvent,
} from './server/create-issuer-backend-handler.js';
export {
  createRemoteJwks,
  type JwksFetch,
  type JwksResponseLike,
  type KeyLookupOptions,
  type RemoteJwks,
  type RemoteJwksOptions,
} from './server/create-remote-jwks.js';
export {
  zBuildRequestBody,
  zIssuerBackendRequest,
  zSignInvocationBody,
  type BuildRequestBody,
  type IssuerBackendRequest,
  type SignInvocationBody,
} from './request/z-backend-request.js';
