import { base64url } from 'jose';

/** Encodes bytes as unpadded base64url. */
export function toBase64Url(bytes: Uint8Array): string {
  return base64url.encode(bytes);
}

/** Decodes unpadded base64url; throws on any other character. */
export function fromBase64Url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new TypeError('not base64url');
  return base64url.decode(text);
}

const encoder = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF in the text, so strict parsers refuse it
// instead of the decoder silently dropping it.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 encodes a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8 strictly (invalid sequences throw). */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}
