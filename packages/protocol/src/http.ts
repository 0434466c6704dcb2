/**
 * HTTP helpers of the protocol: RFC 9457 problem details both ways, and
 * reading request and response bodies with a size limit.
 *
 * @packageDocumentation
 * @module @pushprov/protocol/http
 */
export * from './problem.js';
export { readBodyWithLimit, readResponseText, type ResponseBodyLike } from './lib/read-body.js';
export {
  type JwksFetch,
  type JwksResponseLike,
  type KeyLookupOptions,
  type RemoteJwks,
  type RemoteJwksOptions,
  createRemoteJwks,
} from './jwks/create-remote-jwks.js';
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
