import {
  type AppMessage,
  BaseAppChannel,
  type ProvisioningError,
  TransportError,
  checkExactOrigin,
  createError,
  type MessageEventLike,
  parseAppMessage,
} from '@pushprov/protocol';

/**
 * The part of the wallet popup (a `Window`) the channel uses.
 *
 * @example
 * ```ts
 * const popup: PopupLike | null = window.open('https://wallet.example/push', 'pushprov-wallet', 'popup');
 * ```
 */
export interface PopupLike {
  /** True once the popup is closed. */
  readonly closed: boolean;
  postMessage(message: unknown, targetOrigin: string): void;
  close(): void;
}

export type { MessageEventLike };

/**
 * The part of `window` the popup channel uses, so it can run against a fake
 * window in tests. The browser's `window` fits.
 *
 * @example
 * ```ts
 * const win: IssuerWindowLike = window;
 * ```
 */
export interface IssuerWindowLike {
  open(url: string, target: string, features: string): PopupLike | null;
  addEventListener(type: 'message', listener: (event: MessageEventLike) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEventLike) => void): void;
  setInterval(handler: () => void, timeout: number): number;
  clearInterval(id: number): void;
}

/**
 * Options of {@link createPopupWalletChannel}.
 *
 * @example
 * ```ts
 * const options: PopupWalletChannelOptions = {
 *   walletUrl: 'https://wallet.example/push',
 *   allowedWalletOrigins: ['https://wallet.example'],
 *   features: 'popup,width=420,height=680',
 * };
 * ```
 */
export interface PopupWalletChannelOptions {
  /** The wallet page that handles push provisioning, e.g. `https://wallet.example/push`. https only (http on loopback). */
  walletUrl: string;
  /**
   * The exact origins (`https://wallet.example`) messages are accepted from.
   * Must include the origin of `walletUrl`. No wildcards, no `"null"`.
   */
  allowedWalletOrigins: readonly string[];
  /** The page's window. Default `globalThis.window`. */
  window?: IssuerWindowLike;
  /** `window.open` features. Default `popup,width=480,height=720`. `noopener`/`noreferrer` are refused: the wallet must reply to its opener. */
  features?: string;
  /** `window.open` target name. Default `pushprov-wallet`. */
  target?: string;
  /** How often to check whether the popup was closed, ms, 50 to 2 000. Default 400. */
  pollIntervalMs?: number;
}

/**
 * Default interval of the popup closed check, milliseconds.
 *
 * @example
 * ```ts
 * createPopupWalletChannel({ walletUrl, allowedWalletOrigins, pollIntervalMs: DEFAULT_POPUP_POLL_INTERVAL_MS });
 * ```
 */
export const DEFAULT_POPUP_POLL_INTERVAL_MS = 400;


/**
 * The issuer side of the browser popup channel, made by
 * {@link createPopupWalletChannel}.
 *
 * @example
 * ```ts
 * const wallet: PopupWalletChannel = createPopupWalletChannel({ walletUrl, allowedWalletOrigins });
 * wallet.open();
 * wallet.onClose((reason) => console.log(reason.code)); // 'channel_closed' when the user closes it
 * ```
 */
export class PopupWalletChannel extends BaseAppChannel {
  readonly #window: IssuerWindowLike;
  readonly #walletUrl: string;
  readonly #walletOrigin: string;
  readonly #allowed: ReadonlySet<string>;
  readonly #features: string;
  readonly #target: string;
  readonly #pollMs: number;
  readonly #listener = (event: MessageEventLike) => this.#receive(event);
  #popup: PopupLike | undefined;
  #timer = 0;
  #invocation: string | undefined;
  #heard = false;
  #ticks = 0;
  #nextRepost = 1;

