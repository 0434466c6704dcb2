/**
 * The device push provisioning protocol: message schemas, the JOSE crypto
 * profile, claim and binding checks, typed errors, and helpers for ids,
 * clocks and hashing. No I/O: every other package builds on this one.
 *
 * @packageDocumentation
 * @module @pushprov/protocol
 */
export * from './errors.js';
export * from './schemas/index.js';
export { parseStrictJson, type StrictJsonOptions } from './lib/strict-json.js';
export { readBodyWithLimit, readResponseText, type ResponseBodyLike } from './lib/read-body.js';
export { canonicalJson } from './lib/canonical-json.js';
export { toBase64Url, fromBase64Url } from './lib/base64url.js';
export { withDeadline, type DeadlineOptions } from './lib/deadline.js';
export {
  type JwksFetch,
  type JwksResponseLike,
  type KeyLookupOptions,
  type RemoteJwks,
  type RemoteJwksOptions,
  createRemoteJwks,
} from './jwks/create-remote-jwks.js';
export * from './random.js';
export * from './clock.js';
export * from './hash.js';
export * from './card/luhn.js';
export * from './card/check-card.js';
export * from './crypto/keys.js';
export {
  type DecryptionKeyHandle,
  type DecryptionKeyInput,
  type JoseKey,
  type SigningKeyHandle,
  type SigningKeyInput,
  decryptionKeyFromCryptoKey,
  decryptionKeyFromJwk,
  isKeyHandle,
  signingKeyFromCryptoKey,
  signingKeyFromJwk,
  toDecryptionKeyHandle,
  toSigningKeyHandle,
} from './crypto/key-handles.js';
export * from './crypto/headers.js';
export * from './crypto/claims.js';
export * from './crypto/seal-provisioning-request.js';
export * from './crypto/open-provisioning-request.js';
export * from './crypto/access-data.js';
export * from './crypto/invocation-signature.js';
export * from './channel/index.js';
export * from './crypto/client-assertion.js';
export {
  DEFAULT_NOTIFICATION_CLOCK_SKEW_SECONDS,
  DEFAULT_NOTIFICATION_DEDUP_RETENTION_SECONDS,
  DEFAULT_NOTIFICATION_MAX_AGE_SECONDS,
  NOTIFICATION_ALGORITHM,
  NOTIFICATION_JWS_TYP,
  type NotificationKeyResolver,
  type SignNotificationOptions,
  type VerifiedNotification,
  type VerifyNotificationOptions,
  signNotification,
  verifyNotification,
} from './crypto/notification.js';
export {
  type MemoryNotificationDedupStoreOptions,
  type NotificationClaimState,
  type NotificationDedupStore,
  createMemoryNotificationDedupStore,
} from './notifications/notification-dedup-store.js';
export {
  type NotificationContext,
  type NotificationHandlerOptions,
  createNotificationHandler,
} from './notifications/create-notification-handler.js';
export * from './problem.js';
