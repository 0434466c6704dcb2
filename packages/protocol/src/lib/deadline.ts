import { abortError } from '../channel/app-channel.js';
import { type ProvisioningError, TransportError } from '../errors.js';

/**
 * Options of {@link withDeadline}.
 *
 * @example
 * ```ts
 * const options: DeadlineOptions = { timeoutMs: 5_000, signal: request.signal, what: 'Calling the token service' };
 * ```
 */
export interface DeadlineOptions {
  /** Fails with `timeout` after this many milliseconds. */
  timeoutMs: number;
  /** Fails with the signal's reason (or `aborted`) when it aborts. */
  signal?: AbortSignal | undefined;
  /** What is being waited for, for the timeout message (never holds data). */
  what: string;
}

/**
 * Runs `task` with a deadline: the one timeout helper of the SDKs. The task
 * receives a signal that aborts when the deadline passes or `options.signal`
 * aborts, and the returned promise settles at that moment (`timeout`, or the
 * signal's typed error) even when the task ignores its signal.
 *
 * @example
 * ```ts
 * const response = await withDeadline((signal) => fetch(url, { signal }), { timeoutMs: 5_000, what: 'Fetching the key set' });
 * ```
 */
export function withDeadline<T>(task: (signal: AbortSignal) => Promise<T>, options: DeadlineOptions): Promise<T> {
  const outer = options.signal;
  if (outer?.aborted) return Promise.reject(abortError(outer));
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = (done: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
      done();
    };
    const fail = (error: ProvisioningError) => {
      controller.abort(error);
      settle(() => reject(error));
    };
    const onAbort = () => fail(abortError(outer!));
    const timer = setTimeout(() => fail(new TransportError('timeout', `${options.what} did not finish within ${options.timeoutMs} ms`)), options.timeoutMs);
    outer?.addEventListener('abort', onAbort, { once: true });
    let running: Promise<T>;
    try {
      running = task(controller.signal);
    } catch (error) {
      running = Promise.reject(error);
    }
    Promise.resolve(running).then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(error)),
    );
  });
}

/** Checks a duration option: a positive integer no larger than `max`. Internal. */
export function isDuration(value: unknown, max = 2_147_483_647): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= max;
}
