/**
 * Wallet-initiated provisioning in the issuer app: the wallet opens the
 * app and asks which cards it can add (`accounts-request`); the app answers
 * with a normal signed invocation carrying the request's nonce, or with an
 * `accounts-refusal` (protocol section 4.24). A separate entry, so an app
 * that never meets it does not ship it.
 *
 * @packageDocumentation
 * @module @pushprov/issuer-sdk/offer
 */
export {
  answerAccountsRequest,
  type AnswerAccountsRequestOptions,
  type AnsweredAccountsRequest,
} from './offer/answer-accounts-request.js';
export { createBackendAccountLister, type BackendAccountLister } from './offer/create-backend-account-lister.js';
export type { OfferedAccount } from './request/z-backend-request.js';
