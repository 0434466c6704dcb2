import { type AppMessage, BaseAppChannel, type MessageEventLike, TransportError, checkExactOrigin, createError, parseAppMessage } from '@pushprov/protocol';

/**
 * A window that messages can be posted to: the opener.
 *
 * @example
 * ```ts
 * const opener: MessageTargetLike | null = window.opener;
 * ```
 */
export interface MessageTargetLike {
  postMessage(message: unknown, targetOrigin: string): void;
  /** True once the window is closed (as `Window.closed`). */
  readonly closed?: boolean;
}

export type { MessageEventLike };

/**
 * The part of `window` the channel uses, so it can run against a fake window
 * in tests. The browser's `window` fits.
 *
 * @example
 * ```ts
 * const win: WalletWindowLike = window;
 * const channel = createOpenerIssuerChannel({ allowedIssuerOrigins: ['https://bank.example'], window: win });
 * ```
 */
export interface WalletWindowLike {
  readonly opener: MessageTargetLike | null;
  addEventListener(type: 'message', listener: (event: MessageEventLike) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEventLike) => void): void;
}

/**
 * Options of {@link createOpenerIssuerChannel}.
 *
 * @example
 * ```ts
 * const options: OpenerIssuerChannelOptions = { allowedIssuerOrigins: ['https://bank.example', 'https://bank-b.example'] };
 * ```
 */
export interface OpenerIssuerChannelOptions {
  /**
   * The exact origins (`https://bank.example`) of issuer pages allowed to
   * open the wallet. No wildcards, no `"null"`; https only (http on loopback).
   */
  allowedIssuerOrigins: readonly string[];
  /**
   * The issuer origin to talk to, when the page already knows it. It must be
   * allow-listed. Otherwise it is learnt from the first accepted message and
   * then pinned.
   */
  issuerOrigin?: string;
  /** The wallet page's window. Default `globalThis.window`. */
  window?: WalletWindowLike;
}


/**
 * The browser popup side of the wallet: an `AppChannel` between the wallet
 * page (opened by the issuer with `window.open`) and `window.opener`.
 *
 * A message is accepted only when its origin is exactly one of
 * `allowedIssuerOrigins` (and, once an origin is pinned, that one), its
 * `source` is `window.opener`, and it passes `parseAppMessage` (strict JSON
 * text, or a plain object re-checked as strict JSON). Anything else goes to the
 * error listeners as `origin_rejected` or a schema error and ends nothing.
 * Messages are posted as JSON text with `targetOrigin` set to the pinned
 * origin: never `'*'`, and never before an origin is known.
 *
 * @example
 * ```ts
 * // On the wallet page opened by the bank:
 * const channel = createOpenerIssuerChannel({ allowedIssuerOrigins: ['https://bank.example'] });
 * const outcome = await wallet.handleInvocation(channel, { closeChannelOnEnd: true });
 * window.close();
 * ```
 */
export function createOpenerIssuerChannel(options: OpenerIssuerChannelOptions): OpenerIssuerChannel {
  return new OpenerIssuerChannel(options);
}

/**
 * The channel made by {@link createOpenerIssuerChannel}.
 *
 * @example
 * ```ts
 * const channel: OpenerIssuerChannel = createOpenerIssuerChannel({ allowedIssuerOrigins: ['https://bank.example'] });
 * channel.issuerOrigin; // undefined until the bank's first message arrives
 * ```
 */
export class OpenerIssuerChannel extends BaseAppChannel {
  readonly #window: WalletWindowLike;
  readonly #allowed: ReadonlySet<string>;
  #origin: string | undefined;
  readonly #listener = (event: MessageEventLike) => this.#receive(event);

  constructor(options: OpenerIssuerChannelOptions) {
    super();
    const allowed = options.allowedIssuerOrigins;
    if (!Array.isArray(allowed) || allowed.length === 0) throw createError('configuration_invalid', 'allowedIssuerOrigins must list at least one origin');
    this.#allowed = new Set(allowed.map((origin) => checkExactOrigin(origin, 'Issuer')));
    if (options.issuerOrigin !== undefined && !this.#allowed.has(options.issuerOrigin)) {
      throw createError('configuration_invalid', 'issuerOrigin must be one of allowedIssuerOrigins');
    }
    this.#origin = options.issuerOrigin;
    const win = options.window ?? (globalThis as { window?: WalletWindowLike }).window;
    if (!win) throw createError('configuration_invalid', 'No window: pass one in the options');
    this.#window = win;
    win.addEventListener('message', this.#listener);
  }

  /** The issuer origin messages are exchanged with, once known. */
  get issuerOrigin(): string | undefined {
    return this.#origin;
  }

  #receive(event: MessageEventLike): void {
    const opener = this.#window.opener;
    if (opener === null || event.source !== opener) {
      this.reject(new TransportError('origin_rejected', 'The message does not come from the window that opened this page'));
      return;
    }
    if (!this.#allowed.has(event.origin) || (this.#origin !== undefined && event.origin !== this.#origin)) {
      this.reject(new TransportError('origin_rejected', 'The message origin is not allowed'));
      return;
    }
    // Spec 4.11: every message is posted as its JSON text, never as a structured-clone object.
    const message = this.parseIncoming(event.data);
    if (!message) return;
    this.#origin = event.origin;
    this.deliver(message);
  }

  async send(message: AppMessage): Promise<void> {
    this.assertOpen();
    const opener = this.#window.opener;
    if (opener === null || opener.closed === true) throw new TransportError('channel_closed', 'The issuer window is gone');
    if (this.#origin === undefined) throw new TransportError('origin_rejected', 'No issuer origin is known yet: nothing is sent before one is');
    const text = JSON.stringify(parseAppMessage(message));
    try {
      opener.postMessage(text, this.#origin);
    } catch (cause) {
      throw new TransportError('network_error', 'The message could not be posted to the issuer window', { cause });
    }
  }

  override close(reason?: Parameters<BaseAppChannel['close']>[0]): void {
    this.#window.removeEventListener('message', this.#listener);
    super.close(reason);
  }
}
