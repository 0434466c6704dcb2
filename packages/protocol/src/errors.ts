/**
 * Typed errors of the push provisioning protocol.
 *
 * Every failure anywhere in the SDKs or the token service is a
 * {@link ProvisioningError} with a stable {@link ErrorCode}. The catalog
 * ({@link ERROR_CATALOG}) gives each code its family, HTTP status, and whether
 * retrying the same operation can help.
 *
 * Messages never contain the input that was rejected. As a second line of
 * defence, every message and detail string passes through {@link redactPans},
 * which masks any run of 12 to 19 digits to its last four.
 *
 * Messages and titles are for developers. What to tell the customer, for
 * each code, is in `@pushprov/protocol/messages` (`USER_MESSAGES`,
 * `userMessage`): a separate entry, so only the UIs that show it bundle it.
 *
 * @packageDocumentation
 */

/** The error families. Each maps to one subclass of {@link ProvisioningError}. */
export type ErrorFamily =
  | 'schema'
  | 'crypto'
  | 'claims'
  | 'replay'
  | 'binding'
  | 'card'
  | 'decision'
  | 'verification'
  | 'lifecycle'
  | 'auth'
  | 'http'
  | 'transport'
  | 'session'
  | 'internal';

/** Describes one error code: its family, HTTP status, retryability and a short title. */
export interface ErrorCodeInfo {
  readonly family: ErrorFamily;
  readonly status: number;
  readonly retryable: boolean;
  readonly title: string;
}

const entry = (family: ErrorFamily, status: number, retryable: boolean): Omit<ErrorCodeInfo, 'title'> => ({ family, status, retryable });

// Family, status and retryability of every code: what the error classes need.
// Titles are a separate table (ERROR_TITLES), so an app bundle that never
// reads them (problem details, docs) does not carry them.
const ERROR_INFO = {
  // schema: the message is not what the protocol allows
  invalid_json: entry('schema', 400, false),
  invalid_message: entry('schema', 400, false),
  unsupported_version: entry('schema', 400, false),
  payload_too_large: entry('schema', 413, false),
  invalid_claims: entry('schema', 422, false),
  // crypto: JOSE structure, keys and signatures
  jwe_header_rejected: entry('crypto', 422, false),
  unknown_key: entry('crypto', 422, false),
  decryption_failed: entry('crypto', 422, false),
  jws_header_rejected: entry('crypto', 422, false),
  unknown_issuer: entry('crypto', 422, false),
  signature_invalid: entry('crypto', 422, false),
  // claims: time and audience
  audience_mismatch: entry('claims', 422, false),
  not_yet_valid: entry('claims', 422, false),
  expired: entry('claims', 422, false),
  lifetime_exceeded: entry('claims', 422, false),
  // replay
  replayed: entry('replay', 409, false),
  // binding: what the wallet submitted must equal what the issuer encrypted
  session_mismatch: entry('binding', 422, false),
  wallet_provider_mismatch: entry('binding', 422, false),
  wallet_account_mismatch: entry('binding', 422, false),
  device_mismatch: entry('binding', 422, false),
  nonce_mismatch: entry('binding', 422, false),
  device_key_mismatch: entry('binding', 422, false),
  // binding, checked by the wallet: the access data must be for the card and issuer the user agreed to
  access_data_mismatch: entry('binding', 502, false),
  // card
  card_invalid: entry('card', 422, false),
  card_expired: entry('card', 422, false),
  card_not_eligible: entry('card', 422, false),
  // decision
  declined: entry('decision', 403, false),
  // verification: step-up activation of a pending token (the yellow path)
  verification_code_invalid: entry('verification', 422, false),
  verification_code_expired: entry('verification', 422, false),
  verification_attempts_exhausted: entry('verification', 403, false),
  verification_method_unavailable: entry('verification', 422, false),
  verification_cooldown: entry('verification', 429, true),
  token_not_pending: entry('verification', 409, false),
  // lifecycle: suspending, resuming and deleting tokens (spec section 12)
  token_state_conflict: entry('lifecycle', 409, false),
  // auth
  unauthenticated: entry('auth', 401, false),
  forbidden: entry('auth', 403, false),
  wallet_provider_not_allowed: entry('auth', 403, false),
  // http
  not_found: entry('http', 404, false),
  method_not_allowed: entry('http', 405, false),
  unsupported_media_type: entry('http', 415, false),
  missing_idempotency_key: entry('http', 400, false),
  invalid_idempotency_key: entry('http', 400, false),
  idempotency_key_reused: entry('http', 422, false),
  idempotency_in_flight: entry('http', 409, true),
  rate_limited: entry('http', 429, true),
  // transport: channels and HTTP clients
  network_error: entry('transport', 503, true),
  timeout: entry('transport', 504, true),
  aborted: entry('transport', 499, false),
  server_error: entry('transport', 502, true),
  channel_closed: entry('transport', 410, false),
  popup_blocked: entry('transport', 400, false),
  origin_rejected: entry('transport', 403, false),
  unexpected_message: entry('transport', 400, false),
  // session: the SDK state machines
  session_state: entry('session', 409, false),
  consent_denied: entry('session', 403, false),
  cancelled: entry('session', 499, false),
  // internal
  configuration_invalid: entry('internal', 500, false),
  internal_error: entry('internal', 500, true),
  store_unavailable: entry('internal', 503, true),
} as const satisfies Record<string, Omit<ErrorCodeInfo, 'title'>>;

