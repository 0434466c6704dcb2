import {
  type Invocation,
  type ProvisioningError,
  type ProvisioningRequestMessage,
  TransportError,
  createError,
  parseInvocation,
  errorFromHttpResponse,
  parseProvisioningRequestMessage,
  readResponseText,
  type ResponseBodyLike,
  toProvisioningError,
  zHttpsUrl,
} from '@pushprov/protocol';
import { isDuration, withDeadline } from '../lib/deadline.js';
import type { InvocationSigner, ProvisioningRequestSource, RequestContext } from './provisioning-request-source.js';
import type { BuildRequestBody, SignInvocationBody } from './z-backend-request.js';

/**
 * The part of a Fetch `Response` the backend source reads.
 *
 * @example
 * ```ts
 * const fakeFetch: FetchLike = async () => new Response('{}', { status: 500 }); // a Response is a FetchResponseLike
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
 * const fetchWithLogging: FetchLike = async (url, init) => {
 *   const response = await fetch(url, init);
 *   console.info('issuer backend', response.status);
 *   return response;
 * };
 * ```
 */
export type FetchLike = (
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
  fetch?: FetchLike;
  /** Extra headers sent with every call. */
  headers?: Readonly<Record<string, string>>;
  /** Called before every call for fresh credentials, e.g. `{ authorization: 'Bearer …' }`. */
  getAuthHeaders?: (context: RequestContext) => Readonly<Record<string, string>> | Promise<Readonly<Record<string, string>>>;
  /** Fetch `credentials` mode, e.g. `'include'` for cookie sessions. */
  credentials?: 'omit' | 'same-origin' | 'include';
  /** Per-call timeout in milliseconds. Default 15 000. */
  timeoutMs?: number;
  /** Largest response body accepted, in characters. Default 32 768. */
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

/**
 * Default per-call timeout of the backend source, milliseconds.
 *
 * @example
 * ```ts
 * createBackendRequestSource({ url: '/api/push-provisioning', timeoutMs: 2 * DEFAULT_BACKEND_TIMEOUT_MS });
 * ```
 */
export const DEFAULT_BACKEND_TIMEOUT_MS = 15_000;

const RESERVED_HEADERS = new Set(['content-type', 'accept', 'content-length', 'x-correlation-id']);

function checkUrl(url: unknown): string {
  const relative = typeof url === 'string' && /^\/(?!\/)[\x21-\x7e]{0,2047}$/.test(url);
  if (!relative && !zHttpsUrl.safeParse(url).success) {
    throw createError('configuration_invalid', 'The backend url must be an https URL (http only on loopback) or a same-origin path');
  }
  return url as string;
}

function safeRequestId(value: string | null): string | undefined {
  return value !== null && /^[\x21-\x7e]{1,128}$/.test(value) ? value : undefined;
}

/** Turns a failed HTTP response into the typed error it carries (problem details) or one by status. */
function errorFromResponse(response: FetchResponseLike, text: string): ProvisioningError {
  return errorFromHttpResponse({
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: text,
    requestId: safeRequestId(response.headers.get('x-request-id')),
    correlationId: safeRequestId(response.headers.get('x-correlation-id')),
    peer: 'The issuer backend',
  });
}

/**
 * A {@link ProvisioningRequestSource} that asks the issuer backend to build
 * the encrypted request: it POSTs `{ type: 'build-request', version: 1,
 * accountRef, identifiers }` and gets the `provisioning-request` message
 * back, so the card number never touches the app.
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
  const url = checkUrl(options.url);
  const timeoutMs = options.timeoutMs ?? DEFAULT_BACKEND_TIMEOUT_MS;
  const maxLength = options.maxResponseLength ?? 32_768;
  if (!isDuration(timeoutMs) || !isDuration(maxLength)) {
    throw createError('configuration_invalid', 'timeoutMs and maxResponseLength must be positive integers');
  }
  const fetchImpl: FetchLike =
    options.fetch ?? ((input, init) => (globalThis.fetch as unknown as FetchLike)(input, init));
  const extraHeaders = options.headers ?? {};

  async function call<T>(body: BuildRequestBody | SignInvocationBody, context: RequestContext, parse: (text: string) => T): Promise<T> {
    return withDeadline(
      async (signal) => {
        const headers: Record<string, string> = {};
        let auth: Readonly<Record<string, string>> = {};
        if (options.getAuthHeaders) {
          try {
            auth = await options.getAuthHeaders({ signal });
          } catch (error) {
            throw toProvisioningError(error, 'unauthenticated');
          }
        }
        for (const [name, value] of Object.entries({ ...extraHeaders, ...auth })) {
          if (!RESERVED_HEADERS.has(name.toLowerCase())) headers[name] = value;
        }
        headers['content-type'] = 'application/json';
        headers.accept = 'application/json, application/problem+json';
        // The session's correlation id: the backend logs it and puts it in its problem details.
        if (context.correlationId !== undefined) headers['x-correlation-id'] = context.correlationId;
        let response: FetchResponseLike;
        let text: string;
        try {
          // Never follow a redirect: it would re-send the identifiers (and credentials) elsewhere.
          const init: Parameters<FetchLike>[1] = { method: 'POST', headers, body: JSON.stringify(body), signal, redirect: 'error' };
          if (options.credentials !== undefined) init.credentials = options.credentials;
          response = await fetchImpl(url, init);
          text = await readResponseText(response, maxLength * 4, () => new TransportError('server_error', 'The issuer backend answer is too large', { retryable: false }));
        } catch (cause) {
          if (cause instanceof TransportError) throw cause;
          throw new TransportError('network_error', 'The issuer backend could not be reached', { cause });
        }
        if (text.length > maxLength) throw new TransportError('server_error', 'The issuer backend answer is too large', { retryable: false });
        if (!response.ok) throw errorFromResponse(response, text);
        try {
          return parse(text);
        } catch (cause) {
          const details = (cause as Partial<ProvisioningError>).details;
          throw new TransportError('server_error', 'The issuer backend answered with an invalid message', { cause, retryable: false, details });
        }
      },
      { timeoutMs, signal: context.signal, what: 'The issuer backend call' },
    );
  }

  return {
    async buildRequest(input, context): Promise<ProvisioningRequestMessage> {
      if (input.accountRef === undefined) {
        throw createError('configuration_invalid', 'The backend source needs an accountRef: the backend looks the card up');
      }
      const body: BuildRequestBody = { type: 'build-request', version: 1, accountRef: input.accountRef, identifiers: input.identifiers };
      const message = await call(body, context, parseProvisioningRequestMessage);
      if (message.sessionId !== input.identifiers.sessionId) {
        throw createError('session_mismatch', 'The issuer backend answered for another session');
      }
      return message;
    },
    signInvocation: async (invocation: Invocation, context): Promise<Invocation> => {
      if (context.accountRef === undefined) {
        throw createError('configuration_invalid', 'Signing through the backend needs an accountRef');
      }
      const body: SignInvocationBody = { type: 'sign-invocation', version: 1, accountRef: context.accountRef, invocation };
      return call(body, context, parseInvocation);
    },
  };
}
