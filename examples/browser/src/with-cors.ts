// CORS for the token service, added around its Fetch handler: the wallet page
// (another origin) calls the token service API straight from the browser.
// Only the listed origins are answered with CORS headers; preflights from any
// other origin get 403, and their real requests are answered without CORS
// headers, so the browser hides the answer from the page.

/** A Fetch API handler. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

// x-correlation-id: the wallet SDK sends the attempt's correlation id with each submission.
const ALLOW_HEADERS = 'authorization, content-type, idempotency-key, x-correlation-id';
const EXPOSE_HEADERS = 'x-request-id, x-correlation-id, idempotent-replayed, retry-after, location';

/** Wraps `handler` so that `allowedOrigins` (exact origins) may call it from a browser. */
export function withCors(handler: FetchHandler, allowedOrigins: readonly string[]): FetchHandler {
  const allowed = new Set(allowedOrigins);
  return async (request) => {
    const origin = request.headers.get('origin');
    const ok = origin !== null && allowed.has(origin);
    if (request.method === 'OPTIONS') {
      if (!ok) return new Response(null, { status: 403, headers: { vary: 'Origin' } });
      return new Response(null, {
        status: 204,
        headers: {
          'access-control-allow-origin': origin,
          'access-control-allow-methods': 'GET, POST',
          'access-control-allow-headers': ALLOW_HEADERS,
          'access-control-max-age': '600',
          vary: 'Origin',
        },
      });
    }
    const response = await handler(request);
    if (!ok) return response;
    const headers = new Headers(response.headers);
    headers.set('access-control-allow-origin', origin);
    headers.set('access-control-expose-headers', EXPOSE_HEADERS);
    headers.append('vary', 'Origin');
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  };
}
