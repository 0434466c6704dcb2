import { type ProvisioningError, createError, isProvisioningError } from '../errors.js';
import { readBodyWithLimit } from '../lib/read-body.js';
import { toProblemDetails } from '../problem.js';
import { type VerifyNotificationOptions, claimNotification, openNotification, toNotificationKeyResolver } from '../crypto/notification.js';
import type { NotificationEvent } from '../schemas/z-notification.js';
import { PROBLEM_CONTENT_TYPE } from '../schemas/z-problem.js';
import { type NotificationDedupStore, createMemoryNotificationDedupStore } from './notification-dedup-store.js';

/**
 * What `onEvent` is given besides the event.
 *
 * @example
 * ```ts
 * const onEvent = async (event: NotificationEvent, { request }: NotificationContext) => log.info({ eventId: event.eventId, from: request.headers.get('user-agent') });
 * ```
 */
export interface NotificationContext {
  /** The request that carried it. */
  request: Request;
}

/**
 * Options of {@link createNotificationHandler}.
 *
 * @example
 * ```ts
 * const options: NotificationHandlerOptions = {
 *   jwks: 'https://ts.example/.well-known/jwks.json',
 *   issuer: 'ts',
 *   audience: 'wallet-co',
 *   onEvent: (event) => tokens.apply(event),
 * };
 * ```
 */
export interface NotificationHandlerOptions extends Omit<VerifyNotificationOptions, 'signal' | 'seen'> {
  /**
   * Processes one event, once. Resolve only once the event is processed (for
   * example committed to your database): the handler then answers 200. When
   * it throws, the handler answers 500 and forgets the event, so the token
   * service's retry is processed.
   */
  onEvent(event: NotificationEvent, context: NotificationContext): void | Promise<void>;
  /** Where processed event ids are remembered. Default a new in-memory store for this handler. */
  seen?: NotificationDedupStore | undefined;
  /** Told of every refused notification and every `onEvent` failure (for logs; never throws into the answer). */
  onError?: ((error: ProvisioningError, context: { request: Request; cause?: unknown }) => void) | undefined;
}

/** Largest body accepted, bytes: a compact JWS of a notification is far smaller. */
const MAX_BODY_BYTES = 8192;
const JOSE_TYPE = /^application\/jose\s*(;|$)/i;

function problem(error: ProvisioningError, status: number, extra: Record<string, string> = {}): Response {
  const body = toProblemDetails(error);
  body.status = status;
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, 'cache-control': 'no-store', ...extra },
  });
}

const ok = (eventId: string, duplicate: boolean) =>
  new Response(JSON.stringify({ eventId, duplicate }), { status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });

/**
 * The status a refused notification is answered with: 400 for a body that is
 * not a notification, 401 for one that does not prove it comes fresh from the
 * token service, the error's own (retryable) status when the receiver cannot
 * decide now (the key set cannot be fetched, the store is unavailable).
 */
function refusalStatus(error: ProvisioningError): number {
  if (error.retryable) return error.status >= 500 || error.status === 429 || error.status === 409 ? error.status : 503;
  if (error.family === 'schema' || error.family === 'http') return error.code === 'unsupported_media_type' ? 415 : 400;
  if (error.family === 'internal' || error.family === 'transport') return 503;
  return 401;
}

/**
 * A Fetch handler (`(Request) => Promise<Response>`) that receives the token
 * service's signed notifications (spec section 13): `POST` with
 * `Content-Type: application/jose` and the compact JWS as the body. It
 * verifies the notification as {@link verifyNotification} does, then calls
 * `onEvent` once per event id: 200 when processed or a duplicate, 400 (not a
 * notification) or 401 (signature, key, issuer, audience, window, replay)
 * with problem details when refused, 409 while the same event is being
 * processed by another request, 500 when `onEvent` throws (the event is then
 * not recorded, so the retry is processed), 503 when the key set cannot be
 * had. Every non-2xx answer makes the token service retry.
 *
 * @example
 * ```ts
 * const handler = createNotificationHandler({
 *   jwks: tokenServiceJwks,
 *   issuer: 'ts',
 *   audience: 'bank-a',
 *   onEvent: async (event) => db.applyTokenEvent(event),
 * });
 * Bun.serve({ fetch: handler }); // or any Fetch server
 * ```
 */
export function createNotificationHandler(options: NotificationHandlerOptions): (request: Request) => Promise<Response> {
  if (typeof options.onEvent !== 'function') throw createError('configuration_invalid', 'onEvent must be a function');
  if ((options.jwks === undefined) === (options.keyResolver === undefined)) {
    throw createError('configuration_invalid', 'Give exactly one of jwks and keyResolver');
  }
  const { jwks } = options;
  // A URL is turned into its remote key set now: a bad URL fails here, not at the first delivery.
  const keys: Pick<VerifyNotificationOptions, 'jwks' | 'keyResolver'> =
    typeof jwks === 'string' || (jwks !== undefined && 'getSigningKey' in jwks)
      ? { jwks: undefined, keyResolver: toNotificationKeyResolver(jwks) }
      : { jwks, keyResolver: options.keyResolver };
  const verifyOptions: VerifyNotificationOptions = { ...options, ...keys, seen: options.seen ?? createMemoryNotificationDedupStore() };
  const report = (error: ProvisioningError, request: Request, cause?: unknown) => {
    try {
      options.onError?.(error, cause === undefined ? { request } : { request, cause });
    } catch {
      // A failing logger must not change the answer.
    }
  };
  const refuse = (cause: unknown, request: Request): Response => {
    const error = isProvisioningError(cause) ? cause : createError('internal_error', 'The notification could not be checked', { cause });
    report(error, request, cause);
    const status = refusalStatus(error);
    return problem(error, status, error.retryable ? { 'retry-after': '1' } : {});
  };

  return async (request) => {
    if (request.method !== 'POST') return problem(createError('method_not_allowed'), 405, { allow: 'POST' });
    if (!JOSE_TYPE.test(request.headers.get('content-type') ?? '')) {
      return problem(createError('unsupported_media_type', 'A notification is sent as application/jose'), 415);
    }
    let claim: Awaited<ReturnType<typeof claimNotification>>;
    let event: NotificationEvent;
    try {
      const body = (await readBodyWithLimit(request, MAX_BODY_BYTES)).trim();
      const opened = await openNotification(body, { ...verifyOptions, signal: request.signal });
      const announced = request.headers.get('x-pushprov-event-id');
      if (announced !== null && announced !== opened.event.eventId) {
        throw createError('invalid_message', 'X-Pushprov-Event-Id is not the eventId of the notification');
      }
      event = opened.event;
      claim = await claimNotification(opened, verifyOptions);
    } catch (cause) {
      return refuse(cause, request);
    }
    if (claim.state === 'seen') return ok(event.eventId, true);
    if (claim.state === 'in_progress') {
      return problem(createError('idempotency_in_flight', 'This event is being processed'), 409, { 'retry-after': '1' });
    }
    try {
      await options.onEvent(event, { request });
    } catch (cause) {
      await claim.release().catch(() => undefined);
      const error = createError('internal_error', 'The event could not be processed', { cause });
      report(error, request, cause);
      return problem(error, 500);
    }
    try {
      await claim.complete();
    } catch (cause) {
      // Processed, but not recorded: answering 2xx is still right (a retry would be a duplicate the store cannot see).
      report(createError('internal_error', 'The processed event could not be recorded', { cause }), request, cause);
    }
    return ok(event.eventId, false);
  };
}
