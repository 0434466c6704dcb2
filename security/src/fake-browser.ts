/**
 * A small, deterministic model of browser windows and `postMessage`, enough
 * for the popup channels of both SDKs and for attackers: every window has an
 * origin; a handle to a window posts to it as the holder (the event's
 * `origin` is the holder's origin, its `source` the handle the receiver holds
 * for the holder, as in a browser, where neither can be forged); a message
 * whose `targetOrigin` is neither `*` nor the receiver's origin is dropped;
 * data is structured-cloned and delivered on a later macrotask. Every post is
 * recorded, so tests can check nothing went to `*` or to the wrong origin.
 */

/** What a `message` event carries. */
export interface FakeMessageEvent {
  readonly origin: string;
  readonly source: unknown;
  readonly data: unknown;
}

/** One recorded `postMessage` call. */
export interface RecordedPost {
  from: string;
  to: string;
  targetOrigin: string;
  data: unknown;
  delivered: boolean;
}

/** The browser: windows, the handles between them, and the record of every post. */
export class FakeBrowser {
  readonly posts: RecordedPost[] = [];
  readonly #handles = new Map<FakeWindow, Map<FakeWindow, WindowHandle>>();
  #pending = 0;

  /** A new top-level window at `origin`. */
  window(origin: string): FakeWindow {
    return new FakeWindow(this, origin);
  }

  /** The handle through which `holder` sees `target` (one per pair, so identity checks work). */
  handle(target: FakeWindow, holder: FakeWindow): WindowHandle {
    let byHolder = this.#handles.get(target);
    if (!byHolder) {
      byHolder = new Map();
      this.#handles.set(target, byHolder);
    }
    let handle = byHolder.get(holder);
    if (!handle) {
      handle = new WindowHandle(this, target, holder);
      byHolder.set(holder, handle);
    }
    return handle;
  }

  /** Delivers a post from `from` to `to` as a browser would. */
  deliver(from: FakeWindow, to: FakeWindow, data: unknown, targetOrigin: string): void {
    const delivered = !to.closed && (targetOrigin === '*' || targetOrigin === to.origin);
    this.posts.push({ from: from.origin, to: to.origin, targetOrigin, data, delivered });
    if (!delivered) return;
    const event: FakeMessageEvent = { origin: from.origin, source: this.handle(from, to), data: structuredClone(data) };
    this.#pending++;
    setTimeout(() => {
      this.#pending--;
      to.dispatch(event);
    }, 0);
  }

  /** Waits until every message posted so far (and those they caused) has been delivered, up to `maxRounds` macrotasks. */
  async settle(maxRounds = 200): Promise<void> {
    for (let i = 0; i < maxRounds; i++) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (this.#pending === 0) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        if (this.#pending === 0) return;
      }
    }
  }
}

/** A window as another window holds it (`window.open`'s result, `window.opener`). */
export class WindowHandle {
  constructor(
    readonly browser: FakeBrowser,
    readonly target: FakeWindow,
    readonly holder: FakeWindow,
  ) {}

  get closed(): boolean {
    return this.target.closed;
  }

  postMessage(data: unknown, targetOrigin: string): void {
    this.browser.deliver(this.holder, this.target, data, targetOrigin);
  }

  close(): void {
    this.target.closed = true;
  }
}

/** A window: listeners, manual intervals, `open`, `opener`. */
export class FakeWindow {
  opener: WindowHandle | null = null;
  closed = false;
  /** What `open` creates: a window, or null as when a popup blocker refuses. */
  onOpen: ((url: string, target: string, features: string) => FakeWindow | null) | undefined;
  readonly opened: Array<{ url: string; target: string; features: string }> = [];
  readonly #listeners = new Set<(event: FakeMessageEvent) => void>();
  readonly #intervals = new Map<number, () => void>();
  #nextId = 1;

  constructor(
    readonly browser: FakeBrowser,
    public origin: string,
  ) {}

  open(url: string, target: string, features: string): WindowHandle | null {
    this.opened.push({ url, target, features });
    const child = this.onOpen?.(url, target, features) ?? null;
    if (!child) return null;
    child.opener = this.browser.handle(this, child);
    return this.browser.handle(child, this);
  }

  addEventListener(_type: 'message', listener: (event: FakeMessageEvent) => void): void {
    this.#listeners.add(listener);
  }

  removeEventListener(_type: 'message', listener: (event: FakeMessageEvent) => void): void {
    this.#listeners.delete(listener);
  }

  setInterval(handler: () => void, _ms: number): number {
    const id = this.#nextId++;
    this.#intervals.set(id, handler);
    return id;
  }

  clearInterval(id: number): void {
    this.#intervals.delete(id);
  }

  /** Runs every interval handler `times` times. */
  tick(times = 1): void {
    for (let i = 0; i < times; i++) for (const handler of [...this.#intervals.values()]) handler();
  }

  /** How many message listeners are attached. */
  get listenerCount(): number {
    return this.#listeners.size;
  }

  /** Delivers an event to this window's listeners now (what an attacker cannot do: a test forging the impossible). */
  dispatch(event: FakeMessageEvent): void {
    for (const listener of [...this.#listeners]) listener(event);
  }

  /** This window posts `data` to `target` (as `target`'s handle held by this window). */
  postTo(target: FakeWindow, data: unknown, targetOrigin = '*'): void {
    this.browser.handle(target, this).postMessage(data, targetOrigin);
  }
}

/** Waits (bounded) until `predicate` holds, checking every few milliseconds; throws after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