/** A stable error code. See {@link ERROR_CATALOG}. */
export type ErrorCode = keyof typeof ERROR_INFO;

/**
 * The short title of every error code: the `title` of problem details, and of
 * the error table in `docs/protocol.md`. For developers, not for customers
 * (those words are in `@pushprov/protocol/messages`).
 *
 * @example
 * ```ts
 * import { ERROR_TITLES } from '@pushprov/protocol/errors';
 * ERROR_TITLES.replayed; // 'The request or session was already used'
 * ```
 */
export const ERROR_TITLES: { readonly [C in ErrorCode]: string } = {
  invalid_json: 'The body is not strict JSON',
  invalid_message: 'The message does not match its schema',
  unsupported_version: 'The protocol version is not supported',
  payload_too_large: 'The message is larger than allowed',
  invalid_claims: 'The signed claims do not match their schema',
  jwe_header_rejected: 'The JWE header is not allowed',
  unknown_key: 'No key with that kid',
  decryption_failed: 'The request could not be decrypted',
  jws_header_rejected: 'The JWS header is not allowed',
  unknown_issuer: 'The issuer or its key is not trusted',
  signature_invalid: 'The signature does not verify',
  audience_mismatch: 'The request is meant for another token service',
  not_yet_valid: 'The request was issued in the future',
  expired: 'The request or session has expired',
  lifetime_exceeded: 'The request lives longer than allowed',
  replayed: 'The request or session was already used',
  session_mismatch: 'The session id does not match',
  wallet_provider_mismatch: 'The wallet provider does not match',
  wallet_account_mismatch: 'The wallet account does not match',
  device_mismatch: 'The device does not match',
  nonce_mismatch: 'The wallet nonce does not match',
  device_key_mismatch: 'The device key does not match',
  access_data_mismatch: 'The access data is not for the card the user agreed to',
  card_invalid: 'The card number or expiry is not valid',
  card_expired: 'The card has expired',
  card_not_eligible: 'The card is outside the issuer’s registered ranges',
  declined: 'The issuer declined the provisioning',
  verification_code_invalid: 'The verification code is not correct',
  verification_code_expired: 'The verification code has expired',
  verification_attempts_exhausted: 'No attempts are left for this verification method',
  verification_method_unavailable: 'The verification method is not available',
  verification_cooldown: 'A new verification code cannot be sent yet',
  token_not_pending: 'The token is not pending activation',
  token_state_conflict: 'The token’s status does not allow this change',
  unauthenticated: 'The caller is not authenticated',
  forbidden: 'The caller may not access this resource',
  wallet_provider_not_allowed: 'The issuer does not accept this wallet provider',
  not_found: 'Not found',
  method_not_allowed: 'The method is not allowed on this resource',
  unsupported_media_type: 'The content type is not supported',
  missing_idempotency_key: 'An Idempotency-Key header is required',
  invalid_idempotency_key: 'The Idempotency-Key header is malformed',
  idempotency_key_reused: 'The idempotency key was used with another body',
  idempotency_in_flight: 'A request with this idempotency key is in progress',
  rate_limited: 'Too many requests',
  network_error: 'The remote party could not be reached',
  timeout: 'The operation timed out',
  aborted: 'The operation was aborted',
  server_error: 'The remote party failed',
  channel_closed: 'The app channel was closed',
  popup_blocked: 'The wallet window could not be opened',
  origin_rejected: 'The message origin or destination is not allowed',
  unexpected_message: 'A message arrived that this step does not expect',
  session_state: 'The session is not in a state that allows this',
  consent_denied: 'The user did not consent',
  cancelled: 'The session was cancelled',
  configuration_invalid: 'The configuration is not valid',
  internal_error: 'Internal error',
  store_unavailable: 'The token service storage is unavailable',
};

