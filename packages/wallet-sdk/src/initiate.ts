/**
 * Wallet-initiated provisioning (spec 4.24): the wallet opens the issuer's
 * app, asks which cards it can add (`accounts-request`), and runs the normal
 * session of the issuer's signed answer. A separate entry, so a wallet that
 * only answers issuer-initiated invocations does not ship it.
 *
 * @packageDocumentation
 * @module @pushprov/wallet-sdk/initiate
 */
export { requestAccounts, type RequestAccountsOptions } from './initiate/request-accounts.js';
