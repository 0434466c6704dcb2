/**
 * App channels: the duplex link between the issuer app and the wallet app
 * (in memory, URL / deep link), the base class for your own, and
 * `waitForMessage`.
 *
 * @packageDocumentation
 * @module @pushprov/protocol/channels
 */
export * from './channel/index.js';
