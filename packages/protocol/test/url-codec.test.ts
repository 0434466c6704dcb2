import { describe, expect, it } from 'vitest';
import {
  type AppMessage,
  DEFAULT_MAX_URL_LENGTH,
  ProvisioningError,
  URL_MESSAGE_PARAM,
  createUrlChannel,
  decodeMessageUrl,
  encodeMessageUrl,
  toBase64Url,
  type UrlCodecOptions,
} from '../src/index.js';
import { sampleInvocation, sampleResult } from './helpers/samples.js';

const WALLET = 'https://wallet.example/push';
const allowed = { allowedUrls: [WALLET] };
const b64 = (text: string) => toBase64Url(new TextEncoder().encode(text));
const payload = (message: object = sampleInvocation()) => b64(JSON.stringify(message));

function decodeCode(url: unknown, options: UrlCodecOptions = allowed): string {
  try {
    decodeMessageUrl(url as string, options);
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(ProvisioningError);
    return (error as ProvisioningError).code;
  }
}

describe('encodeMessageUrl / decodeMessageUrl', () => {
  it('refuses a byte-order mark before the JSON text (the decoder must not drop it)', () => {
    expect(decodeCode(`${WALLET}#pp=${b64(`\uFEFF${JSON.stringify(sampleInvocation())}`)}`)).toBe('invalid_json');
  });

  it('round-trips a message in the fragment', () => {
    const url = encodeMessageUrl(WALLET, sampleInvocation(), allowed);
    expect(url.startsWith(`${WALLET}#${URL_MESSAGE_PARAM}=`)).toBe(true);
    expect(decodeMessageUrl(url, allowed)).toEqual(sampleInvocation());
  });

  it('ignores the query and replaces an existing fragment', () => {
    const url = encodeMessageUrl(`${WALLET}?from=bank#old`, sampleResult(), allowed);
    expect(url).not.toContain('old');
    expect(decodeMessageUrl(url, allowed)).toEqual(sampleResult());
  });

  it('allows http only on loopback', () => {
    for (const base of ['http://127.0.0.1:8080/cb', 'http://localhost:3000/cb', 'http://[::1]:3000/cb']) {
      const options = { allowedUrls: [base] };
      expect(decodeMessageUrl(encodeMessageUrl(base, sampleResult(), options), options)).toEqual(sampleResult());
    }
    const lan = 'http://192.168.1.2/cb';
    expect(() => encodeMessageUrl(lan, sampleResult(), { allowedUrls: [lan] })).toThrow(expect.objectContaining({ code: 'origin_rejected' }));
    expect(decodeCode(`${lan}#pp=${payload()}`, { allowedUrls: [lan] })).toBe('origin_rejected');
    expect(decodeCode(`http://wallet.example/push#pp=${payload()}`, { allowedUrls: ['http://wallet.example/push'] })).toBe('origin_rejected');
  });

  it('refuses a destination or source outside the allow-list', () => {
    expect(() => encodeMessageUrl('https://evil.example/push', sampleResult(), allowed)).toThrow(expect.objectContaining({ code: 'origin_rejected' }));
    expect(() => encodeMessageUrl('not a url', sampleResult(), allowed)).toThrow(expect.objectContaining({ code: 'origin_rejected' }));
    for (const url of [
      `https://evil.example/push#pp=${payload()}`,
      `https://wallet.example/other#pp=${payload()}`,
      `https://wallet.example/push/#pp=${payload()}`,
      `https://wallet.example:8443/push#pp=${payload()}`,
      `https://wallet.example.evil.example/push#pp=${payload()}`,
      `https://user:pw@wallet.example/push#pp=${payload()}`,
      `ftp://wallet.example/push#pp=${payload()}`,
    ]) {
      expect(decodeCode(url), url).toBe('origin_rejected');
    }
    expect(decodeCode(`${WALLET}#pp=${payload()}`, { allowedUrls: ['::not a url::'] })).toBe('origin_rejected');
    expect(decodeCode(`${WALLET}#pp=${payload()}`, { allowedUrls: [] })).toBe('origin_rejected');
  });

  it('refuses a fragment that is not exactly one pp parameter of base64url', () => {
    for (const fragment of [
      `pp=${payload()}&pp=${payload()}`,
      `pp=${payload()}&x=1`,
      `x=1&pp=${payload()}`,
      `pp=${payload()}&`,
      `PP=${payload()}`,
      `p=${payload()}`,
      `pp=${payload()}=`,
      `pp=${payload()}=x`,
      `pp`,
      `pp=`,
      ``,
      `pp=${payload()}%3D`,
      `pp=+${payload()}`,
      `pp=${payload()}/`,
      `pp=${payload()}.`,
    ]) {
      expect(decodeCode(`${WALLET}#${fragment}`), fragment).toBe('invalid_message');
    }
    expect(decodeCode(WALLET)).toBe('invalid_message');
  });

  it('refuses characters outside printable ASCII anywhere in the URL', () => {
    for (const url of [`${WALLET}#pp=${payload()} `, `${WALLET} #pp=${payload()}`, `${WALLET}#pp=é${payload()}`, `${WALLET}\n#pp=${payload()}`, `${WALLET}#pp=${payload()}\u0000`, `https://wället.example/push#pp=${payload()}`]) {
      expect(decodeCode(url), JSON.stringify(url)).toBe('invalid_message');
    }
  });

  it('refuses payloads that are not base64url UTF-8 strict JSON messages', () => {
    expect(decodeCode(`${WALLET}#pp=${toBase64Url(new Uint8Array([0xff, 0xfe, 0xfd]))}`)).toBe('invalid_message');
    expect(decodeCode(`${WALLET}#pp=${b64('{"type":"result","type":"result"}')}`)).toBe('invalid_json');
    expect(decodeCode(`${WALLET}#pp=${b64('not json')}`)).toBe('invalid_json');
    expect(decodeCode(`${WALLET}#pp=${payload({ ...sampleResult(), version: 9 })}`)).toBe('unsupported_version');
    expect(decodeCode(`${WALLET}#pp=${payload({ ...sampleResult(), extra: true })}`)).toBe('invalid_message');
    expect(decodeCode(`${WALLET}#pp=${payload({ type: 'submission' })}`)).toBe('invalid_message');
  });

  it('refuses input that is not a URL string', () => {
    for (const input of [undefined, null, 42, {}, 'not a url', '#pp=abc']) expect(decodeCode(input)).toBe('invalid_message');
  });

  it('limits the URL length exactly, before parsing', () => {
    const url = encodeMessageUrl(WALLET, sampleInvocation(), allowed);
    expect(decodeMessageUrl(url, { ...allowed, maxLength: url.length })).toEqual(sampleInvocation());
    expect(decodeCode(url, { ...allowed, maxLength: url.length - 1 })).toBe('payload_too_large');
    expect(decodeCode(`${WALLET}#pp=${'A'.repeat(DEFAULT_MAX_URL_LENGTH)}`)).toBe('payload_too_large');
    expect(() => encodeMessageUrl(WALLET, sampleInvocation(), { ...allowed, maxLength: url.length - 1 })).toThrow(expect.objectContaining({ code: 'payload_too_large' }));
  });

  it('refuses to encode a message that fails its schema', () => {
    expect(() => encodeMessageUrl(WALLET, { ...sampleResult(), status: 'nope' } as never, allowed)).toThrow(expect.objectContaining({ code: 'invalid_message' }));
  });
});

