import { type Clock, type KeyJwk, type LifecycleReason, type LifecycleResponse, type TokenHistory, type ProvisioningError, type ProvisioningResponse, type RandomSource, type Submission, type TokenStatusResponse, type VerificationStarted, createClientAssertion, createError, createId, isProvisioningError, errorFromHttpResponse, parseProblemDetails, parseProvisioningResponse, parseActivationRequest, parseSubmission, parseTokenStatusResponse, parseVerificationRequest, parseVerificationStarted, readResponseText, type ResponseBodyLike, secureRandom, systemClock, toProvisioningError, withCorrelationId, parseLifecycleRequest, parseLifecycleResponse, parseTokenHistory, type TokenQuery, type TokenQueryResponse, parseTokenQuery, parseTokenQueryResponse, zHttpsUrl, zOpaqueId } from '@pushprov/protocol';
import { abortError } from '@pushprov/protocol/internal';
import { MAX_TIMER_MS, sleep as defaultSleep } from '../lib/abort.js';
import { type RetryDelayOptions, backoffDelay, parseRetryAfter } from './retry.js';
import type { GetTokenStatusOptions, QueryTokensOptions, TokenServiceClient, VerificationCallOptions } from './token-service-client.js';

/**
 * The part of a Fetch `Response` the client reads.
 *
 * @example
 * ```ts
 * const response: FetchResponseLike = new Response('{}', { status: 201, headers: { 'content-type': 'application/json' } });
 * ```
 */
export interface FetchResponseLike extends ResponseBodyLike {
  readonly status: number;
}

/**
 * The part of `fetch` the client uses. The global `fetch` of browsers, React Native and Node fits.
 *
 * @example
 * ```ts
 * const fetch: TokenServiceFetch = (url, init) => globalThis.fetch(url, { ...init, credentials: 'omit' });
 * ```
 */
export type TokenServiceFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal; redirect: 'error' },
) => Promise<FetchResponseLike>;

/**
 * Authenticates with a static API key: `Authorization: Bearer <apiKey>`. For
 * server-side wallets; an app should not ship a long-lived secret.
 *
 * @example
 * ```ts
 * const auth: ApiKeyAuth = { apiKey: process.env.TOKEN_SERVICE_API_KEY! };
 * ```
 */
export interface ApiKeyAuth {
  apiKey: string;
}

/**
 * Authenticates as the wallet provider with a signed client assertion
 * (`createClientAssertion`), a fresh one for every attempt. It needs the
 * provider's private key, so it is for a wallet that submits from its own
 * server: an app or a page uses {@link BearerTokenAuth} with assertions its
 * backend mints, and never holds the provider key.
 *
 * @example
 * ```ts
 * const auth: ClientAssertionAuth = { walletProviderId: 'wallet-co', audience: 'token-service', signingKey: providerPrivateJwk };
 * ```
 */
export interface ClientAssertionAuth {
  /** The wallet provider id: the assertion's `iss` and `sub`. */
  walletProviderId: string;
  /** The token service id: the assertion's `aud`. */
  audience: string;
  /** The wallet provider's private signing JWK (ES256 or EdDSA) with its `kid`. */
  signingKey: KeyJwk;
}

/**
 * Authenticates with a bearer token the host obtains for every attempt: in an
 * app or a page, a short-lived client assertion minted by the wallet
 * provider's backend (`createClientAssertion` there, for the signed-in user),
 * so no long-lived secret or private key lives in the app. Each attempt asks
 * again, since the token service accepts an assertion once. A `getToken`
 * that throws, or returns something that is not a header-safe string, fails
 * the call with `unauthenticated` (a `ProvisioningError` it throws is kept).
 *
 * @example
 * ```ts
 * const auth: BearerTokenAuth = {
 *   getToken: async () => {
 *     const answer = await fetch('/api/token-service-assertion', { method: 'POST', credentials: 'include' });
 *     if (!answer.ok) throw new Error(`assertion endpoint answered ${answer.status}`);
 *     return ((await answer.json()) as { assertion: string }).assertion;
 *   },
 * };
 * ```
 */
export interface BearerTokenAuth {
  /** Returns the bearer token (without the `Bearer ` prefix). Called once per attempt. */
  getToken: () => string | Promise<string>;
}

