/**
 * Building the request in the app, for sandboxes, tests and demos only: it
 * holds card data and the issuer's private key in the app, so each function
 * refuses to run without `sandbox: true`. It pulls in JOSE signing and
 * encryption (about 9.5 kB gzipped more), so it lives apart from the main
 * entry; apps that use the issuer backend never load it.
 *
 * @packageDocumentation
 * @module @pushprov/issuer-sdk/local
 */
export {
  createLocalRequestBuilder,
  type LocalRequestBuilderOptions,
  type LocalTokenServiceOptions,
} from './local/create-local-request-builder.js';
export { createInvocationSigner, type InvocationSignerOptions } from './local/create-invocation-signer.js';
export { createStatusQuerySigner } from './local/create-status-query-signer.js';
