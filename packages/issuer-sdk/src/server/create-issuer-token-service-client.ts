import { type CardEvent, type CardLifecycleResult, type Clock, type IssuerActivation, type IssuerTokenSearchResult, type IssuerTokenStatusResponse, type LifecycleAction, type LifecycleReason, type LifecycleResponse, type NotificationFeed, type RedeliveryAccepted, type TokenHistory, type ProvisioningError, type RandomSource, type SigningKeyHandle, type SigningKeyInput, type TokenStatusResponse, TransportError, createError, createId, createIssuerAssertion, errorFromHttpResponse, parseIssuerActivation, parseIssuerTokenStatusResponse, parseProblemDetails, parseTokenStatusResponse, readResponseText, type ResponseBodyLike, secureRandom, systemClock, toProvisioningError, zHttpsUrl, parseCardEvent, parseCardLifecycleRequest, parseCardLifecycleResult, parseIssuerLifecycleRequest, parseIssuerTokenSearch, parseIssuerTokenSearchResult, parseLifecycleResponse, parseNotificationFeed, parseRedeliveryAccepted, parseTokenHistory, zOpaqueId, zPartyId, zRandomId } from '@pushprov/protocol';
import { abortError, toSigningKeyHandle } from '@pushprov/protocol/internal';
import { isDuration, withDeadline } from '../lib/deadline.js';

/**
 * The part of `fetch` the issuer API client uses. The platform's `fetch` fits.
 *
 * @example
 * ```ts
 * const fetch: IssuerApiFetch = (url, init) => globalThis.fetch(url, init);
 * ```
 */
export type IssuerApiFetch = (
  url: string,
  init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string; signal: AbortSignal; redirect: 'error' },
) => Promise<ResponseBodyLike & { readonly status: number }>;

/**
 * Options of {@link createIssuerTokenServiceClient} (and of {@link activateToken}).
 *
 * @example
 * ```ts
 * const options: IssuerTokenServiceClientOptions = {
 *   issuerId: 'bank-a',
 *   signingKey: issuerKeyHandle, // the key the token service trusts for bank-a's requests
 *   tokenService: { baseUrl: 'https://tokens.example', audience: 'token-service.example' },
 * };
 * ```
 */