/**
 * Information passed to {@link HttpTokenServiceClientOptions.onRetry}. Safe to log.
 *
 * @example
 * ```ts
 * const onRetry = (info: RetryInfo) => log.info(`retry ${info.retry} in ${info.delayMs} ms after ${info.error.code}`);
 * ```
 */
export interface RetryInfo {
  /** The attempt about to be made, counted from 1 for the first retry. */
  retry: number;
  /** How long the client waits first, milliseconds. */
  delayMs: number;
  /** What failed. */
  error: ProvisioningError;
}

/**
 * Options of {@link createHttpTokenServiceClient}.
 *
 * @example
 * ```ts
 * const options: HttpTokenServiceClientOptions = {
 *   baseUrl: 'https://tokens.example',
 *   auth: { apiKey },
 *   timeoutMs: 5_000,
 *   maxRetries: 2,
 *   retryDelay: { initialMs: 200, maxMs: 2_000 },
 * };
 * ```
 */
export interface HttpTokenServiceClientOptions {
  /** The token service's base URL: https (http only on loopback). */
  baseUrl: string;
  /** How the client authenticates. */
  auth: ApiKeyAuth | ClientAssertionAuth | BearerTokenAuth;
  /** The fetch to use. Default: the global `fetch`, looked up at call time. */
  fetch?: TokenServiceFetch;
  /** Timeout of each attempt (request and body), milliseconds. Default 10 000. */
  timeoutMs?: number;
  /** Retries after the first attempt. Default 3. */
  maxRetries?: number;
  /** Backoff configuration. */
  retryDelay?: RetryDelayOptions;
  /** Randomness for jitter and idempotency keys. Default the platform CSPRNG. */
  random?: RandomSource;
  /** Waits between attempts; injectable so tests need not wait. Must reject when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** The clock for client assertions and `Retry-After` dates. */
  clock?: Clock;
  /** Called before each retry. */
  onRetry?: (info: RetryInfo) => void;
}

/**
 * Options of {@link HttpTokenServiceClient.submit}.
 *
 * @example
 * ```ts
 * await client.submit(submission, { idempotencyKey: savedKey }); // resume with the key of an interrupted submission
 * ```
 */
export interface HttpSubmitOptions {
  /** The idempotency key. Default: a fresh `idem_…` id per call, reused by its retries. */
  idempotencyKey?: string;
  /** Aborts the submission, retries included. */
  signal?: AbortSignal;
  /** Sent as `X-Correlation-Id` (the wallet session passes the invocation's); every error of the call carries it. */
  correlationId?: string | undefined;
}

/**
 * Options of {@link HttpTokenServiceClient.startVerification} and
 * {@link HttpTokenServiceClient.activateToken}: as {@link HttpSubmitOptions}.
 *
 * @example
 * ```ts
 * await client.startVerification('tok_123', { methodId: 'sms-1' }, { signal: AbortSignal.timeout(15_000) });
 * ```
 */
export type HttpVerificationOptions = Partial<VerificationCallOptions>;

/**
 * Options of {@link HttpTokenServiceClient.suspendToken},
 * {@link HttpTokenServiceClient.resumeToken} and
 * {@link HttpTokenServiceClient.deleteToken}: why, who asked, and the call's
 * idempotency key and signal.
 *
 * @example
 * ```ts
 * await client.deleteToken('tok_123', { reason: 'customer_request', actor: 'cardholder' });
 * ```
 */
export interface HttpLifecycleOptions {
  /** Why (`activation_expired` is the token service's own and is refused). */
  reason: Exclude<LifecycleReason, 'activation_expired'>;
  /** Who asked: the wallet provider itself (default) or the cardholder in the wallet. */
  actor?: 'wallet_provider' | 'cardholder' | undefined;
  /** The idempotency key. Default: a fresh `idem_…` id per call, reused by its retries. */
  idempotencyKey?: string | undefined;
  /** Aborts the call, retries included. */
  signal?: AbortSignal | undefined;
}

/**
 * The HTTP {@link TokenServiceClient}; its calls make the idempotency key optional.
 *
 * @example
 * ```ts
 * const client: HttpTokenServiceClient = createHttpTokenServiceClient({ baseUrl, auth: { apiKey } });
 * const response = await client.submit(submission);
 * ```
 */