/**
 * Every error code the protocol defines, with its family, HTTP status,
 * retryability and title. The same table is printed in `docs/protocol.md`.
 *
 * @example
 * ```ts
 * import { ERROR_CATALOG } from '@pushprov/protocol/errors';
 * ERROR_CATALOG.replayed.status; // 409
 * ```
 */
export const ERROR_CATALOG: { readonly [C in ErrorCode]: ErrorCodeInfo } = /* @__PURE__ */ (() => {
  const catalog = {} as Record<string, ErrorCodeInfo>;
  for (const code of Object.keys(ERROR_INFO) as ErrorCode[]) catalog[code] = Object.freeze({ ...ERROR_INFO[code], title: ERROR_TITLES[code] });
  return Object.freeze(catalog) as never;
})();

/** All error codes, in catalog order. */
export const ERROR_CODES = /* @__PURE__ */ Object.keys(ERROR_INFO) as ErrorCode[];

/** True when `value` is one of the protocol's error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_INFO, value);
}

// Any run of 12 or more decimal digits of any script (ASCII, Arabic-Indic,
// fullwidth, …), optionally split by single spaces or dashes. Runs longer
// than a PAN are masked too: a PAN inside a longer run must not survive.
const PAN_RUN = /(?<!\p{Nd})(?:\p{Nd}[ -]?){11,}\p{Nd}(?!\p{Nd})/gu;

/**
 * Masks every run of 12 or more digits (of any script, optionally split by
 * spaces or dashes) in `text`: a run of 12 to 19 ASCII digits becomes
 * `•••• 1234`, anything else `••••`. Used on every error message and log line.
 *
 * @example
 * ```ts
 * redactPans('card 4111111111111111 refused'); // 'card •••• 1111 refused'
 * ```
 */
export function redactPans(text: string): string {
  return text.replace(PAN_RUN, (run) => maskPan(run.replace(/[ -]/g, '')));
}

/**
 * Masks a PAN (or token number) to its last four digits: `•••• 1234`.
 * Anything that is not at least 4 ASCII digits masks to `••••`.
 *
 * @example
 * ```ts
 * maskPan('4111111111111111'); // '•••• 1111'
 * ```
 */
export function maskPan(pan: string): string {
  if (typeof pan !== 'string' || !/^[0-9]{4,19}$/.test(pan)) return '••••';
  return `•••• ${pan.slice(-4)}`;
}

/**
 * The message of an error made without one: its code in words
 * (`device_mismatch` → `Device mismatch`). The longer title is in
 * {@link ERROR_TITLES}, kept apart so app bundles need not carry it.
 */
