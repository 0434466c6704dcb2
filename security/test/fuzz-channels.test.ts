// Fuzzing the app channels with fast-check: random message events (origins
// from lookalikes to "null", sources from the right window to none, data from
// valid messages to mutated text, hostile values, throwing getters and
// revoked proxies) on both popup channels, random wire text on the memory
// channel, random links on the URL channel. Every event ends as exactly one
// delivered message (only from the right window, origin and schema) or one
// typed error; nothing throws out of an event handler; nothing is left
// unhandled.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AppMessage, type ProvisioningError, URL_MESSAGE_PARAM, createMemoryChannelPair, createUrlChannel, parseAppMessage, toBase64Url } from '@pushprov/protocol';
import { createPopupWalletChannel } from '@pushprov/issuer-sdk/browser';
import { createOpenerIssuerChannel } from '@pushprov/wallet-sdk/browser';
import { FakeBrowser } from '../src/fake-browser.js';
import { assertTypedError, fuzzParameters, guardUnhandled, hostileJson, hostileString, mutatedJson, mutatedText } from '../src/fuzz.js';
import { NOW_SECONDS, createIdentifiers } from '../src/sandbox.js';

const BANK = 'https://bank.example';
const WALLET_ORIGIN = 'https://wallet.example';

// Bounded runs, each with its own time limit; the whole test may take longer on a busy CI machine.
vi.setConfig({ testTimeout: 90_000 });

const guard = guardUnhandled();
beforeAll(() => guard.install());
afterAll(() => {
  guard.uninstall();
  expect(guard.seen).toEqual([]);
});

const sessionId = createIdentifiers().sessionId;
const VALID: AppMessage[] = [
  { type: 'invocation', version: 1, sessionId, issuerId: 'bank-sec', account: { last4: '8290', network: 'visa' }, iat: NOW_SECONDS, exp: NOW_SECONDS + 300 },
  createIdentifiers({ sessionId }),
  { type: 'result', version: 1, sessionId, status: 'provisioned', tokenReferenceId: 'tok_1' },
];

/** Makers of values no JSON encoder survives: a throwing getter, a throwing toJSON, a revoked proxy, a BigInt, a cycle, a symbol. */
const nasty = fc.constantFrom(
  () => ({
    get type() {
      throw new Error('getter');
    },
  }),
  () => ({
    toJSON() {
      throw new Error('toJSON');
    },
  }),
  () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    return proxy;
  },
  () => ({ big: 10n }),
  () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    return cycle;
  },
  () => Symbol('s'),
  () => undefined,
);

const data = fc.oneof(
  { arbitrary: fc.constantFrom(...VALID).map((m) => JSON.stringify(m)), weight: 4 },
  { arbitrary: fc.constantFrom(...VALID), weight: 2 },
  fc.constantFrom(...VALID).chain((m) => mutatedText(JSON.stringify(m))),
  fc.constantFrom(...VALID).chain((m) => mutatedJson(m)),
  hostileJson,
  hostileString,
  nasty,
);

/** The event data: nasty values are made inside the run (fast-check itself must not hold a revoked proxy). */
const materialise = (raw: unknown): unknown => (typeof raw === 'function' ? (raw as () => unknown)() : raw);

const origins = (right: string) =>
  fc.oneof(
    { arbitrary: fc.constant(right), weight: 6 },
    fc.constantFrom(right, `${right}.evil.test`, right.replace('https:', 'http:'), `${right}:443`, `${right}/`, right.toUpperCase(), 'null', '', BANK, WALLET_ORIGIN),
    hostileString,
  );

/** Asserts one event's effect: exactly one delivery or one typed error. */
function expectOneEffect(messages: AppMessage[], errors: ProvisioningError[], before: { m: number; e: number }) {
  const delivered = messages.length - before.m;
  const refused = errors.length - before.e;
  expect(delivered + refused).toBe(1);
  if (refused === 1) assertTypedError(errors.at(-1));
  if (delivered === 1) expect(parseAppMessage(messages.at(-1))).toEqual(messages.at(-1));
}

