/**
 * The wallet side of device push provisioning: handle an issuer's invocation
 * on any app channel, ask the user, exchange identifiers, submit the
 * encrypted request to the token service, store the access data and report
 * the result. Runtime-agnostic: browsers, React Native and Node.
 *
 * Transports live in their own entries, so an app ships only what it uses:
 * `@pushprov/wallet-sdk/http` (the token service HTTP client) and
 * `@pushprov/wallet-sdk/browser` (the popup channel); so do device keys:
 * `@pushprov/wallet-sdk/device-key` (access data encrypted to this device,
 * the JWE decryption); and so does the yellow
 * path: `@pushprov/wallet-sdk/activation` (verify the cardholder of a token
 * `pending_activation`).
 *
 * @packageDocumentation
 * @module @pushprov/wallet-sdk
 */
export { createWallet } from './wallet/create-wallet.js';
export type {
  ConsentAnswer,
  ConsentHandler,
  ConsentPrompt,
  DeviceKey,
  HandleInvocationOptions,
  IdentityProvider,
  Network,
  PromptAccount,
  SessionDeviceKey,
  TokenSummary,
  Wallet,
  WalletAccountOutcome,
  WalletEvent,
  WalletEventListener,
  WalletIdentity,
  WalletOptions,
  WalletOutcome,
  WalletSession,
  WalletSessionState,
} from './wallet/types.js';
export type { GetTokenStatusOptions, QueryTokensOptions, SubmitOptions, TokenServiceClient, VerificationCallOptions } from './token-service/token-service-client.js';
export { createMemoryTokenStore, type StoredActivation, type StoredToken, type TokenStore } from './token-store/token-store.js';
export {
  createMemorySeenSessionStore,
  type MemorySeenSessionStoreOptions,
  type SeenSessionStore,
} from './seen-sessions/seen-session-store.js';
