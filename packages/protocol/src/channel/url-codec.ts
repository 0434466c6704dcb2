import { SchemaError, TransportError, toProvisioningError } from '../errors.js';
import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from '../lib/base64url.js';
import { type AppMessage, parseAppMessage } from '../schemas/index.js';
import { isSecureUrl } from '../schemas/primitives.js';
import { BaseAppChannel } from './app-channel.js';

/** The fragment parameter that carries a message. */
export const URL_MESSAGE_PARAM = 'pp';
/** Default maximum URL length (characters). */
export const DEFAULT_MAX_URL_LENGTH = 16_384;

/** Options of the URL codec. */
export interface UrlCodecOptions {
  /**
   * The URLs messages may be sent to or received at: exact origin and path
   * match (query and fragment ignored). Required: there is no "allow all".
   */
  allowedUrls: readonly string[];
  /** Maximum length of the whole URL. Default 16 384. */
  maxLength?: number | undefined;
}

function originAndPath(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function checkAllowed(url: URL, allowed: readonly string[]): void {
  if (url.username || url.password) throw new TransportError('origin_rejected', 'URLs with credentials are not allowed');
  if (!isSecureUrl(url)) {
    throw new TransportError('origin_rejected', 'Only https URLs are allowed');
  }
  const target = originAndPath(url);
  const ok = allowed.some((a) => {
    try {
      return originAndPath(new URL(a)) === target;
    } catch {
      return false;
    }
  });
  if (!ok) throw new TransportError('origin_rejected', 'The URL is not in the allow-list');
}

/**
 * Encodes a message into the fragment of an allow-listed https URL:
 * `https://wallet.example/push#pp=<base64url(JSON)>`. The fragment never
 * reaches a server.
 *
 * @example
 * ```ts
 * const url = encodeMessageUrl('https://wallet.example/push', invocation, { allowedUrls: ['https://wallet.example/push'] });
 * ```
 */
export function encodeMessageUrl(baseUrl: string, message: AppMessage, options: UrlCodecOptions): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch (cause) {
    throw new TransportError('origin_rejected', 'The destination is not a URL', { cause });
  }
  checkAllowed(url, options.allowedUrls);
  const checked = parseAppMessage(message);
  url.hash = `${URL_MESSAGE_PARAM}=${toBase64Url(utf8(JSON.stringify(checked)))}`;
  const out = url.toString();
  if (out.length > (options.maxLength ?? DEFAULT_MAX_URL_LENGTH)) throw new SchemaError('payload_too_large', 'The message does not fit in a URL');
  return out;
}

/**
 * Decodes a message from a URL made by {@link encodeMessageUrl}. Strict: the
 * URL must be allow-listed and within the size limit; the fragment must be
 * exactly one `pp` parameter of base64url characters; duplicate or extra
 * parameters, junk characters and oversize input are refused. The message is
 * then schema-checked.
 *
 * @example
 * ```ts
 * const message = decodeMessageUrl(location.href, { allowedUrls: [location.origin + location.pathname] });
 * ```
 */
export function decodeMessageUrl(rawUrl: string, options: UrlCodecOptions): AppMessage {
  if (typeof rawUrl !== 'string') throw new SchemaError('invalid_message', 'The URL must be a string');
  if (rawUrl.length > (options.maxLength ?? DEFAULT_MAX_URL_LENGTH)) throw new SchemaError('payload_too_large', 'The URL is too long');
  if (/[^\x21-\x7e]/.test(rawUrl)) throw new SchemaError('invalid_message', 'The URL holds characters outside printable ASCII');
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch (cause) {
    throw new SchemaError('invalid_message', 'Not a URL', { cause });
  }
  checkAllowed(url, options.allowedUrls);
  const fragment = url.hash.startsWith('#') ? url.hash.slice(1) : '';
  const params = fragment.split('&');
  if (params.length !== 1) throw new SchemaError('invalid_message', 'The URL fragment must hold exactly one parameter');
  const [name, value, ...rest] = params[0]!.split('=');
  if (name !== URL_MESSAGE_PARAM || value === undefined || rest.length > 0 || !/^[A-Za-z0-9_-]+$/.test(value)) {
    throw new SchemaError('invalid_message', 'The URL fragment is malformed');
  }
  let text: string;
  try {
    text = fromUtf8(fromBase64Url(value));
  } catch (cause) {
    throw new SchemaError('invalid_message', 'The URL payload is not base64url UTF-8', { cause });
  }
  return parseAppMessage(text);
}

/** Options of {@link createUrlChannel}. */
export interface UrlChannelOptions {
  /** Opens a URL in the other app (deep link, universal link, `window.open`, …). Provided by the host. */
  openUrl: (url: string) => void | Promise<void>;
  /** Where this side sends messages (the other app's link). Must be in `allowedPeerUrls`. */
  peerUrl: string;
  /** The other app's URLs messages may be sent to. */
  allowedPeerUrls: readonly string[];
  /** This app's own URLs, at which incoming links are accepted. */
  ownUrls: readonly string[];
  maxLength?: number;
}

/** An {@link AppChannel} over URLs: `send` opens a link; the host passes incoming links to `handleUrl`. */
export class UrlAppChannel extends BaseAppChannel {
  readonly #options: UrlChannelOptions;
  #peerUrl: string;

  constructor(options: UrlChannelOptions) {
    super();
    this.#options = options;
    this.#peerUrl = options.peerUrl;
  }

  /** Changes where replies go (for example to the invocation's `replyTo`); it must be allow-listed. */
  setPeerUrl(url: string): void {
    checkAllowed(new URL(url), this.#options.allowedPeerUrls);
    this.#peerUrl = url;
  }

  async send(message: AppMessage): Promise<void> {
    this.assertOpen();
    const url = encodeMessageUrl(this.#peerUrl, message, { allowedUrls: this.#options.allowedPeerUrls, maxLength: this.#options.maxLength });
    try {
      await this.#options.openUrl(url);
    } catch (cause) {
      throw new TransportError('network_error', 'The other app could not be opened', { cause });
    }
  }

  /** Feeds a URL the app was opened with. Refused URLs go to error listeners; returns whether it was accepted. */
  handleUrl(url: string): boolean {
    try {
      this.deliver(decodeMessageUrl(url, { allowedUrls: this.#options.ownUrls, maxLength: this.#options.maxLength }));
      return true;
    } catch (error) {
      this.reject(toProvisioningError(error, 'invalid_message'));
      return false;
    }
  }
}

/**
 * Creates a URL / deep-link channel.
 *
 * @example
 * ```ts
 * const channel = createUrlChannel({
 *   openUrl: (url) => Linking.openURL(url),
 *   peerUrl: 'https://wallet.example/push',
 *   allowedPeerUrls: ['https://wallet.example/push'],
 *   ownUrls: ['https://bank.example/wallet-return'],
 * });
 * Linking.addEventListener('url', ({ url }) => channel.handleUrl(url));
 * ```
 */
export function createUrlChannel(options: UrlChannelOptions): UrlAppChannel {
  return new UrlAppChannel(options);
}
