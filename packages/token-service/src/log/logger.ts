import { type Clock, redactPans, systemClock } from '@pushprov/protocol';
import { type DestinationStream, type Logger as PinoLogger, pino } from 'pino';

/** A value of a log event field. */
export type LogValue = string | number | boolean | undefined;

/** One structured log event: a message and flat fields. */
export interface LogEvent {
  msg: string;
  [field: string]: LogValue;
}

/**
 * Where the token service writes its logs: one call per event. Inject your
 * own to forward to a logging system; events never carry a PAN or token
 * number (and {@link createJsonLogger} masks digit runs as a second line of
 * defence).
 *
 * @example
 * ```ts
 * const events: LogEvent[] = [];
 * const logger: Logger = { info: (e) => events.push(e), error: (e) => events.push(e) };
 * ```
 */
export interface Logger {
  info(event: LogEvent): void;
  error(event: LogEvent): void;
}

/** The levels of `log.level` and `--log-level`: the lines at this level and above are written. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
/** A log level (see {@link LOG_LEVELS}). */
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Fields pino blanks (`[redacted]`) wherever they appear, at the top level
 * or one level down: card and token numbers, keys, one-time passwords,
 * credentials. The token service never puts them in an event; these paths
 * are the second line of defence behind that rule, and behind the masking
 * of digit runs in every string.
 */
export const REDACTED_LOG_FIELDS: readonly string[] = [
  'pan',
  'cardNumber',
  'card',
  'tokenNumber',
  'accessData',
  'otp',
  'activationCode',
  'verificationCode',
  'key',
  'apiKey',
  'privateKey',
  'kek',
  'keks',
  'fingerprintKey',
  'd',
  'authorization',
  'password',
  'secret',
];

/** Options of {@link createPinoLogger}. */
export interface PinoLoggerOptions {
  /** The lowest level written (default `info`). */
  level?: LogLevel | undefined;
  /** Where the JSON lines go: a pino destination (`pino.destination(…)`) or any stream-like `{ write(line) }`. Default: standard output. */
  destination?: DestinationStream | undefined;
  /** Receives each line instead (used when no `destination` is given). */
  write?: ((line: string) => void) | undefined;
  /** The clock of the `time` field (default: the system clock). */
  clock?: Clock | undefined;
  /** More field paths to redact (pino `redact` syntax: `a.b`, `*.c`), besides {@link REDACTED_LOG_FIELDS}. */
  redact?: readonly string[] | undefined;
}

/** The token service's {@link Logger}, backed by pino. */
export interface TokenServiceLogger extends Logger {
  /** The pino logger underneath (its level may be changed: `logger.pino.level = 'debug'`). */
  readonly pino: PinoLogger;
}

/** Masks every digit run in a string; other values pass through. */
function clean(value: unknown): unknown {
  return typeof value === 'string' ? redactPans(value) : value;
}

/**
 * A logger over pino writing one JSON line per event (default: to standard
 * output): `{"level":"info","time":"2026-11-28T12:00:00.000Z",…,"msg":"request"}`.
 * Every string field and the message pass through `redactPans` (a run of
 * 12 or more digits becomes `•••• 1234`), and the fields of
 * {@link REDACTED_LOG_FIELDS} are blanked wherever they appear: no PAN,
 * token number, key or OTP reaches a line even if a caller put one in an
 * event. The fields `level` and `time` of an event are the logger's own,
 * and fields whose value is `undefined` are left out.
 *
 * @example
 * ```ts
 * const logger = createPinoLogger({ level: 'info' });
 * logger.info({ msg: 'listening', url: 'http://127.0.0.1:8080' });
 * ```
 */
export function createPinoLogger(options: PinoLoggerOptions = {}): TokenServiceLogger {
  const clock = options.clock ?? systemClock;
  const paths = [...REDACTED_LOG_FIELDS, ...(options.redact ?? [])];
  const destination: DestinationStream | undefined =
    options.destination ?? (options.write ? { write: options.write } : undefined);
  const base = pino(
    {
      level: options.level ?? 'info',
      base: null, // no pid or hostname
      messageKey: 'msg',
      timestamp: () => `,"time":"${new Date(clock.now()).toISOString()}"`,
      formatters: {
        level: (label) => ({ level: label }),
        // Every string, at any depth of a flat event (bindings included), masked.
        log: (object) => {
          const out: Record<string, unknown> = {};
          for (const [k, v] of Object.entries(object)) out[k] = clean(v);
          return out;
        },
      },
      redact: { paths: [...paths, ...paths.map((p) => `*.${p}`)], censor: '[redacted]' },
    },
    ...(destination ? [destination] : []),
  );
  const emit = (level: 'info' | 'error', event: LogEvent) => {
    if (!base.isLevelEnabled(level)) return;
    const fields: Record<string, LogValue> = {};
    for (const [k, v] of Object.entries(event)) {
      if (v === undefined || k === 'msg' || k === 'level' || k === 'time') continue;
      fields[k] = v;
    }
    base[level](fields, typeof event.msg === 'string' ? redactPans(event.msg) : String(event.msg));
  };
  return { pino: base, info: (event) => emit('info', event), error: (event) => emit('error', event) };
}

/**
 * A logger that drops everything.
 *
 * @example
 * ```ts
 * const app = createTokenServiceApp(service, { logger: silentLogger });
 * ```
 */
export const silentLogger: Logger = { info() {}, error() {} };

/**
 * The default logger: {@link createPinoLogger} writing JSON lines to
 * `write` (default: standard output): `{"level":"info","time":"…",…,"msg":"request"}`.
 * Every string field is passed through `redactPans`.
 *
 * @example
 * ```ts
 * const logger = createJsonLogger();
 * logger.info({ msg: 'listening', url: 'http://127.0.0.1:8080' });
 * ```
 */
export function createJsonLogger(options: { write?: (line: string) => void; clock?: Clock; level?: LogLevel } = {}): TokenServiceLogger {
  return createPinoLogger(options);
}
