/**
 * Building the request in the app, for issuers whose app may hold card data
 * and an issuer key. It pulls in JOSE signing and encryption (about 9.5 kB
 * gzipped more), so it lives apart from the main entry; apps that use the
 * issuer backend never load it.
 *
 * @packageDocumentation
 * @module @pushprov/issuer-sdk/local
 */
export {
  createLocalRequestBuilder,
  type LocalRequestBuilderOptions,
  type LocalTokenServiceOptions,
} from './local/create-local-request-builder.js';
export { createInvocationSigner } from './local/create-invocation-signer.js';
