import { type ProvisioningError, SchemaError, SessionError, TransportError, toProvisioningError } from '../errors.js';
import { type AppMessage, parseAppMessage } from '../schemas/index.js';

/** Receives schema-checked messages from the other app. */
export type MessageListener = (message: AppMessage) => void;
/** Receives typed errors about refused input (wrong origin, malformed message). They end nothing. */
export type ChannelErrorListener = (error: ProvisioningError) => void;

/**
 * A duplex channel between the issuer app and the wallet app. Implementations:
 * in-memory pair, URL / deep link, browser popup + `postMessage`. Every
 * message delivered to listeners has passed `parseAppMessage`; refused input
 * goes to error listeners and never to message listeners.
 *
 * @example
 * ```ts
 * const unsubscribe = channel.subscribe((message) => console.log(message.type));
 * await channel.send(invocation);
 * ```
 */
export interface AppChannel {
  /** Sends one message to the other app. Rejects with a `TransportError` when it cannot. */
  send(message: AppMessage): Promise<void>;
  /**
   * Subscribes to incoming messages and refused input. Returns the unsubscribe
   * function. Messages that arrive before anyone subscribes are queued (up to
   * 16) and handed over one by one while someone is subscribed; what a
   * listener leaves by unsubscribing stays queued for the next one. Refused
   * input is reported only to current subscribers, so start handling a
   * session before feeding the channel its first input.
   */
  subscribe(listener: MessageListener, onError?: ChannelErrorListener): () => void;
  /** Closes the channel. Waiters fail with `channel_closed`. Idempotent. */
  close(): void;
  /** True once closed. */
  readonly closed: boolean;
  /** Subscribes to the close event. Returns the unsubscribe function. */
  onClose(listener: (reason: ProvisioningError) => void): () => void;
}

/** Options of {@link waitForMessage}. */
export interface WaitOptions {
  /** Fails with `timeout` after this many milliseconds. */
  timeoutMs?: number;
  /** Fails with `aborted` (or the signal's reason, when it is a ProvisioningError) when aborted. */
  signal?: AbortSignal;
}

/**
 * Waits for the first message that `accept` returns true for. Messages it
 * returns false for are passed to `onRejected` and waiting goes on, so a
 * stray or hostile message never ends a session. Fails with `timeout`,
 * `aborted` or `channel_closed`.
 *
 * @example
 * ```ts
 * const identifiers = await waitForMessage(channel, (m) => m.type === 'identifiers' && m.sessionId === sid, { timeoutMs: 60_000 });
 * ```
 */
export function waitForMessage<T extends AppMessage>(
  channel: AppChannel,
  accept: (message: AppMessage) => message is T,
  options: WaitOptions & { onRejected?: (message: AppMessage) => void; onError?: ChannelErrorListener } = {},
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (channel.closed) {
      reject(new TransportError('channel_closed', 'The app channel is closed'));
      return;
    }
    if (options.signal?.aborted) {
      reject(abortError(options.signal));
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    // subscribe() may deliver queued messages synchronously, before it has
    // returned: settle through a flag, and unsubscribe once it has returned.
    let settled = false;
    let unsubscribe: (() => void) | undefined;
    let offClose: (() => void) | undefined;
    const cleanup = () => {
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      unsubscribe?.();
      offClose?.();
      options.signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      cleanup();
      reject(abortError(options.signal!));
    };
    unsubscribe = channel.subscribe(
      (message) => {
        if (settled) return;
        if (accept(message)) {
          cleanup();
          resolve(message);
        } else {
          options.onRejected?.(message);
        }
      },
      (error) => {
        if (!settled) options.onError?.(error);
      },
    );
    if (settled) {
      unsubscribe();
      return;
    }
    offClose = channel.onClose((reason) => {
      cleanup();
      reject(reason);
    });
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        cleanup();
        reject(new TransportError('timeout', `No answer within ${options.timeoutMs} ms`));
      }, options.timeoutMs);
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The error for an aborted signal: its reason when that is a ProvisioningError, else `aborted`. */
export function abortError(signal: AbortSignal): ProvisioningError {
  const reason: unknown = signal.reason;
  if (reason instanceof SessionError || reason instanceof TransportError) return reason;
  const error = toProvisioningError(reason, 'aborted');
  return error.code === 'internal_error' ? new TransportError('aborted', 'The operation was aborted', { cause: reason }) : error;
}

