/**
 * Receiving the token service's signed notifications on the wallet
 * provider's backend (spec section 13): a token of the wallet was created,
 * activated, suspended, resumed, deleted or updated. `verifyNotification`
 * checks one (the token service's key set fetched by URL and cached),
 * `createNotificationHandler` is a Fetch handler to mount that calls your
 * `onEvent` once per event. A separate entry: an app on the device never
 * ships it.
 *
 * @packageDocumentation
 * @module @pushprov/wallet-sdk/notifications
 */
export {
  createMemoryNotificationDedupStore,
  createNotificationHandler,
  createRemoteJwks,
  verifyNotification,
  type MemoryNotificationDedupStoreOptions,
  type NotificationClaimState,
  type NotificationContext,
  type NotificationDedupStore,
  type NotificationEvent,
  type NotificationHandlerOptions,
  type NotificationKeyResolver,
  type RemoteJwks,
  type RemoteJwksOptions,
  type VerifiedNotification,
  type VerifyNotificationOptions,
} from '@pushprov/protocol';
