import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AppMessage, type ProvisioningError, TransportError } from '@pushprov/protocol';
import { createOpenerIssuerChannel } from '../src/browser.js';
import { FakeIssuerPage, FakeOpener, FakeWindow } from './helpers/fake-window.js';
import { type Keys, expectNoSecrets, makeKeys, setupFlow } from './helpers/setup.js';
import type { TokenServiceDouble } from './helpers/token-service-double.js';

const BANK = 'https://bank.example';
const RESULT: AppMessage = { type: 'result', version: 1, sessionId: 'AAAAAAAAAAAAAAAAAAAAAA', status: 'cancelled', errorCode: 'consent_denied' };
const INVOCATION = JSON.stringify({
  type: 'invocation',
  version: 1,
  sessionId: 'AAAAAAAAAAAAAAAAAAAAAA',
  issuerId: 'bank-a',
  account: { last4: '1111', network: 'visa' },
  iat: 1795867200,
  exp: 1795867500,
});

function setup(options: { issuerOrigin?: string; allowed?: string[] } = {}) {
  const opener = new FakeOpener(BANK);
  const win = new FakeWindow(opener);
  const channel = createOpenerIssuerChannel({ allowedIssuerOrigins: options.allowed ?? [BANK, 'https://other-bank.example'], window: win, ...options });
  const messages: AppMessage[] = [];
  const errors: ProvisioningError[] = [];
  channel.subscribe(
    (m) => messages.push(m),
    (e) => errors.push(e),
  );
  return { opener, win, channel, messages, errors };
}

