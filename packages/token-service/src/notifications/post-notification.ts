// One delivery attempt over HTTP (spec section 14): the signed notification
// POSTed as `application/jose`, bounded by a timeout; 2xx is delivered,
// anything else (another status, a redirect, a timeout, no connection) is a
// failure with a short reason that names no secret and no URL.

/** The media type of a notification's body (a compact JWS). */
export const NOTIFICATION_MEDIA_TYPE = 'application/jose';
/** The header carrying the event id, for the receiver's logs and dedup before verifying. */
export const EVENT_ID_HEADER = 'X-Pushprov-Event-Id';

/** A Fetch function (the global one by default). */
export type NotificationFetch = (input: string, init: RequestInit) => Promise<Response>;

/** What one attempt came to. */
export type PostOutcome = { ok: true; status: number } | { ok: false; error: string };

/** Input of {@link postNotification}. */
export interface PostNotificationInput {
  endpoint: string;
  /** The signed notification (compact JWS). */
  jws: string;
  eventId: string;
  timeoutMs: number;
  fetch?: NotificationFetch | undefined;
  /** Aborts the attempt (the dispatcher stopping). */
  signal?: AbortSignal | undefined;
}

/** The reason of a failed fetch: its cause's code (`ECONNREFUSED`, …), never its message (which may name the URL). */
function describeFailure(error: unknown, timedOut: boolean): string {
  if (timedOut) return 'timeout';
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'AbortError' || name === 'TimeoutError') return 'aborted';
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  const code = typeof cause?.code === 'string' && /^[A-Z0-9_]{1,40}$/.test(cause.code) ? cause.code : undefined;
  if (code === 'ECONNREFUSED') return 'connection refused';
  return code === undefined ? 'network error' : `network error (${code})`;
}

/**
 * POSTs one signed notification: `Content-Type: application/jose`, the
 * event id in `X-Pushprov-Event-Id`, no redirects followed, the response
 * body discarded. Resolves (never rejects) with whether a 2xx came back
 * within `timeoutMs`.
 *
 * @example
 * ```ts
 * const outcome = await postNotification({ endpoint: 'https://bank.example/pushprov/events', jws, eventId, timeoutMs: 10_000 });
 * ```
 */
export async function postNotification(input: PostNotificationInput): Promise<PostOutcome> {
  const timeout = AbortSignal.timeout(input.timeoutMs);
  const signal = input.signal ? AbortSignal.any([timeout, input.signal]) : timeout;
  const send = input.fetch ?? ((url, init) => fetch(url, init));
  try {
    const response = await send(input.endpoint, {
      method: 'POST',
      headers: { 'content-type': NOTIFICATION_MEDIA_TYPE, [EVENT_ID_HEADER]: input.eventId },
      body: input.jws,
      redirect: 'manual',
      signal,
    });
    // The body is not needed: let the connection go back to the pool.
    await response.body?.cancel().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return { ok: true, status: response.status };
    return { ok: false, error: `http ${response.status}` };
  } catch (error) {
    return { ok: false, error: describeFailure(error, timeout.aborted) };
  }
}