  constructor(options: PopupWalletChannelOptions) {
    super();
    let walletUrl: URL;
    try {
      walletUrl = new URL(options.walletUrl);
    } catch (cause) {
      throw createError('configuration_invalid', 'walletUrl must be an absolute URL', { cause });
    }
    this.#walletOrigin = checkExactOrigin(walletUrl.origin, 'Wallet');
    if (walletUrl.username || walletUrl.password || walletUrl.hash) throw createError('configuration_invalid', 'walletUrl must not hold credentials or a fragment');
    this.#walletUrl = walletUrl.href;
    const allowed = options.allowedWalletOrigins;
    if (!Array.isArray(allowed) || allowed.length === 0) throw createError('configuration_invalid', 'allowedWalletOrigins must list at least one origin');
    this.#allowed = new Set(allowed.map((origin) => checkExactOrigin(origin, 'Wallet')));
    if (!this.#allowed.has(this.#walletOrigin)) throw createError('configuration_invalid', 'The walletUrl origin must be in allowedWalletOrigins');
    this.#features = options.features ?? 'popup,width=480,height=720';
    if (/noopener|noreferrer/i.test(this.#features)) throw createError('configuration_invalid', 'noopener and noreferrer would stop the wallet from replying');
    this.#target = options.target ?? 'pushprov-wallet';
    const pollMs = options.pollIntervalMs ?? DEFAULT_POPUP_POLL_INTERVAL_MS;
    if (!Number.isInteger(pollMs) || pollMs < 50 || pollMs > 2000) throw createError('configuration_invalid', 'pollIntervalMs must be an integer from 50 to 2000');
    this.#pollMs = pollMs;
    const win = options.window ?? (globalThis as { window?: IssuerWindowLike }).window;
    if (!win) throw createError('configuration_invalid', 'No window: pass one in the options');
    this.#window = win;
  }

  /** The origin messages are posted to: exactly the wallet's. */
  get walletOrigin(): string {
    return this.#walletOrigin;
  }

  /**
   * Opens the wallet window now. Call it synchronously in the click handler
   * (popup blockers allow `window.open` only there); otherwise the first
   * `send` opens it. Throws `popup_blocked` when the browser refuses.
   * Idempotent while the popup is open.
   */
  open(): void {
    this.assertOpen();
    if (this.#popup) return;
    let popup: PopupLike | null;
    try {
      popup = this.#window.open(this.#walletUrl, this.#target, this.#features);
    } catch (cause) {
      throw new TransportError('popup_blocked', 'The wallet window could not be opened', { cause });
    }
    if (!popup) throw new TransportError('popup_blocked', 'The browser blocked the wallet window');
    this.#popup = popup;
    this.#window.addEventListener('message', this.#listener);
    this.#timer = this.#window.setInterval(() => this.#tick(), this.#pollMs);
  }

  /**
   * Posts a message to the wallet window, `targetOrigin` = the wallet's
   * exact origin. The wallet page may not listen yet right after the popup
   * opened, so an invocation (or a status query, which also opens a flow)
   * is posted again, with growing gaps, until the wallet's first message arrives.
   */
  async send(message: AppMessage): Promise<void> {
    this.assertOpen();
    const text = JSON.stringify(parseAppMessage(message));
    if (!this.#popup) this.open();
    if (this.#popup!.closed) {
      this.#closeBecauseGone();
      throw new TransportError('channel_closed', 'The wallet window was closed');
    }
    if (message.type === 'invocation' || message.type === 'status-query') this.#invocation = text;
    this.#post(text);
  }

  override close(reason?: ProvisioningError): void {
    if (this.closed) return;
    if (this.#popup) {
      this.#window.removeEventListener('message', this.#listener);
      this.#window.clearInterval(this.#timer);
      try {
        if (!this.#popup.closed) this.#popup.close();
      } catch {
        // The window is gone already.
      }
    }
    super.close(reason);
  }

  #post(text: string): void {
    try {
      this.#popup!.postMessage(text, this.#walletOrigin);
    } catch (cause) {
      throw new TransportError('network_error', 'The message could not be posted to the wallet window', { cause });
    }
  }

  #tick(): void {
    if (this.closed) return;
    if (this.#popup!.closed) {
      this.#closeBecauseGone();
      return;
    }
    this.#ticks++;
    if (!this.#heard && this.#invocation !== undefined && this.#ticks >= this.#nextRepost) {
      this.#nextRepost = Math.min(this.#ticks * 2, this.#ticks + 8);
      try {
        this.#post(this.#invocation);
      } catch {
        // Posting to a window that is navigating may fail: the next tick tries again.
      }
    }
  }

  #closeBecauseGone(): void {
    this.close(new TransportError('channel_closed', 'The wallet window was closed'));
  }

  #receive(event: MessageEventLike): void {
    if (this.closed) return;
    if (event.source !== this.#popup) {
      this.reject(new TransportError('origin_rejected', 'A message came from a window other than the wallet popup', { details: { reason: 'source' } }));
      return;
    }
    if (!this.#allowed.has(event.origin)) {
      this.reject(new TransportError('origin_rejected', 'The message origin is not allowed', { details: { reason: 'origin' } }));
      return;
    }
    // Spec 4.11: every message is posted as its JSON text, never as a structured-clone object.
    const message = this.parseIncoming(event.data);
    if (!message) return;
    this.#heard = true;
    this.deliver(message);
  }
}

/**
 * A wallet channel over a browser popup and `postMessage`. `send` opens the
 * wallet page in a popup (`window.open`; blocked gives `popup_blocked`) and
 * posts messages with `targetOrigin` set to the wallet's exact origin, never
 * `'*'`. A `message` event is accepted only when its `source` is that popup
 * and its `origin` is exactly one of `allowedWalletOrigins`, and its data
 * passes `parseAppMessage`; anything else is reported to error listeners
 * (`origin_rejected`, `invalid_message`, …) and ends nothing. When the user
 * closes the popup, the channel closes with `channel_closed`.
 *
 * @example
 * ```ts
 * button.onclick = () => {
 *   const wallet = createPopupWalletChannel({
 *     walletUrl: 'https://wallet.example/push',
 *     allowedWalletOrigins: ['https://wallet.example'],
 *   });
 *   wallet.open(); // synchronously in the click handler
 *   const session = issuer.startProvisioning({ account, accountRef, wallet });
 * };
 * ```
 */
export function createPopupWalletChannel(options: PopupWalletChannelOptions): PopupWalletChannel {
  return new PopupWalletChannel(options);
}
