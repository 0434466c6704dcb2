/**
 * The browser popup channel: the wallet page opened by the bank's page with
 * `window.open` talks to it over `postMessage`, with an origin allow-list. A
 * separate entry, so React Native and deep-link hosts do not ship it.
 *
 * @packageDocumentation
 * @module @pushprov/wallet-sdk/browser
 */
export {
  OpenerIssuerChannel,
  createOpenerIssuerChannel,
  type MessageEventLike,
  type MessageTargetLike,
  type OpenerIssuerChannelOptions,
  type WalletWindowLike,
} from './channel/create-opener-issuer-channel.js';
