/**
 * The HTTP client of the token service API: submissions with idempotency
 * keys, retries with backoff, API key, bearer token or client assertion
 * authentication. A separate entry, so hosts that bring their own
 * `TokenServiceClient` (through their backend, or a native module) do not
 * ship it.
 *
 * @packageDocumentation
 * @module @pushprov/wallet-sdk/http
 */
export {
  createHttpTokenServiceClient,
  type ApiKeyAuth,
  type BearerTokenAuth,
  type ClientAssertionAuth,
  type TokenServiceFetch,
  type FetchResponseLike,
  type HttpLifecycleOptions,
  type HttpSubmitOptions,
  type HttpVerificationOptions,
  type HttpTokenServiceClient,
  type HttpTokenServiceClientOptions,
  type RetryInfo,
} from './token-service/create-http-token-service-client.js';
export type { RetryDelayOptions } from './token-service/retry.js';
