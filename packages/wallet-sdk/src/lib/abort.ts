import { abortError } from '@pushprov/protocol/internal';

/** The largest delay timers can hold (2^31 - 1 ms). */
export const MAX_TIMER_MS = 2_147_483_647;

/** Throws the signal's typed error when it is aborted. Call before starting a step's work. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortError(signal);
}

/**
 * Settles with `promise`, or rejects with the signal's typed error as soon as
 * `signal` aborts, whichever comes first. For host callbacks that may ignore
 * the signal they are given. An abandoned `promise` that rejects later is
 * handled (ignored), never left as an unhandled rejection.
 */
export function raceSignal<T>(promise: Promise<T> | T, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    Promise.resolve(promise).catch(() => {});
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve(promise).then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Waits `ms` milliseconds; rejects with the signal's typed error when aborted first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise<void>((resolve, reject) => {
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
}
