import type { MessageEventLike, PopupLike, IssuerWindowLike } from '../../src/browser.js';

export class FakePopup implements PopupLike {
  closed = false;
  readonly posted: Array<{ message: unknown; targetOrigin: string }> = [];
  onPost: ((message: unknown, targetOrigin: string) => void) | undefined;

  postMessage(message: unknown, targetOrigin: string): void {
    this.posted.push({ message, targetOrigin });
    this.onPost?.(message, targetOrigin);
  }

  close(): void {
    this.closed = true;
  }
}

/** A deterministic window: intervals run when `tick()` is called; message events by `dispatch()`. */
export class FakeWindow implements IssuerWindowLike {
  popup: FakePopup | null = new FakePopup();
  openThrows = false;
  readonly opened: Array<{ url: string; target: string; features: string }> = [];
  readonly listeners = new Set<(event: MessageEventLike) => void>();
  readonly intervals = new Map<number, () => void>();
  #nextId = 1;

  open(url: string, target: string, features: string): PopupLike | null {
    this.opened.push({ url, target, features });
    if (this.openThrows) throw new Error('SecurityError');
    return this.popup;
  }

  addEventListener(_type: 'message', listener: (event: MessageEventLike) => void): void {
    this.listeners.add(listener);
  }

  removeEventListener(_type: 'message', listener: (event: MessageEventLike) => void): void {
    this.listeners.delete(listener);
  }

  setInterval(handler: () => void, _timeout: number): number {
    const id = this.#nextId++;
    this.intervals.set(id, handler);
    return id;
  }

  clearInterval(id: number): void {
    this.intervals.delete(id);
  }

  tick(times = 1): void {
    for (let i = 0; i < times; i++) for (const handler of [...this.intervals.values()]) handler();
  }

  dispatch(event: MessageEventLike): void {
    for (const listener of [...this.listeners]) listener(event);
  }
}
