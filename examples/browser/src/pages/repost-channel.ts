// A browser window that was just opened is not listening yet: a message
// posted to it at once is lost. The issuer SDK's popup channel posts an
// invocation again until the wallet answers; this wrapper does the same for
// the first messages of the example's other flows (a status query from the
// bank, an accounts request from the wallet), until the other window's first
// message arrives.
import type { AppChannel, AppMessage } from '@pushprov/protocol';

/** How often a message is posted again until the other window is heard, ms. */
const REPOST_MS = 300;

/** Wraps `channel` so that messages of `types` are posted again until anything arrives from the other side. */
export function repostUntilHeard(channel: AppChannel, types: readonly AppMessage['type'][]): AppChannel {
  let heard = false;
  const timers = new Set<ReturnType<typeof setInterval>>();
  const stop = () => {
    for (const timer of timers) clearInterval(timer);
    timers.clear();
  };
  channel.onClose(stop);
  return {
    async send(message) {
      await channel.send(message);
      if (heard || !types.includes(message.type)) return;
      const timer = setInterval(() => {
        if (heard || channel.closed) return stop();
        channel.send(message).catch(() => undefined); // a window that is still loading may refuse: the next tick tries again
      }, REPOST_MS);
      timers.add(timer);
    },
    subscribe(listener, onError) {
      return channel.subscribe((message) => {
        heard = true;
        stop();
        listener(message);
      }, onError);
    },
    close: () => channel.close(),
    get closed() {
      return channel.closed;
    },
    onClose: (listener) => channel.onClose(listener),
  };
}
