/**
 * The wallet's answer to an issuer app's status query (spec 4.22, 4.23):
 * which of the signing issuer's cards are in this wallet account, on this
 * device or on another. A separate entry, so a wallet that does not answer
 * status queries does not ship it.
 *
 * @packageDocumentation
 * @module @pushprov/wallet-sdk/status
 */
export { createStatusResponder, type StatusResponder, type StatusResponderOptions } from './status/create-status-responder.js';