export interface IssuerTokenServiceClientOptions {
  /** The issuer id, as the token service registers it: the assertion's `iss` and `sub`. */
  issuerId: string;
  /**
   * One of the issuer's registered signing keys: a private JWK with its `kid`,
   * or a {@link SigningKeyHandle} whose private key stays in its HSM or KMS.
   * Every call signs a fresh, single-use issuer assertion with it.
   */
  signingKey: SigningKeyInput;
  /** The token service: its base URL (https; http only on loopback) and its id (the assertion's `aud`). */
  tokenService: { baseUrl: string; audience: string };
  /** The fetch to use. Default the global `fetch`. */
  fetch?: IssuerApiFetch;
  /** Timeout of each attempt, milliseconds. Default 10 000. */
  timeoutMs?: number;
  /** Retries after the first attempt, only on retryable errors. Default 2. */
  maxRetries?: number;
  clock?: Clock;
  random?: RandomSource;
  /** Waits between attempts; must reject when `signal` aborts. Injectable for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Options of {@link IssuerTokenServiceClient.activateToken}.
 *
 * @example
 * ```ts
 * await client.activateToken('tok_123', { method: 'customer_service', idempotencyKey: ticket.id });
 * ```
 */
export interface IssuerActivateOptions {
  /** How the bank verified the cardholder: `issuer_app` (its app) or `customer_service` (an agent). */
  method: IssuerActivation['method'];
  /** The idempotency key, the same for every retry. Default a fresh `idem_…` per call. */
  idempotencyKey?: string;
  /** Aborts the call, retries included. */
  signal?: AbortSignal;
}

/**
 * The token service's issuer API (`/v1/issuer/…`, spec sections 7.9 and
 * 7.11) and event feed (`/v1/events`), for an issuer's backend. Made by {@link createIssuerTokenServiceClient}.
 *
 * @example
 * ```ts
 * const status = await client.getTokenStatus('tok_123'); // status.verification.methods while pending
 * ```
 */
export interface IssuerTokenServiceClient {
  /**
   * Activates a token `pending_activation` of one of this issuer's cards,
   * once the bank has verified the cardholder (`POST
   * /v1/issuer/tokens/{id}/activation`). Resolves with the token status,
   * `active`. Codes: `not_found` (no such token, or another issuer's),
   * `token_not_pending`, `verification_method_unavailable` (the token offers
   * no method of that type), `unauthenticated`, and the transport codes.
   */
  activateToken(tokenReferenceId: string, options: IssuerActivateOptions): Promise<TokenStatusResponse>;
  /**
   * Reads a token's status (`GET /v1/issuer/tokens/{id}`), with its methods
   * while pending, the wallet provider, the card's last four digits
   * (`panLast4`) and the account id it was provisioned for (`accountId`: the
   * request's `accountId`, else its `accountRef`): what the bank checks
   * against its own records before it acts on the token.
   */
  getTokenStatus(tokenReferenceId: string, options?: { signal?: AbortSignal }): Promise<IssuerTokenStatusResponse>;
  /**
   * The tokens of one of this issuer's cards, by its account id (the request
   * claims' `accountId`, or `accountRef`) or by its card number (looked up
   * through its fingerprint): `POST /v1/issuer/tokens/search` (spec section
   * 7.11). Never a card or token number in the answer; another issuer's card
   * answers no tokens.
   */
  searchTokens(card: IssuerCardSelector, options?: IssuerCallOptions): Promise<IssuerTokenSearchResult>;
  /**
   * Suspends, resumes or deletes one token of this issuer's cards, with a
   * reason: `POST /v1/issuer/tokens/{id}/lifecycle`. Codes: `not_found` (no
   * such token, or another issuer's), `token_state_conflict` (the token's
   * status does not allow it), `unauthenticated`, and the transport codes.
   */
  changeTokenLifecycle(tokenReferenceId: string, change: IssuerLifecycleChange, options?: IssuerCallOptions): Promise<LifecycleResponse>;
  /**
   * The same action on every token of one card: `POST
   * /v1/issuer/cards/lifecycle`. A token the action does not apply to keeps
   * its status (`previousStatus` = `status`).
   */
  changeCardLifecycle(card: IssuerCardSelector, change: IssuerLifecycleChange, options?: IssuerCallOptions): Promise<CardLifecycleResult>;
  /**
   * Tells the token service of a card event: `reissued` with the new expiry
   * (its tokens and vault entry are updated, event `token.updated`) or
   * `closed` (every token of the card is deleted): `POST /v1/issuer/cards/events`.
   */
  reportCardEvent(event: CardEvent, options?: IssuerCallOptions): Promise<CardLifecycleResult>;
  /** Every recorded change of a token of this issuer's cards, oldest first: `GET /v1/issuer/tokens/{id}/history`. */
  getTokenHistory(tokenReferenceId: string, options?: { signal?: AbortSignal }): Promise<TokenHistory>;
  /**
   * This issuer's events after `after` (a cursor of an earlier page; from the
   * start without one), at most `limit`: `GET /v1/events`. For
   * reconciliation: the same events the notifications carry.
   */
  listEvents(options?: { after?: string | undefined; limit?: number | undefined; signal?: AbortSignal | undefined }): Promise<NotificationFeed>;
  /** Puts this issuer's dead-lettered delivery of an event back to pending: `POST /v1/events/{eventId}/redeliver` (`202`). */
  redeliverEvent(eventId: string, options?: IssuerCallOptions): Promise<RedeliveryAccepted>;
}

/**
 * How an issuer names one of its cards: its account id, or its card number
 * (sent to the token service, which looks it up by fingerprint; never logged).
 *
 * @example
 * ```ts
 * const card: IssuerCardSelector = { accountId: 'acct-000123' };
 * ```
 */
export type IssuerCardSelector = { accountId: string } | { pan: string };

/**
 * A lifecycle change an issuer asks for.
 *
 * @example
 * ```ts
 * const change: IssuerLifecycleChange = { action: 'suspend', reason: 'suspected_fraud' };
 * ```
 */
export interface IssuerLifecycleChange {
  action: LifecycleAction;
  /** Why (`activation_expired` is the token service's own and is refused). */
  reason: Exclude<LifecycleReason, 'activation_expired'>;
}

/**
 * Options of an issuer API POST.
 *
 * @example
 * ```ts
 * await client.changeTokenLifecycle('tok_123', { action: 'delete', reason: 'card_closed' }, { idempotencyKey: `close-${caseId}` });
 * ```
 */
export interface IssuerCallOptions {
  /** The idempotency key, the same for every retry. Default a fresh `idem_…` per call. */
  idempotencyKey?: string | undefined;
  /** Aborts the call, retries included. */
  signal?: AbortSignal | undefined;
}

const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{8,255}$/;
const RETRYABLE_STATUS: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);
/** The largest answer read: a page of the event feed (1 000 events) fits. */
const MAX_BODY_BYTES = 1_048_576;
const MAX_RETRY_AFTER_MS = 30_000;

const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