/** How many messages a channel keeps while no one listens. */
const QUEUE_LIMIT = 16;

/**
 * A base for channel implementations: keeps listeners, the closed state and
 * a queue of messages that arrive before anyone subscribes. Queued messages
 * are handed over one by one, from a microtask after `subscribe` returned,
 * and only while someone is still subscribed: a listener that unsubscribes
 * after the first (as `waitForMessage` does) leaves the rest queued for the
 * next subscriber. Messages past the limit (16) are dropped, and the next
 * subscriber's error listener hears it once, as `payload_too_large`.
 */
export abstract class BaseAppChannel implements AppChannel {
  #listeners = new Set<{ message: MessageListener; error: ChannelErrorListener | undefined }>();
  #closeListeners = new Set<(reason: ProvisioningError) => void>();
  #queue: AppMessage[] = [];
  #dropped = 0;
  #drainScheduled = false;
  #closed = false;

  abstract send(message: AppMessage): Promise<void>;

  get closed(): boolean {
    return this.#closed;
  }

  subscribe(listener: MessageListener, onError?: ChannelErrorListener): () => void {
    const entry = { message: listener, error: onError };
    this.#listeners.add(entry);
    this.#scheduleDrain();
    return () => {
      this.#listeners.delete(entry);
    };
  }

  onClose(listener: (reason: ProvisioningError) => void): () => void {
    this.#closeListeners.add(listener);
    return () => {
      this.#closeListeners.delete(listener);
    };
  }

  close(reason?: ProvisioningError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#dropped = 0;
    // The default reason is built only when someone listens (closing is on every session's path).
    if (this.#closeListeners.size > 0) {
      const why = reason ?? new TransportError('channel_closed', 'The app channel was closed');
      for (const listener of [...this.#closeListeners]) listener(why);
    }
    this.#closeListeners.clear();
    this.#listeners.clear();
  }

  /** Hands a checked message to the listeners (or queues it until one subscribes). */
  protected deliver(message: AppMessage): void {
    if (this.#closed) return;
    // Behind queued messages (not yet handed over), a new one waits its turn.
    if (this.#listeners.size === 0 || this.#queue.length > 0) {
      if (this.#queue.length < QUEUE_LIMIT) this.#queue.push(message);
      else this.#dropped += 1;
      this.#scheduleDrain();
      return;
    }
    for (const entry of [...this.#listeners]) entry.message(message);
  }

  /** Hands the queue over from a microtask, so a listener can unsubscribe between two messages. */
  #scheduleDrain(): void {
    if (this.#drainScheduled || this.#listeners.size === 0 || (this.#queue.length === 0 && this.#dropped === 0)) return;
    this.#drainScheduled = true;
    queueMicrotask(() => {
      this.#drainScheduled = false;
      this.#drain();
    });
  }

  #drain(): void {
    while (!this.#closed && this.#listeners.size > 0 && this.#queue.length > 0) {
      const message = this.#queue.shift()!;
      for (const entry of [...this.#listeners]) entry.message(message);
    }
    if (!this.#closed && this.#listeners.size > 0 && this.#queue.length === 0 && this.#dropped > 0) {
      const dropped = this.#dropped;
      this.#dropped = 0;
      this.reject(new SchemaError('payload_too_large', `${dropped} message(s) arrived while no one listened and the queue was full (${QUEUE_LIMIT}); they were dropped`));
    }
  }

  /** Reports refused input to the error listeners. */
  protected reject(error: ProvisioningError): void {
    if (this.#closed) return;
    for (const entry of [...this.#listeners]) entry.error?.(error);
  }

  protected assertOpen(): void {
    if (this.#closed) throw new TransportError('channel_closed', 'The app channel is closed');
  }

  /**
   * Checks one incoming message as it crossed the boundary: JSON text only
   * (anything else is `invalid_message`), parsed with `parseAppMessage`.
   * Returns the message for the caller to {@link deliver}, or reports the
   * typed error to the error listeners and returns undefined.
   */
  protected parseIncoming(data: unknown): AppMessage | undefined {
    if (typeof data !== 'string') {
      this.reject(new SchemaError('invalid_message', 'A message must be sent as JSON text'));
      return undefined;
    }
    try {
      return parseAppMessage(data);
    } catch (error) {
      this.reject(toProvisioningError(error, 'invalid_message'));
      return undefined;
    }
  }
}