describe('createOpenerIssuerChannel', () => {
  it('accepts a schema-valid message from window.opener at an allowed origin, then answers that exact origin', async () => {
    const { opener, win, channel, messages, errors } = setup();
    expect(channel.issuerOrigin).toBeUndefined();
    win.dispatch({ origin: BANK, source: opener, data: INVOCATION });
    expect(messages.map((m) => m.type)).toEqual(['invocation']);
    expect(errors).toEqual([]);
    expect(channel.issuerOrigin).toBe(BANK);
    await channel.send(RESULT);
    expect(opener.posted).toEqual([{ message: JSON.stringify(RESULT), targetOrigin: BANK }]);
  });

  it.each([
    ['a lookalike host', 'https://bank.example.evil.com'],
    ['http instead of https', 'http://bank.example'],
    ['another port', 'https://bank.example:8443'],
    ['an opaque origin', 'null'],
    ['a trailing slash', 'https://bank.example/'],
    ['upper case', 'https://BANK.example'],
  ])('refuses %s (origin_rejected) and delivers nothing', (_name, origin) => {
    const { opener, win, messages, errors, channel } = setup();
    win.dispatch({ origin, source: opener, data: INVOCATION });
    expect(messages).toEqual([]);
    expect(errors.map((e) => e.code)).toEqual(['origin_rejected']);
    expect(channel.issuerOrigin).toBeUndefined();
  });

  it('refuses a message from a window other than the opener, even from an allowed origin', () => {
    const { win, messages, errors } = setup();
    win.dispatch({ origin: BANK, source: new FakeOpener(BANK), data: INVOCATION });
    win.dispatch({ origin: BANK, source: null, data: INVOCATION });
    expect(messages).toEqual([]);
    expect(errors.map((e) => e.code)).toEqual(['origin_rejected', 'origin_rejected']);
  });

  it('pins the first accepted origin: another allowed origin is refused afterwards', () => {
    const { opener, win, messages, errors } = setup();
    win.dispatch({ origin: BANK, source: opener, data: INVOCATION });
    win.dispatch({ origin: 'https://other-bank.example', source: opener, data: INVOCATION });
    expect(messages).toHaveLength(1);
    expect(errors.map((e) => e.code)).toEqual(['origin_rejected']);
  });

  it('schema-checks every message: bad JSON, duplicate keys, __proto__, unknown fields, oversize', () => {
    const { opener, win, messages, errors, channel } = setup();
    const inv = JSON.parse(INVOCATION) as Record<string, unknown>;
    const bad: unknown[] = [
      '{"type":',
      INVOCATION.replace('{', '{"type":"invocation",'),
      INVOCATION.replace('{', '{"__proto__":{"polluted":true},'),
      { ...inv, pan: '4111111111111111' },
      JSON.stringify({ ...inv, account: { last4: '1111', network: 'visa', productName: 'x'.repeat(70_000) } }),
      42,
      undefined,
    ];
    for (const data of bad) win.dispatch({ origin: BANK, source: opener, data });
    expect(messages).toEqual([]);
    expect(errors.map((e) => e.code)).toEqual(['invalid_json', 'invalid_json', 'invalid_json', 'invalid_message', 'payload_too_large', 'invalid_message', 'invalid_message']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // Garbage does not pin the origin.
    expect(channel.issuerOrigin).toBeUndefined();
    expectNoSecrets(undefined, errors);
  });

  // Spec 4.11: each message is posted as its JSON text, never as a structured-clone object.
  it.each<[string, unknown]>([
    ['a structured-clone object', JSON.parse(INVOCATION)],
    ['an array', [INVOCATION]],
    ['a String object', new String(INVOCATION)],
    ['a Blob-like object', { text: () => INVOCATION }],
    ['null', null],
  ])('refuses %s (invalid_message), and it does not pin the origin', (_name, data) => {
    const { opener, win, messages, errors, channel } = setup();
    win.dispatch({ origin: BANK, source: opener, data });
    expect(messages).toEqual([]);
    expect(errors.map((e) => e.code)).toEqual(['invalid_message']);
    expect(channel.issuerOrigin).toBeUndefined();
  });

  it('never posts before an origin is known, never to "*", and not to a gone opener', async () => {
    const { opener, channel } = setup();
    await expect(channel.send(RESULT)).rejects.toMatchObject({ code: 'origin_rejected' });
    expect(opener.posted).toEqual([]);

    const configured = setup({ issuerOrigin: BANK });
    await configured.channel.send(RESULT);
    expect(configured.opener.posted.map((p) => p.targetOrigin)).toEqual([BANK]);
    configured.opener.closed = true;
    await expect(configured.channel.send(RESULT)).rejects.toBeInstanceOf(TransportError);
    await expect(configured.channel.send(RESULT)).rejects.toMatchObject({ code: 'channel_closed' });

    const orphan = new FakeWindow(null);
    const c = createOpenerIssuerChannel({ allowedIssuerOrigins: [BANK], issuerOrigin: BANK, window: orphan });
    await expect(c.send(RESULT)).rejects.toMatchObject({ code: 'channel_closed' });
  });

  it('with a configured issuerOrigin, only that origin is accepted', () => {
    const { opener, win, messages, errors } = setup({ issuerOrigin: 'https://other-bank.example' });
    win.dispatch({ origin: BANK, source: opener, data: INVOCATION });
    expect(messages).toEqual([]);
    expect(errors.map((e) => e.code)).toEqual(['origin_rejected']);
  });

  it('close() stops listening and further sends fail with channel_closed', async () => {
    const { win, channel } = setup({ issuerOrigin: BANK });
    expect(win.listeners.size).toBe(1);
    channel.close();
    expect(win.listeners.size).toBe(0);
    expect(channel.closed).toBe(true);
    await expect(channel.send(RESULT)).rejects.toMatchObject({ code: 'channel_closed' });
  });

  it.each([[['*']], [['null']], [['https://bank.example/']], [['https://*.bank.example']], [['http://bank.example']], [[]], [['bank.example']]])(
    'refuses the allow-list %j (configuration_invalid)',
    (allowed) => {
      expect(() => createOpenerIssuerChannel({ allowedIssuerOrigins: allowed, window: new FakeWindow(null) })).toThrow(
        expect.objectContaining({ code: 'configuration_invalid' }),
      );
    },
  );

  it('refuses an issuerOrigin outside the allow-list, and runs without a window only when one is given', () => {
    expect(() => createOpenerIssuerChannel({ allowedIssuerOrigins: [BANK], issuerOrigin: 'https://evil.example', window: new FakeWindow(null) })).toThrow(
      expect.objectContaining({ code: 'configuration_invalid' }),
    );
    expect(() => createOpenerIssuerChannel({ allowedIssuerOrigins: [BANK] })).toThrow(expect.objectContaining({ code: 'configuration_invalid' }));
    expect(() => createOpenerIssuerChannel({ allowedIssuerOrigins: ['http://localhost:5173'], window: new FakeWindow(null) })).not.toThrow();
  });
});

describe('full flow through the popup channel (fake window)', () => {
  let keys: Keys;
  const services: TokenServiceDouble[] = [];
  beforeAll(async () => {
    keys = await makeKeys();
  });
  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.close()));
  });

  it('provisions, with every wallet post addressed to the bank origin only', async () => {
    const flow = await setupFlow(keys);
    services.push(flow.service);
    const opener = new FakeOpener(BANK);
    const popup = new FakeWindow(opener);
    const page = new FakeIssuerPage(opener, popup);
    const channel = createOpenerIssuerChannel({ allowedIssuerOrigins: [BANK], window: popup });
    // A hostile frame posts first: refused, and it ends nothing.
    popup.dispatch({ origin: 'https://evil.example', source: {}, data: INVOCATION });
    const outcome = flow.wallet.handleInvocation(channel);
    const { result } = await flow.issuer.run(page);
    expect((await outcome).status).toBe('provisioned');
    expect(result.status).toBe('provisioned');
    expect(opener.posted.map((p) => p.targetOrigin)).toEqual([BANK, BANK]);
    expectNoSecrets(flow.service, flow.events, opener.posted);
  });
});