describe('createUrlChannel', () => {
  const BANK = 'https://bank.example/wallet-return';

  function setup(openUrl: (url: string) => void | Promise<void> = () => undefined) {
    return createUrlChannel({ openUrl, peerUrl: WALLET, allowedPeerUrls: [WALLET, 'https://wallet.example/alt'], ownUrls: [BANK] });
  }

  it('sends by opening an allow-listed link', async () => {
    const opened: string[] = [];
    const channel = setup((url) => void opened.push(url));
    await channel.send(sampleInvocation());
    expect(opened).toHaveLength(1);
    expect(decodeMessageUrl(opened[0]!, { allowedUrls: [WALLET] })).toEqual(sampleInvocation());
  });

  it('changes the peer only to an allow-listed URL', async () => {
    const opened: string[] = [];
    const channel = setup((url) => void opened.push(url));
    channel.setPeerUrl('https://wallet.example/alt');
    await channel.send(sampleResult());
    expect(opened[0]!.startsWith('https://wallet.example/alt#')).toBe(true);
    expect(() => channel.setPeerUrl('https://evil.example/')).toThrow(expect.objectContaining({ code: 'origin_rejected' }));
  });

  it('maps a failing opener to network_error, and a closed channel to channel_closed', async () => {
    const channel = setup(() => Promise.reject(new Error('no app')));
    await expect(channel.send(sampleResult())).rejects.toMatchObject({ code: 'network_error', retryable: true });
    channel.close();
    await expect(channel.send(sampleResult())).rejects.toMatchObject({ code: 'channel_closed' });
  });

  it('delivers good incoming links and reports refused ones', () => {
    const channel = setup();
    const messages: AppMessage[] = [];
    const errors: string[] = [];
    channel.subscribe((m) => messages.push(m), (e) => errors.push(e.code));
    expect(channel.handleUrl(`${BANK}#pp=${payload(sampleResult())}`)).toBe(true);
    expect(channel.handleUrl(`https://evil.example/x#pp=${payload(sampleResult())}`)).toBe(false);
    expect(channel.handleUrl(`${BANK}#pp=${payload(sampleResult())}&pp=x`)).toBe(false);
    expect(channel.handleUrl(`${WALLET}#pp=${payload(sampleResult())}`)).toBe(false);
    expect(messages).toEqual([sampleResult()]);
    expect(errors).toEqual(['origin_rejected', 'invalid_message', 'origin_rejected']);
  });
});
