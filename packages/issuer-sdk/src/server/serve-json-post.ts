import {
  AuthError,
  HttpError,
  type ProvisioningError,
  type RandomSource,
  createError,
  createId,
  readBodyWithLimit,
  secureRandom,
  toProvisioningError,
} from '@pushprov/protocol';
import { createJsonResponse, createProblemResponse } from './problem-response.js';

/** What every JSON POST endpoint of the issuer backend shares. */
export interface JsonPostOptions<User> {
  authenticate: (request: Request) => User | null | undefined | Promise<User | null | undefined>;
  maxBodyBytes?: number | undefined;
  onError?: ((error: ProvisioningError, context: { requestId: string }) => void) | undefined;
  random?: RandomSource | undefined;
  wwwAuthenticate?: string | undefined;
  /** The message of a `401` (what the user should do). */
  signInMessage: string;
}

const JSON_TYPE = /^application\/json\s*(;\s*charset="?utf-8"?\s*)?$/i;

/**
 * The common part of the issuer backend's Fetch handlers, in order: method
 * (`405`), `authenticate` (`401`, before the body is read), content type
 * (`415`), size (`413`), then `serve` with the body text and the user. Every
 * error is problem details with its code, `no-store`; a `401` carries
 * `WWW-Authenticate`, a retryable `409`/`429`/`503` `Retry-After: 1`.
 */
export function serveJsonPost<User>(
  options: JsonPostOptions<User>,
  serve: (input: { text: string; maxBytes: number; user: User; request: Request }) => Promise<unknown>,
): (request: Request) => Promise<Response> {
  const maxBytes = options.maxBodyBytes ?? 16_384;
  if (!Number.isInteger(maxBytes) || maxBytes < 1024 || maxBytes > 1_048_576) {
    throw createError('configuration_invalid', 'maxBodyBytes must be an integer from 1 024 to 1 048 576');
  }
  if (typeof options.authenticate !== 'function') throw createError('configuration_invalid', 'authenticate is required');
  const random = options.random ?? secureRandom;
  const challenge = options.wwwAuthenticate ?? 'Bearer';
  if (typeof challenge !== 'string' || !/^[\x21-\x7e][\x20-\x7e]{0,511}$/.test(challenge)) {
    throw createError('configuration_invalid', 'wwwAuthenticate must be a printable ASCII challenge such as Bearer');
  }
  const problemHeaders = (error: ProvisioningError): Record<string, string> => {
    const status = error.status >= 400 && error.status <= 599 ? error.status : 500;
    if (status === 401) return { 'www-authenticate': challenge };
    if (error.retryable && (status === 409 || status === 429 || status === 503)) return { 'retry-after': '1' };
    return {};
  };

  return async (request) => {
    const requestId = createId('req', random);
    try {
      if (request.method !== 'POST') {
        return createProblemResponse(new HttpError('method_not_allowed', 'Only POST is served here'), requestId, { allow: 'POST' });
      }
      let user: User | null | undefined;
      try {
        user = await options.authenticate(request);
      } catch (cause) {
        throw toProvisioningError(cause);
      }
      if (user === null || user === undefined) throw new AuthError('unauthenticated', options.signInMessage);
      if (!JSON_TYPE.test(request.headers.get('content-type') ?? '')) {
        throw new HttpError('unsupported_media_type', 'The body must be application/json');
      }
      const text = await readBodyWithLimit(request, maxBytes);
      return createJsonResponse(await serve({ text, maxBytes, user, request }), requestId);
    } catch (thrown) {
      const error = toProvisioningError(thrown);
      try {
        options.onError?.(error, { requestId });
      } catch {
        // A logging hook must not change the answer.
      }
      return createProblemResponse(error, requestId, problemHeaders(error));
    }
  };
}
