/**
 * The JOSE profile of the protocol, on jose: keys and key handles, sealing
 * and opening provisioning requests, access data encrypted to a device,
 * invocation signatures, client and issuer assertions, and the claim and
 * binding checks of the token service.
 *
 * @packageDocumentation
 * @module @pushprov/protocol/jose
 */
export {
  CONTENT_ENCRYPTION_ALGORITHM,
  KEY_MANAGEMENT_ALGORITHM,
  SIGNING_ALGORITHMS,
  type JwkPair,
  type Jwks,
  type KeyJwk,
  type SigningAlgorithm,
  generateEncryptionKey,
  generateSigningKey,
  parsePublicJwks,
  selectKey,
  toPublicJwk,
  zPublicJwk,
  zPublicJwks,
} from './crypto/keys.js';
export {
  type DecryptionKeyHandle,
  type DecryptionKeyInput,
  type JoseKey,
  type SigningKeyHandle,
  type SigningKeyInput,
  decryptionKeyFromCryptoKey,
  decryptionKeyFromJwk,
  signingKeyFromCryptoKey,
  signingKeyFromJwk,
} from './crypto/key-handles.js';
export * from './crypto/claims.js';
export * from './crypto/seal-provisioning-request.js';
export * from './crypto/open-provisioning-request.js';
export * from './crypto/access-data.js';
export * from './crypto/invocation-signature.js';
export {
  CLIENT_ASSERTION_TYP,
  MAX_CLIENT_ASSERTION_LIFETIME_SECONDS,
  type CreateClientAssertionInput,
  type CreateIssuerAssertionInput,
  type VerifiedClientAssertion,
  type VerifiedIssuerAssertion,
  createClientAssertion,
  createIssuerAssertion,
  verifyClientAssertion,
  verifyIssuerAssertion,
} from './crypto/client-assertion.js';
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
