/**
 * The wallet side of device push provisioning: handle an issuer's invocation
 * on any app channel, ask the user, exchange identifiers, submit the
 * encrypted request to the token service, store the access data and report
 * the result. Runtime-agnostic: browsers, React Native and Node.
 *
 * @packageDocumentation
 * @module @pushprov/wallet-sdk
 */
export { createWallet } from './wallet/create-wallet.js';
export type {
  ConsentHandler,
  ConsentPrompt,
  HandleInvocationOptions,
  IdentityProvider,
  Network,
  TokenSummary,
  Wallet,
  WalletEvent,
  WalletEventListener,
  WalletIdentity,
  WalletOptions,
  WalletOutcome,
  WalletSession,
  WalletSessionState,
} from './wallet/types.js';
export type { GetTokenStatusOptions, SubmitOptions, TokenServiceClient } from './token-service/token-service-client.js';
export {
  createHttpTokenServiceClient,
  type ApiKeyAuth,
  type BearerTokenAuth,
  type ClientAssertionAuth,
  type FetchLike,
  type FetchResponseLike,
  type HttpSubmitOptions,
  type HttpTokenServiceClient,
  type HttpTokenServiceClientOptions,
  type RetryInfo,
} from './token-service/create-http-token-service-client.js';
export type { RetryDelayOptions } from './token-service/retry.js';
export { createMemoryTokenStore, type StoredToken, type TokenStore } from './token-store/token-store.js';
export {
  createMemorySeenSessionStore,
  type MemorySeenSessionStoreOptions,
  type SeenSessionStore,
} from './seen-sessions/seen-session-store.js';
export {
  OpenerIssuerChannel,
  createOpenerIssuerChannel,
  type MessageEventLike,
  type MessageTargetLike,
  type OpenerIssuerChannelOptions,
  type WindowLike,
} from './channel/create-opener-issuer-channel.js';
