/**
 * The runner's only way out: HTTP to one origin, every call with a timeout,
 * redirects never followed. A URL outside the origin is refused before
 * anything is sent.
 */
import { TransportError } from '@pushprov/protocol';

/** An answer, read in full. */
export interface HttpAnswer {
  method: string;
  url: string;
  status: number;
  headers: Headers;
  /** The body as text (UTF-8). */
  text: string;
}

/** A request. */
export interface HttpRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** An HTTP client bound to one origin. */
export interface OriginClient {
  readonly origin: string;
  /** `path` is resolved against the base URL (it may also be a full URL of the same origin). */
  request(path: string, init?: HttpRequest): Promise<HttpAnswer>;
  /** Every URL requested so far (for tests and audits). */
  readonly log: readonly string[];
}

/** Default timeout of every call, ms. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** Parses a base URL: http or https, no credentials, no query or fragment. */
export function parseBaseUrl(value: string, what = 'base URL'): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`the ${what} is not a URL: ${value}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`the ${what} must be http or https`);
  if (url.username !== '' || url.password !== '') throw new TypeError(`the ${what} must not hold credentials`);
  if (url.search !== '' || url.hash !== '') throw new TypeError(`the ${what} must not have a query or fragment`);
  return url;
}

/**
 * A client for `baseUrl`'s origin. Paths resolve against `baseUrl` (so a
 * service mounted under a path prefix works); any URL of another origin is
 * refused.
 */
export function createOriginClient(baseUrl: string, options: { timeoutMs?: number; fetch?: typeof fetch } = {}): OriginClient {
  const base = parseBaseUrl(baseUrl);
  const prefix = base.href.endsWith('/') ? base.href : `${base.href}/`;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const doFetch = options.fetch ?? globalThis.fetch;
  const log: string[] = [];
  return {
    origin: base.origin,
    log,
    async request(path, init = {}) {
      const url = /^https?:\/\//i.test(path) ? new URL(path) : new URL(path.replace(/^\//, ''), prefix);
      if (url.origin !== base.origin) throw new TypeError(`refusing to contact ${url.origin}: the runner only talks to ${base.origin}`);
      const method = init.method ?? 'GET';
      log.push(`${method} ${url.href}`);
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        const response = await doFetch(url, {
          method,
          headers: init.headers ?? {},
          ...(init.body === undefined ? {} : { body: init.body }),
          redirect: 'manual',
          signal,
        });
        const text = await response.text();
        return { method, url: url.href, status: response.status, headers: response.headers, text };
      } catch (error) {
        if (signal.aborted) throw new TransportError('timeout', `${method} ${url.pathname} did not answer within ${timeoutMs} ms`);
        throw new TransportError('network_error', `${method} ${url.pathname} failed: ${(error as Error).message}`, { cause: error });
      }
    },
  };
}

/** Parses an answer's body as JSON, or returns undefined. */
export function jsonOf(answer: HttpAnswer): unknown {
  try {
    return JSON.parse(answer.text) as unknown;
  } catch {
    return undefined;
  }
}
