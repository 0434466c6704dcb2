import { createError } from '../errors.js';
import { isSecureUrl } from '../schemas/primitives.js';

/**
 * A `message` event as the browser channels read it: `window`'s
 * `MessageEvent` fits.
 *
 * @example
 * ```ts
 * window.addEventListener('message', (event: MessageEventLike) => console.log(event.origin));
 * ```
 */
export interface MessageEventLike {
  readonly origin: string;
  readonly source: unknown;
  readonly data: unknown;
}

/**
 * Checks one allowed origin of a browser channel and returns it: a
 * serialised origin (`https://bank.example`, no path, no trailing slash),
 * https or loopback http ({@link isSecureUrl}), with a plain host name or an
 * IP literal (no wildcards, no `"null"`). Anything else throws
 * `configuration_invalid`, naming the `role` the origin was given for.
 *
 * @example
 * ```ts
 * checkExactOrigin('https://wallet.example', 'Wallet'); // 'https://wallet.example'
 * ```
 */
export function checkExactOrigin(origin: unknown, role: 'Wallet' | 'Issuer'): string {
  let url: URL | undefined;
  try {
    url = typeof origin === 'string' ? new URL(origin) : undefined;
  } catch {
    url = undefined;
  }
  const plainHost = url !== undefined && /^([a-z0-9-]+\.)*[a-z0-9-]+$|^\[[0-9a-f:.]+\]$/.test(url.hostname);
  if (!url || !plainHost || url.origin !== origin || !isSecureUrl(url)) {
    throw createError('configuration_invalid', `${role} origins must be exact https origins such as https://${role === 'Wallet' ? 'wallet' : 'bank'}.example`);
  }
  return origin as string;
}
