import { TransportError } from '@pushprov/protocol';

/**
 * Runs `task` with an AbortSignal that fires after `timeoutMs` or when
 * `signal` aborts, whichever comes first, and settles as soon as either
 * happens: `timeout` or `aborted` (TransportError), even if the task ignores
 * its signal.
 *
 * @example
 * ```ts
 * const card = await runWithTimeout((signal) => resolver({ accountRef, signal }), 5000, request.signal);
 * ```
 */
export async function runWithTimeout<T>(task: (signal: AbortSignal) => T | Promise<T>, timeoutMs: number, signal?: AbortSignal): Promise<T> {
  if (signal?.aborted) throw new TransportError('aborted', 'The request was cancelled');
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new TransportError('timeout', 'The issuer hook did not answer in time'));
    }, timeoutMs);
    onAbort = () => {
      controller.abort();
      reject(new TransportError('aborted', 'The request was cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([Promise.resolve().then(() => task(controller.signal)), stop]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
