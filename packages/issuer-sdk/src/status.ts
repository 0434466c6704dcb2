/**
 * Is the card in the wallet? The issuer app asks the wallet with a signed
 * `status-query` and gets, per account, its state on this device and on the
 * wallet account's other devices (protocol sections 4.22 and 4.23), to show
 * "Add to wallet" only where it helps. A separate entry, so an app that
 * never asks does not ship it.
 *
 * @packageDocumentation
 * @module @pushprov/issuer-sdk/status
 */
export { queryStatus, DEFAULT_STATUS_QUERY_TIMEOUT_MS, type QueryStatusOptions, type StatusQuerySigner } from './status/query-status.js';
export { createBackendStatusQuerySigner } from './status/create-backend-status-query-signer.js';
