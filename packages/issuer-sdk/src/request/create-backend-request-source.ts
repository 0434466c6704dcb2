import {
  type Invocation,
  type ProvisioningRequestMessage,
  createError,
  parseInvocation,
  parseProvisioningRequestMessage,
  type ResponseBodyLike,
} from '@pushprov/protocol';
import { checkUrl, createBackendCaller } from './create-backend-caller.js';
import type { InvocationSigner, ProvisioningRequestSource, RequestContext } from './provisioning-request-source.js';
import type { BuildRequestBody, SignInvocationBody } from './z-backend-request.js';

/**
 * The part of a Fetch `Response` the backend source reads.
 *
 * @example
 * ```ts
 * const fakeFetch: BackendFetch = async () => new Response('{}', { status: 500 }); // a Response is a FetchResponseLike
 * ```
 */
export interface FetchResponseLike extends ResponseBodyLike {
  readonly ok: boolean;
  readonly status: number;
}

/**
 * A `fetch` function. The platform's `fetch` fits; inject another one for tests or custom transports.
 *
 * @example
 * ```ts
 * const fetchWithLogging: BackendFetch = async (url, init) => {
 *   const response = await fetch(url, init);
 *   console.info('issuer backend', response.status);
 *   return response;
 * };
 * ```
 */
export type BackendFetch = (
  url: string,
  init: {
    method: 'POST';
    headers: Record<string, string>;
    body: string;
    signal: AbortSignal;
    redirect: 'error';
    credentials?: 'omit' | 'same-origin' | 'include';
  },
) => Promise<FetchResponseLike>;

/**
 * Options of {@link createBackendRequestSource}.
 *
 * @example
 * ```ts
 * const options: BackendRequestSourceOptions = { url: '/api/push-provisioning', credentials: 'include', timeoutMs: 10_000 };
 * ```
 */
export interface BackendRequestSourceOptions {
  /**
   * The issuer backend endpoint (see `createIssuerBackendHandler` in
   * `@pushprov/issuer-sdk/server`): an https URL (http only on loopback), or
   * a same-origin path such as `/api/push-provisioning` in a browser.
   */
  url: string;
  /** The `fetch` to use. Default `globalThis.fetch`. */
  fetch?: BackendFetch;
  /** Extra headers sent with every call. */
  headers?: Readonly<Record<string, string>>;
  /** Called before every call for fresh credentials, e.g. `{ authorization: 'Bearer …' }`. */
  getAuthHeaders?: (context: RequestContext) => Readonly<Record<string, string>> | Promise<Readonly<Record<string, string>>>;
  /** Fetch `credentials` mode, e.g. `'include'` for cookie sessions. */
  credentials?: 'omit' | 'same-origin' | 'include';
  /** Per-call timeout in milliseconds. Default 15 000. */
  timeoutMs?: number;
  /** Largest response body accepted, in characters. Default 65 536 (the longest `provisioning-request` message: eight accounts). */
  maxResponseLength?: number;
}

/**
 * The source made by {@link createBackendRequestSource}: a request source that can also sign invocations.
 *
 * @example
 * ```ts
 * const backend: BackendRequestSource = createBackendRequestSource({ url: '/api/push-provisioning' });
 * createIssuerClient({ issuerId: 'bank-a', requestSource: backend, invocationSigner: backend.signInvocation });
 * ```
 */
export interface BackendRequestSource extends ProvisioningRequestSource {
  /** Asks the backend to sign an invocation for the session's `accountRef`. Bound: pass it as `invocationSigner`. */
  readonly signInvocation: InvocationSigner;
}

export { DEFAULT_BACKEND_TIMEOUT_MS } from './create-backend-caller.js';

/**
 * A {@link ProvisioningRequestSource} that asks the issuer backend to build
 * the encrypted request: it POSTs `{ type: 'build-request', version: 1,
 * accountRef, identifiers }` (several accounts: `accounts: [{ accountRef,
 * accountId }]` instead of `accountRef`, one call for all) and gets the
 * `provisioning-request` message back, so the card number never touches
 * the app.
 *
 * Failures are typed: the backend's problem details keep their code
 * (`unauthenticated`, `card_expired`, `unknown_key`, …); a backend that
 * cannot be reached is `network_error`; a 5xx without problem details is
 * `server_error`; a slow one `timeout`; a cancelled session `cancelled`.
 * Each call carries the session's correlation id as `X-Correlation-Id`.
 *
 * @example
 * ```ts
 * const backend = createBackendRequestSource({
 *   url: 'https://bank.example/api/push-provisioning',
 *   getAuthHeaders: async () => ({ authorization: `Bearer ${await auth.accessToken()}` }),
 * });
 * const issuer = createIssuerClient({ issuerId: 'bank-a', requestSource: backend, invocationSigner: backend.signInvocation });
 * ```
 */
export function createBackendRequestSource(options: BackendRequestSourceOptions): BackendRequestSource {
  checkUrl(options.url);
  const call = createBackendCaller(options);

  return {
    async buildRequest(input, context): Promise<ProvisioningRequestMessage> {
      const { accounts, identifiers } = input;
      // Several accounts: one call for every picked one; the backend answers `requests` and `refusals`.
      const refs = accounts ? accounts.map((a) => a.accountRef) : [input.accountRef];
      if (refs.includes(undefined)) throw createError('configuration_invalid', 'The backend source needs an accountRef per account');
      const body: BuildRequestBody = accounts
        ? { type: 'build-request', version: 1, accounts: accounts.map((a) => ({ accountRef: a.accountRef!, accountId: a.accountId })), identifiers }
        : { type: 'build-request', version: 1, accountRef: input.accountRef!, identifiers };
      const message = await call(body, context, parseProvisioningRequestMessage);
      if (message.sessionId !== identifiers.sessionId) {
        throw createError('session_mismatch', 'The issuer backend answered for another session');
      }
      return message;
    },
    signInvocation: async (invocation: Invocation, context): Promise<Invocation> => {
      const { accountRef, accountRefs } = context;
      const multi = invocation.accounts !== undefined;
      if (multi ? accountRefs?.length !== invocation.accounts!.length : accountRef === undefined) {
        throw createError('configuration_invalid', 'The backend source needs an accountRef per account');
      }
      const body: SignInvocationBody = multi
        ? { type: 'sign-invocation', version: 1, accountRefs: accountRefs!, invocation }
        : { type: 'sign-invocation', version: 1, accountRef: accountRef!, invocation };
      return call(body, context, parseInvocation);
    },
  };
}
