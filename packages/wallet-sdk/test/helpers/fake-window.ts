/** A fake browser window pair (wallet popup + its opener) for testing the popup channel in Node. */
import { type AppMessage, BaseAppChannel, parseAppMessage } from '@pushprov/protocol';
import type { MessageEventLike, MessageTargetLike, WalletWindowLike } from '../../src/browser.js';

export class FakeWindow implements WalletWindowLike {
  opener: MessageTargetLike | null;
  readonly listeners = new Set<(event: MessageEventLike) => void>();
  constructor(opener: MessageTargetLike | null) {
    this.opener = opener;
  }
  addEventListener(_type: 'message', listener: (event: MessageEventLike) => void): void {
    this.listeners.add(listener);
  }
  removeEventListener(_type: 'message', listener: (event: MessageEventLike) => void): void {
    this.listeners.delete(listener);
  }
  /** Delivers a message event, as the browser would. */
  dispatch(event: MessageEventLike): void {
    for (const listener of [...this.listeners]) listener(event);
  }
}

/**
 * The issuer page that opened the wallet: records what the wallet posts and,
 * like a browser, drops posts whose targetOrigin is not its own origin.
 */
export class FakeOpener implements MessageTargetLike {
  readonly posted: { message: unknown; targetOrigin: string }[] = [];
  closed = false;
  onMessage: ((message: unknown) => void) | undefined;
  constructor(readonly origin: string) {}
  postMessage(message: unknown, targetOrigin: string): void {
    this.posted.push({ message, targetOrigin });
    if (targetOrigin === this.origin || targetOrigin === '*') this.onMessage?.(message);
  }
}

/** The issuer page's side as an AppChannel, so the issuer double can run over the fake popup. */
export class FakeIssuerPage extends BaseAppChannel {
  constructor(
    readonly opener: FakeOpener,
    readonly popup: FakeWindow,
  ) {
    super();
    opener.onMessage = (data) => {
      try {
        this.deliver(parseAppMessage(data as string));
      } catch {
        // dropped
      }
    };
  }
  async send(message: AppMessage): Promise<void> {
    const data = JSON.stringify(message);
    queueMicrotask(() => this.popup.dispatch({ origin: this.opener.origin, source: this.opener, data }));
  }
}