describe('the issuer popup channel', () => {
  it('random events: only messages from the popup, at its exact origin, that pass the schema are delivered; all else is a typed error', () => {
    const browser = new FakeBrowser();
    const bank = browser.window(BANK);
    const popupWindow = browser.window(WALLET_ORIGIN);
    bank.onOpen = () => popupWindow;
    const channel = createPopupWalletChannel({ walletUrl: `${WALLET_ORIGIN}/push`, allowedWalletOrigins: [WALLET_ORIGIN], window: bank });
    channel.open();
    const popupHandle = browser.handle(popupWindow, bank);
    const messages: AppMessage[] = [];
    const errors: ProvisioningError[] = [];
    channel.subscribe((m) => messages.push(m), (e) => errors.push(e));
    const sources = fc.oneof({ arbitrary: fc.constant(popupHandle), weight: 5 }, fc.constantFrom(popupHandle, browser.handle(browser.window(WALLET_ORIGIN), bank), null, undefined, {}, bank));
    fc.assert(
      fc.property(origins(WALLET_ORIGIN), sources, data, (origin, source, payload) => {
        const before = { m: messages.length, e: errors.length };
        bank.dispatch({ origin, source, data: materialise(payload) });
        expectOneEffect(messages, errors, before);
        if (messages.length > before.m) {
          expect(origin).toBe(WALLET_ORIGIN);
          expect(source).toBe(popupHandle);
        }
      }),
      fuzzParameters(2000),
    );
    expect(messages.length).toBeGreaterThan(50);
    expect(errors.length).toBeGreaterThan(50);
    expect(channel.closed).toBe(false);
    channel.close();
  });
});

describe('the wallet opener channel', () => {
  it('random events: only messages from the opener, at an allowed (then pinned) origin, that pass the schema are delivered', () => {
    const browser = new FakeBrowser();
    const bank = browser.window(BANK);
    const page = browser.window(WALLET_ORIGIN);
    page.opener = browser.handle(bank, page);
    const channel = createOpenerIssuerChannel({ allowedIssuerOrigins: [BANK], window: page });
    const messages: AppMessage[] = [];
    const errors: ProvisioningError[] = [];
    channel.subscribe((m) => messages.push(m), (e) => errors.push(e));
    const sources = fc.oneof({ arbitrary: fc.constant(page.opener), weight: 5 }, fc.constantFrom(page.opener, browser.handle(browser.window(BANK), page), null, undefined, {}, page));
    fc.assert(
      fc.property(origins(BANK), sources, data, (origin, source, payload) => {
        const before = { m: messages.length, e: errors.length };
        page.dispatch({ origin, source, data: materialise(payload) });
        expectOneEffect(messages, errors, before);
        if (messages.length > before.m) {
          expect(origin).toBe(BANK);
          expect(source).toBe(page.opener);
        }
      }),
      fuzzParameters(2000),
    );
    expect(messages.length).toBeGreaterThan(50);
    expect(errors.length).toBeGreaterThan(50);
    expect(browser.posts).toEqual([]);
    channel.close();
  });
});

describe('the in-memory channel', () => {
  it('random wire text: one message that passes the schema, or one typed error', () => {
    const { issuer } = createMemoryChannelPair();
    const messages: AppMessage[] = [];
    const errors: ProvisioningError[] = [];
    issuer.subscribe((m) => messages.push(m), (e) => errors.push(e));
    fc.assert(
      fc.property(fc.oneof(hostileString, fc.constantFrom(...VALID).chain((m) => mutatedText(JSON.stringify(m)))), (wire) => {
        const before = { m: messages.length, e: errors.length };
        issuer.receiveWire(wire);
        expectOneEffect(messages, errors, before);
      }),
      fuzzParameters(1000),
    );
  });
});

describe('the URL channel', () => {
  it('random and mutated links: accepted (true, one message) only at its own URL, else false and one typed error', () => {
    const own = 'https://bank.example/wallet-return';
    const channel = createUrlChannel({ openUrl: () => {}, peerUrl: `${WALLET_ORIGIN}/push`, allowedPeerUrls: [`${WALLET_ORIGIN}/push`], ownUrls: [own] });
    const messages: AppMessage[] = [];
    const errors: ProvisioningError[] = [];
    channel.subscribe((m) => messages.push(m), (e) => errors.push(e));
    const valid = `${own}#${URL_MESSAGE_PARAM}=${toBase64Url(new TextEncoder().encode(JSON.stringify(VALID[2])))}`;
    fc.assert(
      fc.property(fc.oneof(mutatedText(valid), fc.webUrl({ withFragments: true }), hostileString), (link) => {
        const before = { m: messages.length, e: errors.length };
        const accepted = channel.handleUrl(link);
        expectOneEffect(messages, errors, before);
        expect(accepted).toBe(messages.length > before.m);
        if (accepted) expect(link.startsWith(`${own}#`) || link.startsWith(`${own}?`)).toBe(true);
      }),
      fuzzParameters(1000),
    );
  });
});
