import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type AppChannel,
  type AppMessage,
  BaseAppChannel,
  type ProvisioningError,
  SessionError,
  TransportError,
  createMemoryChannelPair,
  createError,
  waitForMessage,
} from '../src/index.js';
import { abortError } from '../src/internal.js';
import { sampleIdentifiersMessage, sampleInvocation, sampleResult } from './helpers/samples.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
const isResult = (m: AppMessage): m is Extract<AppMessage, { type: 'result' }> => m.type === 'result';

afterEach(() => {
  vi.useRealTimers();
});

describe('the in-memory channel pair', () => {
  it('delivers a copy that crossed the boundary as JSON and was checked', async () => {
    const { issuer, wallet } = createMemoryChannelPair();
    const received: AppMessage[] = [];
    wallet.subscribe((m) => received.push(m));
    const sent = sampleInvocation();
    const sending = issuer.send(sent);
    expect(received).toEqual([]); // never synchronous, like a real channel
    await sending;
    await tick();
    expect(received).toEqual([sent]);
    expect(received[0]).not.toBe(sent);
  });

  it('works both ways', async () => {
    const { issuer, wallet } = createMemoryChannelPair();
    const atIssuer: AppMessage[] = [];
    issuer.subscribe((m) => atIssuer.push(m));
    await wallet.send(sampleIdentifiersMessage());
    await tick();
    expect(atIssuer.map((m) => m.type)).toEqual(['identifiers']);
  });

  it('queues up to 16 messages until someone subscribes; the overflow is dropped and reported once as payload_too_large', async () => {
    const { issuer, wallet } = createMemoryChannelPair();
    for (let i = 0; i < 20; i++) await issuer.send(sampleResult());
    await tick();
    const received: string[] = [];
    wallet.subscribe(
      (m) => received.push(m.type),
      (e) => received.push(`error:${e.code}`),
    );
    await tick();
    expect(received).toEqual([...Array<string>(16).fill('result'), 'error:payload_too_large']);
    await issuer.send(sampleInvocation());
    await tick();
    expect(received.slice(16)).toEqual(['error:payload_too_large', 'invocation']);
  });

  it('hands queued messages over one by one: what a listener leaves by unsubscribing stays queued for the next one', async () => {
    const { issuer, wallet } = createMemoryChannelPair();
    await issuer.send(sampleResult());
    await issuer.send(sampleInvocation());
    await issuer.send(sampleIdentifiersMessage());
    await tick();
    const first: string[] = [];
    const off = wallet.subscribe((m) => {
      first.push(m.type);
      off();
    });
    await tick();
    expect(first).toEqual(['result']);
    const second: string[] = [];
    wallet.subscribe((m) => second.push(m.type));
    await tick();
    expect(second).toEqual(['invocation', 'identifiers']);
    expect(first).toEqual(['result']);
  });

  it('keeps arrival order when a message comes in while queued ones are still being handed over', async () => {
    const { issuer, wallet } = createMemoryChannelPair();
    await issuer.send(sampleResult());
    await tick();
    const received: string[] = [];
    wallet.subscribe((m) => received.push(m.type));
    wallet.receiveWire(JSON.stringify(sampleInvocation()));
    await tick();
    expect(received).toEqual(['result', 'invocation']);
  });

  it('sends refused input to error listeners, never to message listeners', async () => {
    const { wallet } = createMemoryChannelPair();
    const messages: AppMessage[] = [];
    const errors: ProvisioningError[] = [];
    wallet.subscribe((m) => messages.push(m), (e) => errors.push(e));
    wallet.receiveWire('{"type":"result","type":"result"}');
    wallet.receiveWire(JSON.stringify({ ...sampleResult(), version: 2 }));
    wallet.receiveWire(JSON.stringify({ ...sampleResult(), pan: '4111111111111111' }));
    wallet.receiveWire('x'.repeat(70_000));
    expect(messages).toEqual([]);
    expect(errors.map((e) => e.code)).toEqual(['invalid_json', 'unsupported_version', 'invalid_message', 'payload_too_large']);
    for (const error of errors) expect(JSON.stringify(error) + String(error)).not.toContain('4111111111111111');
  });

  it('checks on the receiving end what the sender put on the wire', async () => {
    const { issuer, wallet } = createMemoryChannelPair();
    const messages: AppMessage[] = [];
    const errors: string[] = [];
    wallet.subscribe((m) => messages.push(m), (e) => errors.push(e.code));
    await issuer.send({ ...sampleResult(), status: 'nope' } as never);
    await tick();
    expect(messages).toEqual([]);
    expect(errors).toEqual(['invalid_message']);
  });

  it('closes both ends, once, and fails sends afterwards', async () => {
    const { issuer, wallet } = createMemoryChannelPair();
    const reasons: string[] = [];
    wallet.onClose((r) => reasons.push(r.code));
    issuer.close();
    issuer.close();
    expect(issuer.closed).toBe(true);
    expect(wallet.closed).toBe(true);
    expect(reasons).toEqual(['channel_closed']);
    await expect(issuer.send(sampleResult())).rejects.toMatchObject({ code: 'channel_closed' });
    await expect(wallet.send(sampleResult())).rejects.toBeInstanceOf(TransportError);
  });

  it('stops delivering to an unsubscribed listener', async () => {
    const { issuer, wallet } = createMemoryChannelPair();
    const received: AppMessage[] = [];
    const off = wallet.subscribe((m) => received.push(m));
    const keep: AppMessage[] = [];
    wallet.subscribe((m) => keep.push(m));
    off();
    await issuer.send(sampleResult());
    await tick();
    expect(received).toEqual([]);
    expect(keep).toHaveLength(1);
  });
});

