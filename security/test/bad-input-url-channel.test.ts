// Bad input, app channel layer: the URL / deep-link channel and its codec,
// and the in-memory channel, fed hostile links and wire text. A refused
// input reaches only the error listeners, with its typed code; the message
// listeners see nothing; a valid link afterwards still works.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type AppMessage,
  type ErrorCode,
  type ProvisioningError,
  URL_MESSAGE_PARAM,
  createMemoryChannelPair,
  createUrlChannel,
  toBase64Url,
} from '@pushprov/protocol';
import { expectNoCanary, expectTypedThrow } from '../src/expectations.js';
import { NOW_SECONDS, createIdentifiers } from '../src/sandbox.js';

const OWN = 'https://bank.example/wallet-return';
let invocation: AppMessage;
let validLink: string;

beforeAll(() => {
  invocation = {
    type: 'invocation',
    version: 1,
    sessionId: createIdentifiers().sessionId,
    issuerId: 'bank-sec',
    account: { last4: '8290', network: 'visa' },
    iat: NOW_SECONDS,
    exp: NOW_SECONDS + 300,
  };
  validLink = `${OWN}#${URL_MESSAGE_PARAM}=${toBase64Url(new TextEncoder().encode(JSON.stringify(invocation)))}`;
});

const payloadOf = (link: string) => link.slice(link.indexOf('#') + 1 + URL_MESSAGE_PARAM.length + 1);

/** Feeds `link` to a URL channel whose own URL is OWN; asserts it is refused with `code` and that a valid link still works after it. */
function expectLinkRefused(link: string, code: ErrorCode): void {
  const channel = createUrlChannel({ openUrl: () => {}, peerUrl: 'https://wallet.example/push', allowedPeerUrls: ['https://wallet.example/push'], ownUrls: [OWN] });
  const messages: AppMessage[] = [];
  const errors: ProvisioningError[] = [];
  channel.subscribe((m) => messages.push(m), (e) => errors.push(e));
  expect(channel.handleUrl(link)).toBe(false);
  expect(errors.map((e) => e.code)).toEqual([code]);
  expect(messages).toEqual([]);
  expectNoCanary(JSON.stringify(errors), 'the channel errors');
  expect(channel.handleUrl(validLink)).toBe(true);
  expect(messages.map((m) => m.type)).toEqual(['invocation']);
}

describe('the URL channel refuses', () => {
  it('a duplicated message parameter: invalid_message', () => {
    expectLinkRefused(`${validLink}&${URL_MESSAGE_PARAM}=${payloadOf(validLink)}`, 'invalid_message');
  });

  it('a second, unknown parameter: invalid_message', () => {
    expectLinkRefused(`${validLink}&redirect=https%3A%2F%2Fevil.test`, 'invalid_message');
  });

  it('a link longer than the limit: payload_too_large', () => {
    expectLinkRefused(`${OWN}?pad=${'a'.repeat(16_384)}#${URL_MESSAGE_PARAM}=${payloadOf(validLink)}`, 'payload_too_large');
  });

  it('a lookalike host: origin_rejected', () => {
    expectLinkRefused(validLink.replace('https://bank.example/', 'https://bank.example.evil.test/'), 'origin_rejected');
  });

  it('the allowed host as user info of another host: origin_rejected', () => {
    expectLinkRefused(validLink.replace('https://bank.example/', 'https://bank.example@evil.test/'), 'origin_rejected');
  });

  it('a path that leaves the allowed one through dot segments: origin_rejected', () => {
    expectLinkRefused(validLink.replace('/wallet-return', '/wallet-return/../admin'), 'origin_rejected');
  });

  it('plain http to a non-loopback host: origin_rejected', () => {
    expectLinkRefused(validLink.replace('https:', 'http:'), 'origin_rejected');
  });

  it('a javascript: link: origin_rejected', () => {
    expectLinkRefused(`javascript:alert(1)//#${URL_MESSAGE_PARAM}=${payloadOf(validLink)}`, 'origin_rejected');
  });

  it('an internationalised homograph of the host (Cyrillic а): invalid_message', () => {
    expectLinkRefused(validLink.replace('bank.example', 'bаnk.example'), 'invalid_message');
  });

  it('its punycode form: origin_rejected', () => {
    expectLinkRefused(validLink.replace('bank.example', 'xn--bnk-6cd.example'), 'origin_rejected');
  });

  it('a percent-encoded payload: invalid_message', () => {
    expectLinkRefused(validLink.replace(/pp=(.)/, (_, c: string) => `pp=%${c.charCodeAt(0).toString(16)}`), 'invalid_message');
  });

  it('a padded standard-base64 payload: invalid_message', () => {
    const standard = Buffer.from(JSON.stringify(invocation)).toString('base64');
    expectLinkRefused(`${OWN}#${URL_MESSAGE_PARAM}=${standard.replace(/=*$/, '==')}`, 'invalid_message');
  });

  it('the message in the query instead of the fragment (it would reach servers and logs): invalid_message', () => {
    expectLinkRefused(`${OWN}?${URL_MESSAGE_PARAM}=${payloadOf(validLink)}`, 'invalid_message');
  });

  it('a message with a "__proto__" member: invalid_json', () => {
    const text = JSON.stringify(invocation).replace('{', '{"__proto__":{"polluted":1},');
    expectLinkRefused(`${OWN}#${URL_MESSAGE_PARAM}=${toBase64Url(new TextEncoder().encode(text))}`, 'invalid_json');
  });

  it('a payload that is not UTF-8: invalid_message', () => {
    expectLinkRefused(`${OWN}#${URL_MESSAGE_PARAM}=${toBase64Url(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))}`, 'invalid_message');
  });
});

describe('sending refuses a destination off the allow-list', () => {
  it('a lookalike peer URL set from an invocation replyTo: origin_rejected', () => {
    const channel = createUrlChannel({ openUrl: () => {}, peerUrl: 'https://wallet.example/push', allowedPeerUrls: ['https://wallet.example/push'], ownUrls: [OWN] });
    expectTypedThrow(() => channel.setPeerUrl('https://wallet.example.evil.test/push'), 'origin_rejected');
  });
});

describe('the in-memory channel refuses raw wire text', () => {
  it.each([
    ['not JSON', '{"type":', 'invalid_json'],
    ['a message of no known type', '{"type":"admin","version":1}', 'invalid_message'],
    ['a message of another version', JSON.stringify({ type: 'result', version: 2 }), 'unsupported_version'],
  ] as const)('%s: %s', (_name, wire, code) => {
    const { issuer } = createMemoryChannelPair();
    const messages: AppMessage[] = [];
    const errors: ProvisioningError[] = [];
    issuer.subscribe((m) => messages.push(m), (e) => errors.push(e));
    issuer.receiveWire(wire);
    expect(errors.map((e) => e.code)).toEqual([code]);
    expect(messages).toEqual([]);
  });
});
