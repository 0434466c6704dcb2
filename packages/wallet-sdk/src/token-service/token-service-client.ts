import type { ProvisioningResponse, Submission, TokenQuery, TokenQueryResponse, TokenStatusResponse, VerificationStarted } from '@pushprov/protocol';

/**
 * Options of {@link TokenServiceClient.submit}.
 *
 * @example
 * ```ts
 * await tokenService.submit(submission, { idempotencyKey: createId('idem'), signal });
 * ```
 */
export interface SubmitOptions {
  /** The idempotency key: the same for every retry of one submission, fresh for each new one. */
  idempotencyKey: string;
  /** Aborts the submission, retries included. */
  signal?: AbortSignal;
  /** The provisioning attempt's correlation id (the invocation's): send it on, e.g. as `X-Correlation-Id`. */
  correlationId?: string | undefined;
}

/**
 * Options of {@link TokenServiceClient.getTokenStatus}.
 *
 * @example
 * ```ts
 * const status = await tokenService.getTokenStatus('tok_123', { signal: AbortSignal.timeout(5_000) });
 * ```
 */
export interface GetTokenStatusOptions {
  /** Aborts the request, retries included. */
  signal?: AbortSignal;
}

/**
 * Options of {@link TokenServiceClient.startVerification} and {@link TokenServiceClient.activateToken}.
 *
 * @example
 * ```ts
 * await tokenService.activateToken('tok_123', { methodId: 'sms-1', code: '123456' }, { idempotencyKey: createId('idem'), signal });
 * ```
 */
export interface VerificationCallOptions {
  /** The idempotency key: the same for every retry of one call, fresh for each new one. */
  idempotencyKey: string;
  /** Aborts the call, retries included. */
  signal?: AbortSignal;
}

/**
 * Options of {@link TokenServiceClient.queryTokens}.
 *
 * @example
 * ```ts
 * const { tokens } = await tokenService.queryTokens!(query, { signal: AbortSignal.timeout(5_000), correlationId });
 * ```
 */
export interface QueryTokensOptions {
  /** Aborts the query, retries included. */
  signal?: AbortSignal | undefined;
  /** Sent as `X-Correlation-Id`; every error of the call carries it. */
  correlationId?: string | undefined;
}

/**
 * How the wallet talks to the token service. {@link "@pushprov/wallet-sdk/http"!createHttpTokenServiceClient}
 * (from `@pushprov/wallet-sdk/http`) is the shipped implementation; implement it yourself to go through your
 * own backend, or with a double in tests. Failures must be
 * `ProvisioningError`s with the token service's codes.
 *
 * @example
 * ```ts
 * // Route submissions through the wallet provider's own backend:
 * const tokenService: TokenServiceClient = {
 *   submit: (submission, { idempotencyKey, signal }) => myBackend.post('/push', submission, { idempotencyKey, signal }),
 *   getTokenStatus: (id, { signal } = {}) => myBackend.get(`/tokens/${id}`, { signal }),
 * };
 * ```
 */
export interface TokenServiceClient {
  /** Submits a provisioning request (step 4) and returns the token service's answer (step 5). */
  submit(submission: Submission, options: SubmitOptions): Promise<ProvisioningResponse>;
  /** Reads a token's status, without its number. */
  getTokenStatus(tokenReferenceId: string, options?: GetTokenStatusOptions): Promise<TokenStatusResponse>;
  /**
   * Asks for a one-time code by an OTP method of a pending token
   * (`POST /v1/tokens/{id}/verification`, spec section 7.7); a second call for
   * the same method is a resend. Needed for the yellow path's OTP methods.
   */
  startVerification?(tokenReferenceId: string, request: { methodId: string }, options: VerificationCallOptions): Promise<VerificationStarted>;
  /**
   * Sends the code the user typed (`POST /v1/tokens/{id}/activation`, spec
   * section 7.8) and returns the token's status, `active`. A wrong code is
   * `verification_code_invalid` with `error.details.attemptsLeft`.
   */
  activateToken?(tokenReferenceId: string, request: { methodId: string; code: string }, options: VerificationCallOptions): Promise<TokenStatusResponse>;
  /**
   * The wallet provider's live tokens of one wallet account for some of one
   * issuer's accounts (`POST /v1/tokens/query`, spec section 7.14): each
   * with its account id, device, status and whether a code was sent for its
   * activation; never a card or token number. For the account states of a
   * status query or a consent prompt; optional (without it the wallet shows
   * no state).
   */
  queryTokens?(query: TokenQuery, options?: QueryTokensOptions): Promise<TokenQueryResponse>;
}
