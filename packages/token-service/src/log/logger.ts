import { type Clock, redactPans, systemClock } from '@pushprov/protocol';

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
 * A logger that writes one JSON line per event to `write` (default: standard
 * output): `{"level":"info","time":"…","msg":"request",…}`. Every string
 * field is passed through `redactPans`.
 *
 * @example
 * ```ts
 * const logger = createJsonLogger();
 * logger.info({ msg: 'listening', url: 'http://127.0.0.1:8080' });
 * ```
 */
export function createJsonLogger(options: { write?: (line: string) => void; clock?: Clock } = {}): Logger {
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const clock = options.clock ?? systemClock;
  const emit = (level: 'info' | 'error', event: LogEvent) => {
    const out: Record<string, string | number | boolean> = { level, time: new Date(clock.now()).toISOString() };
    for (const [key, value] of Object.entries(event)) {
      if (value === undefined || key === 'level' || key === 'time') continue;
      out[key] = typeof value === 'string' ? redactPans(value) : value;
    }
    write(`${JSON.stringify(out)}\n`);
  };
  return { info: (event) => emit('info', event), error: (event) => emit('error', event) };
}