describe('waitForMessage', () => {
  it('takes a matching message that was queued before it started waiting', async () => {
    const { issuer, wallet } = createMemoryChannelPair();
    await issuer.send(sampleResult());
    await tick();
    const rejected: string[] = [];
    await expect(waitForMessage(wallet, isResult, { timeoutMs: 1_000, onRejected: (m) => rejected.push(m.type) })).resolves.toEqual(sampleResult());
    expect(rejected).toEqual([]);
  });

  it('stops at the first queued match, leaves no listener behind, and leaves the rest queued for the next subscriber', async () => {
    const { issuer, wallet } = createMemoryChannelPair();
    await issuer.send(sampleResult());
    await issuer.send(sampleIdentifiersMessage());
    await tick();
    const rejected: string[] = [];
    await waitForMessage(wallet, isResult, { onRejected: (m) => rejected.push(m.type) });
    const later: AppMessage[] = [];
    wallet.subscribe((m) => later.push(m));
    await issuer.send(sampleInvocation());
    await tick();
    expect(rejected).toEqual([]);
    expect(later.map((m) => m.type)).toEqual(['identifiers', 'invocation']);
  });

  it('two waits in a row each take their own queued message', async () => {
    const { issuer, wallet } = createMemoryChannelPair();
    await issuer.send(sampleInvocation());
    await issuer.send(sampleResult());
    await tick();
    const isInvocation = (m: AppMessage): m is Extract<AppMessage, { type: 'invocation' }> => m.type === 'invocation';
    await expect(waitForMessage(wallet, isInvocation, { timeoutMs: 1_000 })).resolves.toMatchObject({ type: 'invocation' });
    await expect(waitForMessage(wallet, isResult, { timeoutMs: 1_000 })).resolves.toMatchObject({ type: 'result' });
  });

  it('settles on a message a custom channel delivers synchronously inside subscribe, and unsubscribes after', async () => {
    let listeners = 0;
    const eager: AppChannel = {
      closed: false,
      send: async () => {},
      close: () => {},
      onClose: () => () => {},
      subscribe(listener) {
        listeners += 1;
        listener(sampleInvocation());
        listener(sampleResult());
        listener(sampleResult());
        return () => {
          listeners -= 1;
        };
      },
    };
    const rejected: string[] = [];
    await expect(waitForMessage(eager, isResult, { timeoutMs: 1_000, onRejected: (m) => rejected.push(m.type) })).resolves.toMatchObject({ type: 'result' });
    expect(rejected).toEqual(['invocation']);
    expect(listeners).toBe(0);
  });

  it('resolves with the first accepted message and passes the others to onRejected', async () => {
    const { issuer, wallet } = createMemoryChannelPair();
    const rejected: string[] = [];
    const waiting = waitForMessage(wallet, isResult, { onRejected: (m) => rejected.push(m.type) });
    await issuer.send(sampleInvocation());
    await issuer.send(sampleResult());
    await expect(waiting).resolves.toEqual(sampleResult());
    expect(rejected).toEqual(['invocation']);
  });

  it('keeps waiting through refused input and reports it to onError', async () => {
    const { issuer, wallet } = createMemoryChannelPair();
    const errors: string[] = [];
    const waiting = waitForMessage(wallet, isResult, { onError: (e) => errors.push(e.code) });
    wallet.receiveWire('{ not json');
    await issuer.send(sampleResult());
    await expect(waiting).resolves.toMatchObject({ type: 'result' });
    expect(errors).toEqual(['invalid_json']);
  });

  it('removes its listeners once settled', async () => {
    const { issuer, wallet } = createMemoryChannelPair();
    const rejected: string[] = [];
    const waiting = waitForMessage(wallet, isResult, { onRejected: (m) => rejected.push(m.type) });
    await issuer.send(sampleResult());
    await waiting;
    await issuer.send(sampleInvocation());
    await tick();
    expect(rejected).toEqual([]);
  });

  it('times out with a TransportError (timeout)', async () => {
    vi.useFakeTimers();
    const { wallet } = createMemoryChannelPair();
    const waiting = waitForMessage(wallet, isResult, { timeoutMs: 5_000 });
    const assertion = expect(waiting).rejects.toMatchObject({ code: 'timeout', retryable: true });
    await vi.advanceTimersByTimeAsync(4_999);
    let settled = false;
    void waiting.catch(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await assertion;
  });

  it('fails with aborted when the signal fires, and at once for an aborted signal', async () => {
    const { wallet } = createMemoryChannelPair();
    const controller = new AbortController();
    const waiting = waitForMessage(wallet, isResult, { signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'aborted' });
    await expect(waitForMessage(wallet, isResult, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(TransportError);
  });

  it('fails with the abort reason when it is a session or transport error', async () => {
    const { wallet } = createMemoryChannelPair();
    const controller = new AbortController();
    const waiting = waitForMessage(wallet, isResult, { signal: controller.signal });
    const reason = new SessionError('cancelled', 'The user cancelled');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });

  it('maps abort reasons', () => {
    const abortWith = (reason?: unknown) => {
      const c = new AbortController();
      c.abort(reason);
      return abortError(c.signal);
    };
    expect(abortWith().code).toBe('aborted');
    expect(abortWith(new Error('x')).code).toBe('aborted');
    expect(abortWith(createError('timeout')).code).toBe('timeout');
    expect(abortWith(createError('consent_denied')).code).toBe('consent_denied');
    expect(abortWith(createError('internal_error')).code).toBe('aborted');
  });

  it('fails with channel_closed when the channel closes while waiting, or was closed', async () => {
    const { issuer, wallet } = createMemoryChannelPair();
    const waiting = waitForMessage(wallet, isResult);
    issuer.close();
    await expect(waiting).rejects.toMatchObject({ code: 'channel_closed' });
    await expect(waitForMessage(wallet, isResult)).rejects.toMatchObject({ code: 'channel_closed' });
  });
});

describe('BaseAppChannel, as a custom channel builds on it', () => {
  class LoopbackChannel extends BaseAppChannel {
    sent: AppMessage[] = [];
    async send(message: AppMessage): Promise<void> {
      this.assertOpen();
      this.sent.push(message);
    }
    push(message: AppMessage) {
      this.deliver(message);
    }
    refuse(code: 'origin_rejected') {
      this.reject(createError(code));
    }
  }

  it('delivers, reports refusals, and stops everything once closed with a reason', async () => {
    const channel = new LoopbackChannel();
    const messages: string[] = [];
    const errors: string[] = [];
    const reasons: string[] = [];
    channel.subscribe((m) => messages.push(m.type), (e) => errors.push(e.code));
    channel.onClose((r) => reasons.push(r.code));
    channel.push(sampleResult());
    channel.refuse('origin_rejected');
    channel.close(new SessionError('cancelled', 'The user cancelled'));
    channel.push(sampleResult());
    channel.refuse('origin_rejected');
    expect(messages).toEqual(['result']);
    expect(errors).toEqual(['origin_rejected']);
    expect(reasons).toEqual(['cancelled']);
    await expect(channel.send(sampleResult())).rejects.toMatchObject({ code: 'channel_closed' });
  });

  it('lets waitForMessage fail with the close reason', async () => {
    const channel = new LoopbackChannel();
    const waiting = waitForMessage(channel, isResult);
    channel.close(new SessionError('session_state', 'Reset'));
    await expect(waiting).rejects.toMatchObject({ code: 'session_state' });
  });
});
