/**
 * The issuer SDK, app side: start a push provisioning from the bank's app,
 * follow it as a state machine, and get the encrypted request from the issuer
 * backend (or, with `@pushprov/issuer-sdk/local`, build it in the app).
 * Runs in browsers, React Native and Node: no Node built-ins, `fetch`
 * injected. The browser popup channel is `@pushprov/issuer-sdk/browser`.
 *
 * @packageDocumentation
 * @module @pushprov/issuer-sdk
 */
export {
  createIssuerClient,
  DEFAULT_SESSION_LIFETIME_SECONDS,
  MAX_SESSION_LIFETIME_SECONDS,
  type IssuerClient,
  type IssuerClientOptions,
  type SessionAccount,
  type StartProvisioningOptions,
} from './client/create-issuer-client.js';
export type { ProvisioningSession, SessionTimeouts } from './session/provisioning-session.js';
export { isTerminalState, SESSION_TRANSITIONS, type SessionState, type TerminalSessionState } from './session/session-state.js';
export type {
  OutcomeStatus,
  ProvisioningFailure,
  ProvisioningOutcome,
  ProvisioningSessionEvent,
  ProvisioningSessionListener,
  ProvisioningSuccess,
  SessionAccountEvent,
  SessionAccountOutcome,
  SessionMessageRejectedEvent,
  SessionSnapshot,
  SessionStateEvent,
} from './session/session-events.js';
export type {
  BuildAccountInput,
  BuildRequestInput,
  InvocationSigner,
  TokenStatusSource,
  InvocationSigningContext,
  ProvisioningRequestSource,
  RequestContext,
} from './request/provisioning-request-source.js';
export {
  createBackendRequestSource,
  DEFAULT_BACKEND_TIMEOUT_MS,
  type BackendRequestSource,
  type BackendRequestSourceOptions,
  type BackendFetch,
  type FetchResponseLike,
} from './request/create-backend-request-source.js';
export type { BuildRequestAccount, BuildRequestBody, IssuerBackendRequest, SignInvocationBody } from './request/z-backend-request.js';