describe('the popup channel after the wallet session ends', () => {
  let keys: Keys;
  const services: TokenServiceDouble[] = [];
  beforeAll(async () => {
    keys = await makeKeys();
  });
  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.close()));
  });

  it('with closeChannelOnEnd, the session closes the channel once it has ended, and the page stops listening', async () => {
    const flow = await setupFlow(keys);
    services.push(flow.service);
    const opener = new FakeOpener(BANK);
    const popup = new FakeWindow(opener);
    const page = new FakeIssuerPage(opener, popup);
    const channel = createOpenerIssuerChannel({ allowedIssuerOrigins: [BANK], window: popup });
    const outcome = flow.wallet.handleInvocation(channel, { closeChannelOnEnd: true });
    const { result } = await flow.issuer.run(page);
    expect(result.status).toBe('provisioned');
    expect((await outcome).status).toBe('provisioned');
    expect(channel.closed).toBe(true);
    expect(popup.listeners.size).toBe(0);
  });

  it('with closeChannelOnEnd, a session rejected for its invocation (nothing sent) also stops listening', async () => {
    const flow = await setupFlow(keys, { wallet: { timeoutMs: 50 } });
    services.push(flow.service);
    const popup = new FakeWindow(new FakeOpener(BANK));
    const channel = createOpenerIssuerChannel({ allowedIssuerOrigins: [BANK], window: popup });
    expect((await flow.wallet.handleInvocation(channel, { closeChannelOnEnd: true })).status).toBe('rejected');
    expect(popup.listeners.size).toBe(0);
  });

  it('by default the channel stays open for the host to reuse or close', async () => {
    const flow = await setupFlow(keys, { wallet: { timeoutMs: 50 } });
    services.push(flow.service);
    const popup = new FakeWindow(new FakeOpener(BANK));
    const channel = createOpenerIssuerChannel({ allowedIssuerOrigins: [BANK], window: popup });
    expect((await flow.wallet.handleInvocation(channel)).status).toBe('rejected');
    expect(channel.closed).toBe(false);
    expect(popup.listeners.size).toBe(1);
  });
});
