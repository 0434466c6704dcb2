/**
 * The issuer backend side of push provisioning: build the encrypted
 * provisioning request from an account reference (the card never leaves the
 * backend), and serve it to the app through a Fetch API handler; activate a
 * token `pending_activation` once the bank has verified its customer (in its
 * app, app-to-app, or through customer service) with the token service's
 * issuer API; receive the token service's signed notifications
 * (`createNotificationHandler`, `verifyNotification`) and act on the bank's
 * tokens (`createIssuerTokenServiceClient`).
 *
 * @packageDocumentation
 * @module @pushprov/issuer-sdk/server
 */
export {
  createProvisioningRequestBuilder,
  type BuildProvisioningRequestInput,
  type CardLookup,
  type CardRecord,
  type ProvisioningRequestBuilder,
  type ProvisioningRequestBuilderOptions,
  type SignInvocationInput,
  type TokenServiceRecipient,
} from './server/create-provisioning-request-builder.js';
export type { AccountLister, ListAccountsInput, SignStatusQueryInput } from './server/offer-accounts.js';
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
} from '@pushprov/protocol';
export {
  createMemoryNotificationDedupStore,
  createNotificationHandler,
  verifyNotification,
  type MemoryNotificationDedupStoreOptions,
  type NotificationClaimState,
  type NotificationContext,
  type NotificationDedupStore,
  type NotificationEvent,
  type NotificationHandlerOptions,
  type NotificationKeyResolver,
  type VerifiedNotification,
  type VerifyNotificationOptions,
} from '@pushprov/protocol';
export {
  activateToken,
  createIssuerTokenServiceClient,
  type ActivateTokenInput,
  type IssuerActivateOptions,
  type IssuerApiFetch,
  type IssuerCallOptions,
  type IssuerCardSelector,
  type IssuerLifecycleChange,
  type IssuerTokenServiceClient,
  type IssuerTokenServiceClientOptions,
} from './server/create-issuer-token-service-client.js';
export { createActivationHandler, type ActivationHandlerOptions, type TokenOwnership, type TokenOwnershipInput } from './server/create-activation-handler.js';
export {
  zActivateTokenBody,
  zActivationBackendRequest,
  zTokenStatusBody,
  type ActivateTokenBody,
  type ActivationBackendRequest,
  type TokenStatusBody,
} from './request/z-backend-request.js';
export {
  zBuildRequestAccount,
  zBuildRequestBody,
  zIssuerBackendRequest,
  zListAccountsBody,
  zListAccountsResponse,
  zOfferedAccount,
  zSignInvocationBody,
  zSignStatusQueryBody,
  type BuildRequestAccount,
  type BuildRequestBody,
  type IssuerBackendRequest,
  type ListAccountsBody,
  type ListAccountsResponse,
  type OfferedAccount,
  type SignInvocationBody,
  type SignStatusQueryBody,
} from './request/z-backend-request.js';
