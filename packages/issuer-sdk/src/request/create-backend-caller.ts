import {
  type ProvisioningError,
  TransportError,
  createError,
  errorFromHttpResponse,
  readResponseText,
  toProvisioningError,
  zHttpsUrl,
} from '@pushprov/protocol';
import { isDuration, withDeadline } from '../lib/deadline.js';
import type { BackendRequestSourceOptions, BackendFetch, FetchResponseLike } from './create-backend-request-source.js';
import type { RequestContext } from './provisioning-request-source.js';

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

/** Checks a backend URL: https (http only on loopback), or a same-origin path. */
export function checkUrl(url: unknown): string {
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
 * The one POST to the issuer backend both app-side sources make: fresh auth
 * headers, no redirects, a deadline over request and body, a size limit,
 * problem details mapped to typed errors, the answer parsed by `parse`
 * (anything else is `server_error`). `target` defaults to `options.url`.
 */
export function createBackendCaller(options: Omit<BackendRequestSourceOptions, 'url'> & { url?: string }) {
  const url = options.url === undefined ? undefined : checkUrl(options.url);
  const timeoutMs = options.timeoutMs ?? DEFAULT_BACKEND_TIMEOUT_MS;
  // The longest provisioning-request message (the several-account form, spec section 3).
  const maxLength = options.maxResponseLength ?? 65_536;
  if (!isDuration(timeoutMs) || !isDuration(maxLength)) {
    throw createError('configuration_invalid', 'timeoutMs and maxResponseLength must be positive integers');
  }
  const fetchImpl: BackendFetch =
    options.fetch ?? ((input, init) => (globalThis.fetch as unknown as BackendFetch)(input, init));
  const extraHeaders = options.headers ?? {};

  async function call<T>(body: { type: string; version: 1; [member: string]: unknown }, context: RequestContext, parse: (text: string) => T, target: string | undefined = url): Promise<T> {
    if (target === undefined) throw createError('configuration_invalid', 'No issuer backend url to call');
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
          const init: Parameters<BackendFetch>[1] = { method: 'POST', headers, body: JSON.stringify(body), signal, redirect: 'error' };
          if (options.credentials !== undefined) init.credentials = options.credentials;
          response = await fetchImpl(target, init);
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

  return call;
}