function defaultMessage(code: string): string {
  const words = String(code).replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Options of every {@link ProvisioningError} constructor. */
export interface ProvisioningErrorOptions {
  /** The underlying error. Never serialised, never part of the message. */
  cause?: unknown;
  /** Non-secret structured details (for example schema issue paths). */
  details?: Readonly<Record<string, string | number | boolean | readonly string[]>> | undefined;
  /** The request id the server gave, when there was one. */
  requestId?: string | undefined;
  /** The provisioning attempt's correlation id, when known (see `zCorrelationId`). */
  correlationId?: string | undefined;
  /** Overrides the HTTP status of the catalog (for example a 5xx seen by a client). */
  status?: number | undefined;
  /** Overrides the catalog's retryability. */
  retryable?: boolean | undefined;
}

/** The JSON form of a {@link ProvisioningError}: safe to log. */
export interface ProvisioningErrorJson {
  name: string;
  code: ErrorCode;
  message: string;
  retryable: boolean;
  status: number;
  requestId?: string;
  correlationId?: string;
  details?: ProvisioningErrorOptions['details'];
}

function sanitizeDetails(details: ProvisioningErrorOptions['details']): ProvisioningErrorOptions['details'] {
  if (!details) return undefined;
  const out: Record<string, string | number | boolean | readonly string[]> = {};
  for (const [key, value] of Object.entries(details)) {
    if (typeof value === 'string') out[key] = redactPans(value);
    else if (Array.isArray(value)) out[key] = value.map((v: string) => redactPans(String(v)));
    else out[key] = value as number | boolean;
  }
  return Object.freeze(out);
}

// The brand of every ProvisioningError, the same symbol in every copy of this
// module (see ProvisioningError[Symbol.hasInstance]).
const BRAND = Symbol.for('pushprov.ProvisioningError');

/**
 * The base class of every error the SDKs and the token service throw.
 *
 * @example
 * ```ts
 * try {
 *   await wallet.submit(request);
 * } catch (error) {
 *   if (error instanceof ProvisioningError && error.retryable) scheduleRetry();
 *   console.log(error.code); // e.g. 'device_mismatch'
 * }
 * ```
 */
export class ProvisioningError extends Error {
  /** The stable code: switch on this, not on the message. */
  readonly code: ErrorCode;
  /** The family the code belongs to. */
  readonly family: ErrorFamily;
  /** Whether repeating the same operation may succeed. */
  readonly retryable: boolean;
  /** The HTTP status that carries this error. */
  readonly status: number;
  /** The server's request id, when known. */
  readonly requestId: string | undefined;
  /**
   * The provisioning attempt's correlation id, when known: the same in the
   * issuer app's, the issuer backend's, the wallet's and the token
   * service's errors and logs of one attempt (see {@link withCorrelationId}).
   */
  readonly correlationId: string | undefined;
  /** Non-secret details. */
  readonly details: ProvisioningErrorOptions['details'];

  constructor(code: ErrorCode, message?: string, options: ProvisioningErrorOptions = {}) {
    const info: Omit<ErrorCodeInfo, 'title'> = ERROR_INFO[code] ?? ERROR_INFO.internal_error;
    super(redactPans(message ?? defaultMessage(code)), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.family = info.family;
    this.retryable = options.retryable ?? info.retryable;
    this.status = options.status ?? info.status;
    this.requestId = options.requestId;
    this.correlationId = options.correlationId;
    this.details = sanitizeDetails(options.details);
  }

  /**
   * `instanceof` that also recognises errors made by another copy of this
   * module: an app may load our ESM and our CommonJS build side by side (or
   * two versions), and each copy has its own classes. Every error carries a
   * `Symbol.for('pushprov.ProvisioningError')` brand naming the family class
   * it was made with, so `error instanceof ProvisioningError` holds for any
   * copy's error and `error instanceof BindingError` for any copy's
   * BindingError (or subclass of it). An app's own subclasses keep the
   * ordinary prototype check.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    const kind = (value as { [BRAND]?: unknown } | null | undefined)?.[BRAND];
    if (this === ProvisioningError) return kind !== undefined;
    return FAMILY_CLASS[kind as ErrorFamily] === this || this.prototype.isPrototypeOf(value as object);
  }

  /**
   * The brand: the family of this error's family class when it is an instance
   * of that class (as every error from {@link createError} is), else ''.
   *
   * @internal
   */
  get [BRAND](): string {
    // Not `instanceof`: that asks for the brand again.
    return FAMILY_CLASS[this.family]?.prototype.isPrototypeOf(this) ? this.family : '';
  }

  /** A safe JSON form: no cause, no stack, no secret. */
  toJSON(): ProvisioningErrorJson {
    const json: ProvisioningErrorJson = {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      status: this.status,
    };
    if (this.requestId !== undefined) json.requestId = this.requestId;
    if (this.correlationId !== undefined) json.correlationId = this.correlationId;
    if (this.details !== undefined) json.details = this.details;
    return json;
  }

  override toString(): string {
    return `${this.name} [${this.code}]: ${this.message}`;
  }

  /**
   * What `console.log` and `util.inspect` print in Node: {@link toString},
   * the cause reduced to its name and redacted message (a foreign cause may
   * hold a secret), and the stack frames.
   */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    const cause = this.cause;
    let causeText = '';
    if (cause instanceof ProvisioningError) causeText = ` (cause: ${cause.toString()})`;
    else if (cause instanceof Error) causeText = ` (cause: ${cause.name}: ${redactPans(cause.message)})`;
    else if (cause !== undefined) causeText = ` (cause: ${typeof cause})`;
    const frames = (this.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
    return [`${this.toString()}${causeText}`, ...frames].join('\n');
  }
}

/** The message did not match its schema, version or size limits. */
export class SchemaError extends ProvisioningError {}
/** A JOSE structure, key or signature was refused. */
export class CryptoError extends ProvisioningError {}
/** A time or audience claim was refused. */
export class ExpiryError extends ProvisioningError {}
/** A request or session was used twice. */
export class ReplayError extends ProvisioningError {}
/**
 * What the wallet submitted does not match what the issuer encrypted, or the
 * access data the wallet received is not for what its user agreed to.
 */
export class BindingError extends ProvisioningError {}
/** The card failed its checks. */
export class CardError extends ProvisioningError {}
/** The issuer declined. */
export class DecisionError extends ProvisioningError {}
/**
 * Step-up activation of a pending token was refused: a wrong or expired
 * code, no attempts left, a method that is not available, a resend too soon,
 * or a token that is not pending.
 */
export class VerificationError extends ProvisioningError {}
/** A lifecycle change the token's status does not allow (suspend, resume, delete: spec section 12). */
export class LifecycleError extends ProvisioningError {}
/** Authentication or authorisation failed. */
export class AuthError extends ProvisioningError {}
/** An HTTP-level rule was broken (content type, idempotency, not found). */
export class HttpError extends ProvisioningError {}
/** A channel or HTTP transport failed, timed out or was aborted. */
export class TransportError extends ProvisioningError {}
/** A session state machine refused a step, or the user cancelled. */
export class SessionError extends ProvisioningError {}
/** A configuration or internal failure. */
export class InternalError extends ProvisioningError {}

const FAMILY_CLASS: Record<ErrorFamily, typeof ProvisioningError> = {
  schema: SchemaError,
  crypto: CryptoError,
  claims: ExpiryError,
  replay: ReplayError,
  binding: BindingError,
  card: CardError,
  decision: DecisionError,
  verification: VerificationError,
  lifecycle: LifecycleError,
  auth: AuthError,
  http: HttpError,
  transport: TransportError,
  session: SessionError,
  internal: InternalError,
};

/**
 * Creates the error of the right family for `code`.
 *
 * @example
 * ```ts
 * const error = createError('device_mismatch');
 * error instanceof BindingError; // true
 * ```
 */
export function createError(code: ErrorCode, message?: string, options?: ProvisioningErrorOptions): ProvisioningError {
  const Class = FAMILY_CLASS[ERROR_INFO[code].family];
  return new Class(code, message, options);
}

/**
 * True when `error` is a {@link ProvisioningError}, optionally with the given
 * code: also for an error made by another copy of this package (its ESM and
 * CommonJS builds loaded together, or two versions).
 */
export function isProvisioningError(error: unknown, code?: ErrorCode): error is ProvisioningError {
  return error instanceof ProvisioningError && (code === undefined || error.code === code);
}

/**
 * Turns anything thrown into a {@link ProvisioningError}. Errors that are not
 * ours become `internal_error` (or the given fallback) with the original as
 * `cause`, and their message is not carried over (it may hold a secret).
 */
export function toProvisioningError(error: unknown, fallback: ErrorCode = 'internal_error'): ProvisioningError {
  if (error instanceof ProvisioningError) return error;
  return createError(fallback, undefined, { cause: error });
}

/**
 * Gives `error` the provisioning attempt's correlation id, unless it already
 * has one, and returns it: what the SDKs do to every error of a session, so
 * the party that sees it can quote the id that is in every log.
 *
 * @example
 * ```ts
 * const error = withCorrelationId(createError('declined'), session.correlationId);
 * error.correlationId; // 'cor_…'
 * ```
 */
export function withCorrelationId<E extends ProvisioningError>(error: E, correlationId: string | undefined): E {
  if (error.correlationId === undefined && correlationId !== undefined) (error as { correlationId: string | undefined }).correlationId = correlationId;
  return error;
}