function isProblem(contentType: string | null, text: string): boolean {
  if (!/^application\/(problem\+)?json\b/i.test(contentType ?? '')) return false;
  try {
    parseProblemDetails(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates the client of the token service's issuer API. Every attempt is
 * authenticated with a fresh issuer assertion (`createIssuerAssertion`,
 * single use) signed with the issuer's key; a POST carries an
 * `Idempotency-Key`, the same for its retries; only retryable failures are
 * retried (network errors, timeouts, problems whose `retryable` is true, a
 * 5xx without problem details), with backoff or the answer's `Retry-After`;
 * each attempt has a timeout and the whole call an `AbortSignal`. Every
 * answer is checked against its schema and must be for the token asked about.
 *
 * @example
 * ```ts
 * import { createIssuerTokenServiceClient } from '@pushprov/issuer-sdk/server';
 *
 * const tokenService = createIssuerTokenServiceClient({
 *   issuerId: 'bank-a',
 *   signingKey: JSON.parse(process.env.ISSUER_SIGNING_JWK!),
 *   tokenService: { baseUrl: 'https://tokens.example', audience: 'token-service.example' },
 * });
 * // Customer service, after the agent verified the caller:
 * await tokenService.activateToken(tokenReferenceId, { method: 'customer_service' });
 * ```
 */
export function createIssuerTokenServiceClient(options: IssuerTokenServiceClientOptions): IssuerTokenServiceClient {
  if (!zPartyId.safeParse(options?.issuerId).success) throw createError('configuration_invalid', 'issuerId must be a lower-case slug');
  let signingKey: SigningKeyHandle;
  try {
    signingKey = toSigningKeyHandle(options.signingKey);
  } catch (cause) {
    throw createError('configuration_invalid', 'signingKey must be a private ES256 or EdDSA JWK with a kid, or a signing key handle', { cause });
  }
  const { baseUrl, audience } = options.tokenService ?? ({} as IssuerTokenServiceClientOptions['tokenService']);
  if (!zHttpsUrl.safeParse(baseUrl).success || /[?#]/.test(baseUrl)) {
    throw createError('configuration_invalid', 'tokenService.baseUrl must be an https URL (http only on loopback) without query or fragment');
  }
  if (!zPartyId.safeParse(audience).success) throw createError('configuration_invalid', 'tokenService.audience must be a lower-case slug');
  const base = baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxRetries = options.maxRetries ?? 2;
  if (!isDuration(timeoutMs) || !Number.isInteger(maxRetries) || maxRetries < 0 || maxRetries > 10) {
    throw createError('configuration_invalid', 'timeoutMs must be a positive integer and maxRetries an integer from 0 to 10');
  }
  const clock = options.clock ?? systemClock;
  const random = options.random ?? secureRandom;
  const sleep = options.sleep ?? defaultSleep;
  const fetchImpl: IssuerApiFetch = options.fetch ?? ((url, init) => (globalThis.fetch as unknown as IssuerApiFetch)(url, init));

  type Attempt<T> = { ok: true; value: T } | { ok: false; error: ProvisioningError; retry: boolean; retryAfterMs?: number };

  async function attempt<T>(method: 'GET' | 'POST', path: string, body: string | undefined, headers: Record<string, string>, parse: (text: string) => T, signal: AbortSignal): Promise<Attempt<T>> {
    // A fresh assertion every attempt: the token service uses each one up when it is presented.
    const assertion = await createIssuerAssertion({ issuerId: options.issuerId, audience, signingKey, clock, random });
    let response: Awaited<ReturnType<IssuerApiFetch>>;
    let text: string;
    try {
      const init = { method, headers: { ...headers, authorization: `Bearer ${assertion}` }, redirect: 'error' as const };
      // The deadline covers the request and its body.
      ({ response, text } = await withDeadline(
        async (s) => {
          const answer = await fetchImpl(`${base}${path}`, body === undefined ? { ...init, signal: s } : { ...init, body, signal: s });
          const read = await readResponseText(answer, MAX_BODY_BYTES, () => createError('payload_too_large', 'The token service answer is too large'));
          return { response: answer, text: read };
        },
        { timeoutMs, signal, what: 'The token service call' },
      ));
    } catch (cause) {
      if (signal.aborted) throw abortError(signal);
      const error = toProvisioningError(cause);
      if (error.code === 'timeout') return { ok: false, error, retry: true };
      if (error.code === 'payload_too_large') throw error;
      return { ok: false, error: new TransportError('network_error', 'The token service could not be reached', { cause }), retry: true };
    }
    const requestIdHeader = response.headers.get('x-request-id');
    const requestId = requestIdHeader !== null && /^[\x21-\x7e]{1,128}$/.test(requestIdHeader) ? requestIdHeader : undefined;
    if (response.status >= 200 && response.status < 300) return { ok: true, value: parse(text) };
    const contentType = response.headers.get('content-type');
    const error = errorFromHttpResponse({ status: response.status, contentType, body: text, requestId, peer: 'The token service' });
    const retry = isProblem(contentType, text) ? error.retryable : RETRYABLE_STATUS.has(response.status);
    const retryAfter = response.headers.get('retry-after');
    const retryAfterMs = retryAfter !== null && /^[0-9]{1,6}$/.test(retryAfter.trim()) ? Number(retryAfter.trim()) * 1000 : undefined;
    return { ok: false, error, retry, ...(retryAfterMs !== undefined && { retryAfterMs }) };
  }

  async function call<T>(method: 'GET' | 'POST', path: string, body: string | undefined, headers: Record<string, string>, parse: (text: string) => T, signal: AbortSignal | undefined): Promise<T> {
    const never = signal ?? new AbortController().signal;
    for (let retry = 0; ; retry++) {
      if (never.aborted) throw abortError(never);
      const result = await attempt(method, path, body, headers, parse, never);
      if (result.ok) return result.value;
      if (!result.retry || retry >= maxRetries || (result.retryAfterMs ?? 0) > MAX_RETRY_AFTER_MS) throw result.error;
      // Exponential backoff with full jitter, or what the answer asked for.
      const [a = 0, b = 0] = random.bytes(2);
      const delay = result.retryAfterMs ?? Math.floor((((a << 8) | b) / 65_536) * Math.min(5_000, 250 * 2 ** retry));
      await sleep(delay, never);
    }
  }

  const tokenPath = (tokenReferenceId: string, suffix = '') => {
    if (typeof tokenReferenceId !== 'string' || !zOpaqueId.safeParse(tokenReferenceId).success || /^\.+$/.test(tokenReferenceId)) {
      throw createError('invalid_message', 'The token reference id is malformed');
    }
    return `/v1/issuer/tokens/${encodeURIComponent(tokenReferenceId)}${suffix}`;
  };

  const postHeaders = (idempotencyKey: string | undefined) => {
    const key = idempotencyKey ?? createId('idem', random);
    if (!IDEMPOTENCY_KEY.test(key)) throw createError('invalid_message', 'The idempotency key must be 8-255 characters of [A-Za-z0-9_.:-]');
    return { accept: 'application/json', 'content-type': 'application/json', 'idempotency-key': key };
  };
  const GET_HEADERS = { accept: 'application/json' };
  /** A parser of an answer that must be about `tokenReferenceId`. */
  const forToken =
    <T extends { tokenReferenceId: string }>(tokenReferenceId: string, parse: (text: string) => T) =>
    (text: string): T => {
      const value = parse(text);
      if (value.tokenReferenceId !== tokenReferenceId) throw createError('invalid_message', 'The token service answered for another token');
      return value;
    };
  // Bodies are checked here (a card number by Luhn): a malformed one is refused before it leaves, and the error never holds it.
  const checked = (parse: (input: unknown) => unknown, value: unknown) => JSON.stringify(parse(value));
  const selectorOf = (card: IssuerCardSelector) => (card && 'pan' in card ? { pan: card.pan } : { accountId: (card as { accountId?: string } | undefined)?.accountId });

  return {
    async activateToken(tokenReferenceId, activateOptions) {
      const path = tokenPath(tokenReferenceId, '/activation');
      const headers = postHeaders(activateOptions?.idempotencyKey);
      const body = JSON.stringify(parseIssuerActivation({ type: 'issuer-activation', version: 1, method: activateOptions?.method }));
      return call('POST', path, body, headers, forToken(tokenReferenceId, parseTokenStatusResponse), activateOptions?.signal);
    },
    async getTokenStatus(tokenReferenceId, statusOptions = {}) {
      return call('GET', tokenPath(tokenReferenceId), undefined, GET_HEADERS, forToken(tokenReferenceId, parseIssuerTokenStatusResponse), statusOptions.signal);
    },
    async searchTokens(card, callOptions = {}) {
      const headers = postHeaders(callOptions.idempotencyKey);
      const body = checked(parseIssuerTokenSearch, selectorOf(card));
      return call('POST', '/v1/issuer/tokens/search', body, headers, parseIssuerTokenSearchResult, callOptions.signal);
    },
    async changeTokenLifecycle(tokenReferenceId, change, callOptions = {}) {
      const path = tokenPath(tokenReferenceId, '/lifecycle');
      const headers = postHeaders(callOptions.idempotencyKey);
      const body = checked(parseIssuerLifecycleRequest, { action: change?.action, reason: change?.reason });
      return call('POST', path, body, headers, forToken(tokenReferenceId, parseLifecycleResponse), callOptions.signal);
    },
    async changeCardLifecycle(card, change, callOptions = {}) {
      const headers = postHeaders(callOptions.idempotencyKey);
      const body = checked(parseCardLifecycleRequest, { ...selectorOf(card), action: change?.action, reason: change?.reason });
      return call('POST', '/v1/issuer/cards/lifecycle', body, headers, parseCardLifecycleResult, callOptions.signal);
    },
    async reportCardEvent(event, callOptions = {}) {
      const headers = postHeaders(callOptions.idempotencyKey);
      const body = checked(parseCardEvent, event);
      return call('POST', '/v1/issuer/cards/events', body, headers, parseCardLifecycleResult, callOptions.signal);
    },
    async getTokenHistory(tokenReferenceId, historyOptions = {}) {
      const path = tokenPath(tokenReferenceId, '/history');
      return call('GET', path, undefined, GET_HEADERS, forToken(tokenReferenceId, parseTokenHistory), historyOptions.signal);
    },
    async listEvents(listOptions = {}) {
      const query = new URLSearchParams();
      if (listOptions.after !== undefined) {
        if (typeof listOptions.after !== 'string' || !/^[A-Za-z0-9._:-]{1,128}$/.test(listOptions.after)) throw createError('invalid_message', 'The cursor is malformed');
        query.set('after', listOptions.after);
      }
      if (listOptions.limit !== undefined) {
        if (!Number.isInteger(listOptions.limit) || listOptions.limit < 1 || listOptions.limit > 1000) throw createError('invalid_message', 'limit must be an integer from 1 to 1000');
        query.set('limit', String(listOptions.limit));
      }
      const path = `/v1/events${query.size > 0 ? `?${query}` : ''}`;
      return call('GET', path, undefined, GET_HEADERS, parseNotificationFeed, listOptions.signal);
    },
    async redeliverEvent(eventId, callOptions = {}) {
      if (typeof eventId !== 'string' || !zRandomId.safeParse(eventId).success) throw createError('invalid_message', 'The event id is malformed');
      const headers = postHeaders(callOptions.idempotencyKey);
      const parse = (text: string): RedeliveryAccepted => {
        const accepted = parseRedeliveryAccepted(text);
        if (accepted.eventId !== eventId) throw createError('invalid_message', 'The token service answered for another event');
        return accepted;
      };
      return call('POST', `/v1/events/${encodeURIComponent(eventId)}/redeliver`, '{}', headers, parse, callOptions.signal);
    },
  };
}

/**
 * Input of {@link activateToken}: the client's options and the call's.
 *
 * @example
 * ```ts
 * const input: ActivateTokenInput = { ...clientOptions, tokenReferenceId: 'tok_123', method: 'customer_service' };
 * ```
 */
export interface ActivateTokenInput extends IssuerTokenServiceClientOptions, IssuerActivateOptions {
  /** The pending token to activate. */
  tokenReferenceId: string;
}

/**
 * Activates a token `pending_activation` of one of the issuer's cards: signs
 * a fresh issuer assertion with `createIssuerAssertion` and the issuer's key,
 * and calls `POST /v1/issuer/tokens/{id}/activation` (spec section 7.9). For
 * the bank's app-to-app activation (see {@link createActivationHandler}) and
 * for customer service, once an agent has verified the caller. One call of
 * {@link createIssuerTokenServiceClient}'s `activateToken`; keep a client for
 * many calls.
 *
 * @example
 * ```ts
 * import { activateToken } from '@pushprov/issuer-sdk/server';
 *
 * // The agent's tool, after the caller answered the security questions:
 * const status = await activateToken({
 *   issuerId: 'bank-a',
 *   signingKey: issuerKeyHandle,
 *   tokenService: { baseUrl: 'https://tokens.example', audience: 'token-service.example' },
 *   tokenReferenceId: ticket.tokenReferenceId,
 *   method: 'customer_service',
 *   idempotencyKey: `cs-${ticket.id}`,
 * });
 * status.status; // 'active'
 * ```
 */
export function activateToken(input: ActivateTokenInput): Promise<TokenStatusResponse> {
  const { tokenReferenceId, method, idempotencyKey, signal, ...clientOptions } = input;
  return createIssuerTokenServiceClient(clientOptions).activateToken(tokenReferenceId, {
    method,
    ...(idempotencyKey !== undefined && { idempotencyKey }),
    ...(signal !== undefined && { signal }),
  });
}
