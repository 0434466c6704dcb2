/**
 * The yellow path in the bank's app: read the verification methods of a
 * token `pending_activation`, and activate it app-to-app once the wallet has
 * opened the app and the customer has signed in, through the bank's backend
 * (`createActivationHandler` in `@pushprov/issuer-sdk/server`). A separate
 * entry, so an app that never meets it does not ship it.
 *
 * @packageDocumentation
 * @module @pushprov/issuer-sdk/activation
 */
export {
  createBackendActivationSource,
  type BackendActivationSource,
  type BackendActivationSourceOptions,
} from './activation/create-backend-activation-source.js';
export {
  receiveActivationInvocation,
  type ReceiveActivationInvocationOptions,
  type ReceivedActivation,
} from './activation/receive-activation-invocation.js';