export interface HttpTokenServiceClient extends TokenServiceClient {
  submit(submission: Submission, options?: HttpSubmitOptions): Promise<ProvisioningResponse>;
  startVerification(tokenReferenceId: string, request: { methodId: string }, options?: HttpVerificationOptions): Promise<VerificationStarted>;
  activateToken(tokenReferenceId: string, request: { methodId: string; code: string }, options?: HttpVerificationOptions): Promise<TokenStatusResponse>;
  /**
   * Suspends one of the wallet provider's tokens (a lost device): `POST
   * /v1/tokens/{id}/lifecycle` with `action: "suspend"` (spec section 7.10).
   * Codes: `not_found` (no such token, or another wallet provider's),
   * `token_state_conflict` (not active), and the transport codes.
   */
  suspendToken(tokenReferenceId: string, options: HttpLifecycleOptions): Promise<LifecycleResponse>;
  /** Resumes a suspended token (the device was found): `action: "resume"`. Codes as {@link HttpTokenServiceClient.suspendToken}. */
  resumeToken(tokenReferenceId: string, options: HttpLifecycleOptions): Promise<LifecycleResponse>;
  /** Deletes a token (the user removed the card), for good: `action: "delete"`. Codes as {@link HttpTokenServiceClient.suspendToken}. */
  deleteToken(tokenReferenceId: string, options: HttpLifecycleOptions): Promise<LifecycleResponse>;
  /** Every recorded change of one of the wallet provider's tokens, oldest first: `GET /v1/tokens/{id}/history`. */
  getTokenHistory(tokenReferenceId: string, options?: GetTokenStatusOptions): Promise<TokenHistory>;
  /**
   * The live tokens of one wallet account for 1 to 16 of one issuer's
   * accounts: `POST /v1/tokens/query` (spec section 7.14). Only the
   * authenticated wallet provider's tokens; an account without one is
   * absent from the answer. The body is checked before it is sent
   * (`invalid_message`: too many, no or duplicate account ids), the answer
   * strictly; retried like every call (it only reads).
   *
   * @example
   * ```ts
   * const { tokens } = await client.queryTokens({ type: 'token-query', version: 1, walletAccountId: 'user-42', issuerId: 'bank-a', accountIds: ['acc-1'] });
   * ```
   */
  queryTokens(query: TokenQuery, options?: QueryTokensOptions): Promise<TokenQueryResponse>;
}

type Attempt<T> = { ok: true; value: T } | { ok: false; error: ProvisioningError; retry: boolean; retryAfterMs: number | undefined };

const HEADER_SAFE = /^[\x21-\x7e]{1,4096}$/;
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{8,255}$/;
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;
/** The largest body the client reads (the protocol's messages are far smaller). */
const MAX_BODY_BYTES = 65_536;
/**
 * The statuses retried when the answer carries no problem document (a proxy,
 * a load balancer, a server that failed before it could answer properly).
 */
const RETRYABLE_STATUS: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);
/**
 * Retryable codes the client hands back at once instead of waiting: a resend
 * before its cooldown (`verification_cooldown`) is retried when the user
 * asks again, after `error.details.retryAfterMs`.
 */
const NOT_AUTO_RETRIED: ReadonlySet<string> = new Set(['verification_cooldown']);

