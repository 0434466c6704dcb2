/**
 * The browser channel of the bank's web page: the wallet opens in a popup and
 * the two pages talk with `postMessage`, each checking the other's origin. A
 * separate entry, so a React Native or native app (deep links, an in-memory
 * channel, its own) does not ship it.
 *
 * @packageDocumentation
 * @module @pushprov/issuer-sdk/browser
 */
export {
  createPopupWalletChannel,
  DEFAULT_POPUP_POLL_INTERVAL_MS,
  PopupWalletChannel,
  type MessageEventLike,
  type PopupLike,
  type PopupWalletChannelOptions,
  type IssuerWindowLike,
} from './channel/popup-wallet-channel.js';
