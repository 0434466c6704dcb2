import type { AppMessage } from '../schemas/index.js';
import { BaseAppChannel } from './app-channel.js';

class MemoryChannel extends BaseAppChannel {
  peer: MemoryChannel | undefined;

  async send(message: AppMessage): Promise<void> {
    this.assertOpen();
    const peer = this.peer!;
    peer.assertOpen();
    // Serialise as a real channel would, so the receiver sees exactly what
    // crossed the boundary and checks it.
    const wire = JSON.stringify(message);
    queueMicrotask(() => peer.receiveWire(wire));
  }

  receiveWire(wire: string): void {
    const message = this.parseIncoming(wire);
    if (message) this.deliver(message);
  }

  override close(): void {
    if (this.closed) return;
    super.close();
    this.peer?.close();
  }
}

/** The two ends of an in-memory channel. */
export interface MemoryChannelPair {
  /** The end the issuer app holds. */
  issuer: BaseAppChannel & { receiveWire(wire: string): void };
  /** The end the wallet app holds. */
  wallet: BaseAppChannel & { receiveWire(wire: string): void };
}

/**
 * An in-memory channel pair for tests and demos. Messages are serialised to
 * JSON and re-parsed with `parseAppMessage` on the other side; closing one
 * end closes both. `receiveWire` injects raw text, as an attacker could.
 *
 * @example
 * ```ts
 * const { issuer, wallet } = createMemoryChannelPair();
 * ```
 */
export function createMemoryChannelPair(): MemoryChannelPair {
  const issuer = new MemoryChannel();
  const wallet = new MemoryChannel();
  issuer.peer = wallet;
  wallet.peer = issuer;
  return { issuer, wallet };
}