/** True when the answer is problem details of this protocol, as `errorFromHttpResponse` reads them. */
function hasProblemDetails(contentType: string | null, body: string): boolean {
  if (!/^application\/(problem\+)?json\b/i.test(contentType ?? '')) return false;
  try {
    parseProblemDetails(body);
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates the HTTP client of the token service API:
 * `POST {baseUrl}/v1/provisioning-requests`, `GET {baseUrl}/v1/tokens/{id}`
 * and, for a token `pending_activation` (the yellow path),
 * `POST {baseUrl}/v1/tokens/{id}/verification` (`startVerification`) and
 * `POST {baseUrl}/v1/tokens/{id}/activation` (`activateToken`); for the
 * token's life after issuance, `POST {baseUrl}/v1/tokens/{id}/lifecycle`
 * (`suspendToken`, `resumeToken`, `deleteToken`) and
 * `GET {baseUrl}/v1/tokens/{id}/history` (`getTokenHistory`); and the
 * wallet account's live tokens for some of an issuer's accounts,
 * `POST {baseUrl}/v1/tokens/query` (`queryTokens`).
 *
 * - Authenticates with an API key or a fresh client assertion per attempt.
 * - Sends an `Idempotency-Key` on every POST, the same for every retry of one call.
 * - Retries only what can succeed later, up to `maxRetries`, with exponential
 *   backoff and full jitter, or after the `Retry-After` the answer asks for:
 *   - network errors and attempt timeouts;
 *   - an answer with problem details when, and only when, its `retryable`
 *     is true (`idempotency_in_flight`, `rate_limited`, `store_unavailable`,
 *     …; a 500 `configuration_invalid` is not retried; `verification_cooldown`
 *     is handed back at once with `error.details.retryAfterMs`, for the user
 *     to ask again);
 *   - an answer without parseable problem details when its status is 408,
 *     429, 500, 502, 503 or 504.
 * - Honours a timeout per attempt and an `AbortSignal` over the whole call.
 * - Maps RFC 9457 problem details to `ProvisioningError`s with the same code,
 *   status and request id; checks every success body against its schema.
 *
 * @example
 * ```ts
 * const tokenService = createHttpTokenServiceClient({
 *   baseUrl: 'https://tokens.example',
 *   // In an app: a client assertion minted by the wallet provider's backend for every attempt.
 *   auth: { getToken: () => walletBackend.mintTokenServiceAssertion() },
 *   timeoutMs: 10_000,
 *   maxRetries: 3,
 * });
 * const response = await tokenService.submit(submission, { signal });
 * ```
 */
export function createHttpTokenServiceClient(options: HttpTokenServiceClientOptions): HttpTokenServiceClient {
  const baseUrl = checkBaseUrl(options.baseUrl);
  const auth = options.auth;
  const validAuth =
    'apiKey' in auth
      ? HEADER_SAFE.test(auth.apiKey)
      : 'getToken' in auth
        ? typeof auth.getToken === 'function'
        : Boolean(auth.walletProviderId && auth.audience && auth.signingKey);
  if (!validAuth) {
    throw createError('configuration_invalid', 'auth needs an apiKey, a getToken function, or walletProviderId, audience and signingKey');
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxRetries = options.maxRetries ?? 3;
  if (!(timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS) || !Number.isInteger(maxRetries) || maxRetries < 0) {
    throw createError('configuration_invalid', 'timeoutMs must be positive and maxRetries a non-negative integer');
  }
  const delays = { initialMs: 250, maxMs: 5_000, maxRetryAfterMs: 30_000, ...options.retryDelay };
  const random = options.random ?? secureRandom;
  const clock = options.clock ?? systemClock;
  const sleep = options.sleep ?? defaultSleep;

  const authorization = async (): Promise<string> => {
    if ('apiKey' in auth) return `Bearer ${auth.apiKey}`;
    if ('getToken' in auth) {
      let token: unknown;
      try {
        token = await auth.getToken();
      } catch (cause) {
        throw isProvisioningError(cause) ? cause : createError('unauthenticated', 'The host could not provide a token service credential', { cause });
      }
      if (typeof token !== 'string' || !HEADER_SAFE.test(token)) {
        throw createError('unauthenticated', 'The host provided an unusable token service credential');
      }
      return `Bearer ${token}`;
    }
    return `Bearer ${await createClientAssertion({ walletProviderId: auth.walletProviderId, audience: auth.audience, signingKey: auth.signingKey, clock, random })}`;
  };

  async function attempt<T>(
    method: string,
    url: string,
    body: string | undefined,
    headers: Record<string, string>,
    parse: (text: string) => T,
    signal: AbortSignal | undefined,
  ): Promise<Attempt<T>> {
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const transportFailure = (cause: unknown): Attempt<T> => {
      if (signal?.aborted) throw abortError(signal);
      const code = timedOut ? 'timeout' : 'network_error';
      const message = timedOut ? `No answer from the token service within ${timeoutMs} ms` : 'The token service could not be reached';
      return { ok: false, error: createError(code, message, { cause }), retry: true, retryAfterMs: undefined };
    };
    try {
      const fetchImpl = options.fetch ?? (globalThis.fetch as TokenServiceFetch | undefined);
      if (!fetchImpl) throw createError('configuration_invalid', 'No fetch is available: pass one in the options');
      // Never follow a redirect: it would re-send the submission and its idempotency key elsewhere.
      const init = { method, headers: { ...headers, Authorization: await authorization() }, signal: controller.signal, redirect: 'error' as const };
      let response: FetchResponseLike;
      let text: string;
      try {
        const answer = await fetchImpl(url, body === undefined ? init : { ...init, body });
        response = answer;
        text = await readResponseText(answer, MAX_BODY_BYTES, () => createError('payload_too_large', 'The token service answer is too large', { status: answer.status }));
      } catch (cause) {
        if (isProvisioningError(cause)) throw cause;
        return transportFailure(cause);
      }
      const { status } = response;
      const headerRequestId = response.headers.get('x-request-id');
      const requestId = headerRequestId !== null && REQUEST_ID.test(headerRequestId) ? headerRequestId : undefined;
      if (status >= 200 && status < 300) {
        if (!/^application\/([a-z.+-]+\+)?json\b/i.test(response.headers.get('content-type') ?? '')) {
          throw createError('invalid_message', 'The token service answered with a body that is not JSON', { status, requestId });
        }
        return { ok: true, value: parse(text) };
      }
      const contentType = response.headers.get('content-type');
      const carried = errorFromHttpResponse({ status, contentType, body: text, requestId, peer: 'The token service' });
      // A problem document says itself whether the same request may succeed later; without one, the status decides.
      const retry = hasProblemDetails(contentType, text) ? carried.retryable : RETRYABLE_STATUS.has(status);
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), clock);
      // `attemptsLeft` (a wrong code) and the server's Retry-After (a resend too soon) reach the host through `details`.
      const details = { ...carried.details, ...(retryAfterMs !== undefined && { retryAfterMs }) };
      const error = createError(carried.code, carried.message, {
        status,
        requestId: carried.requestId,
        correlationId: carried.correlationId,
        retryable: retry,
        ...(Object.keys(details).length > 0 && { details }),
      });
      // A resend before its cooldown is the user's to wait for (the host shows when), not the client's.
      const autoRetry = retry && !NOT_AUTO_RETRIED.has(carried.code);
      return { ok: false, error, retry: autoRetry, retryAfterMs: autoRetry ? retryAfterMs : undefined };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async function call<T>(
    method: string,
    path: string,
    body: string | undefined,
    headers: Record<string, string>,
    parse: (text: string) => T,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const url = `${baseUrl}${path}`;
    for (let retry = 0; ; retry++) {
      if (signal?.aborted) throw abortError(signal);
      let result: Attempt<T>;
      try {
        result = await attempt(method, url, body, headers, parse, signal);
      } catch (error) {
        throw toProvisioningError(error);
      }
      if (result.ok) return result.value;
      const { error, retryAfterMs } = result;
      if (!result.retry || retry >= maxRetries || (retryAfterMs !== undefined && retryAfterMs > delays.maxRetryAfterMs)) throw error;
      const delayMs = retryAfterMs ?? backoffDelay(retry, delays, random);
      options.onRetry?.({ retry: retry + 1, delayMs, error });
      try {
        await sleep(delayMs, signal);
      } catch (cause) {
        throw signal?.aborted ? abortError(signal) : toProvisioningError(cause);
      }
    }
  }

  const postHeaders = (idempotencyKey: string | undefined): Record<string, string> => {
    const key = idempotencyKey ?? createId('idem', random);
    if (!IDEMPOTENCY_KEY.test(key)) throw createError('invalid_message', 'The idempotency key must be 8-255 characters of [A-Za-z0-9_.:-]');
    return { Accept: 'application/json', 'Content-Type': 'application/json', 'Idempotency-Key': key };
  };
  const tokenPath = (tokenReferenceId: string, suffix = '') => {
    if (typeof tokenReferenceId !== 'string' || !zOpaqueId.safeParse(tokenReferenceId).success || /^\.+$/.test(tokenReferenceId)) {
      throw createError('invalid_message', 'The token reference id is malformed');
    }
    return `/v1/tokens/${encodeURIComponent(tokenReferenceId)}${suffix}`;
  };
  const forToken =
    <T extends { tokenReferenceId: string }>(tokenReferenceId: string, parse: (text: string) => T) =>
    (text: string): T => {
      const value = parse(text);
      if (value.tokenReferenceId !== tokenReferenceId) throw createError('invalid_message', 'The token service answered for another token');
      return value;
    };

  const lifecycle = (action: 'suspend' | 'resume' | 'delete') => async (tokenReferenceId: string, lifecycleOptions: HttpLifecycleOptions): Promise<LifecycleResponse> => {
    const path = tokenPath(tokenReferenceId, '/lifecycle');
    const headers = postHeaders(lifecycleOptions?.idempotencyKey);
    const request = { action, reason: lifecycleOptions?.reason, ...(lifecycleOptions?.actor !== undefined && { actor: lifecycleOptions.actor }) };
    const body = JSON.stringify(parseLifecycleRequest(request));
    return call('POST', path, body, headers, forToken(tokenReferenceId, parseLifecycleResponse), lifecycleOptions?.signal);
  };

  return {
    async queryTokens(query, queryOptions: QueryTokensOptions = {}) {
      const body = JSON.stringify(parseTokenQuery(query));
      const headers = postHeaders(undefined);
      const { correlationId } = queryOptions;
      if (correlationId) headers['X-Correlation-Id'] = correlationId;
      const parse = (text: string): TokenQueryResponse => {
        const answer = parseTokenQueryResponse(text);
        // Only what was asked: an entry for another account is not this answer.
        const asked = new Set(query.accountIds);
        if (answer.tokens.some((t) => !asked.has(t.accountId))) throw createError('invalid_message', 'The token service answered for an account that was not asked about');
        return answer;
      };
      return call('POST', '/v1/tokens/query', body, headers, parse, queryOptions.signal).catch((error: ProvisioningError) => {
        throw withCorrelationId(error, correlationId);
      });
    },
    suspendToken: lifecycle('suspend'),
    resumeToken: lifecycle('resume'),
    deleteToken: lifecycle('delete'),
    async getTokenHistory(tokenReferenceId, historyOptions: GetTokenStatusOptions = {}) {
      const path = tokenPath(tokenReferenceId, '/history');
      return call('GET', path, undefined, { Accept: 'application/json' }, forToken(tokenReferenceId, parseTokenHistory), historyOptions.signal);
    },
    async submit(submission, submitOptions = {}) {
      const headers = postHeaders(submitOptions.idempotencyKey);
      const body = JSON.stringify(parseSubmission(submission));
      const { correlationId } = submitOptions;
      if (correlationId) headers['X-Correlation-Id'] = correlationId;
      return call('POST', '/v1/provisioning-requests', body, headers, parseProvisioningResponse, submitOptions.signal).catch((error: ProvisioningError) => {
        throw withCorrelationId(error, correlationId);
      });
    },
    async getTokenStatus(tokenReferenceId, statusOptions: GetTokenStatusOptions = {}) {
      const path = tokenPath(tokenReferenceId);
      return call('GET', path, undefined, { Accept: 'application/json' }, forToken(tokenReferenceId, parseTokenStatusResponse), statusOptions.signal);
    },
    async startVerification(tokenReferenceId, request, callOptions: HttpVerificationOptions = {}) {
      const path = tokenPath(tokenReferenceId, '/verification');
      const headers = postHeaders(callOptions.idempotencyKey);
      const body = JSON.stringify(parseVerificationRequest({ type: 'verification-request', version: 1, methodId: request?.methodId }));
      const parse = (text: string): VerificationStarted => {
        const started = forToken(tokenReferenceId, parseVerificationStarted)(text);
        if (started.methodId !== request.methodId) throw createError('invalid_message', 'The token service answered for another method');
        return started;
      };
      return call('POST', path, body, headers, parse, callOptions.signal);
    },
    async activateToken(tokenReferenceId, request, callOptions: HttpVerificationOptions = {}) {
      const path = tokenPath(tokenReferenceId, '/activation');
      const headers = postHeaders(callOptions.idempotencyKey);
      // The code is checked here too (6-8 ASCII digits): a malformed one never leaves the device and counts no attempt.
      const body = JSON.stringify(parseActivationRequest({ type: 'activation-request', version: 1, methodId: request?.methodId, code: request?.code }));
      return call('POST', path, body, headers, forToken(tokenReferenceId, parseTokenStatusResponse), callOptions.signal);
    },
  };
}

function checkBaseUrl(baseUrl: string): string {
  if (!zHttpsUrl.safeParse(baseUrl).success) throw createError('configuration_invalid', 'baseUrl must be an https URL (http only on loopback)');
  const url = new URL(baseUrl);
  if (url.search || url.hash) throw createError('configuration_invalid', 'baseUrl must not have a query or fragment');
  return url.href.replace(/\/+$/, '');
}
