import { SchemaError } from '../errors.js';

// `ignoreBOM: true` keeps a leading byte-order mark, so the strict JSON parser
// refuses it (`invalid_json`) instead of the decoder silently dropping it.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
// Answers are decoded as `Response.text()` does: invalid sequences become U+FFFD
// (what the body says is checked by the parser after, and an error body need not be JSON).
const lenientDecoder = new TextDecoder();

/** True when a `Content-Length` header value announces more than `maxBytes`. */
const declaresMore = (contentLength: string | null | undefined, maxBytes: number): boolean => {
  const declared = contentLength?.trim();
  return declared !== undefined && /^[0-9]{1,16}$/.test(declared) && Number(declared) > maxBytes;
};

/**
 * Reads a stream to its end, or throws `tooLarge()` (after cancelling it) as
 * soon as more than `maxBytes` have arrived. Returns the bytes.
 */
async function readAtMost(body: ReadableStream<Uint8Array>, maxBytes: number, tooLarge: () => Error): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * Reads a Fetch `Request` body as UTF-8 text for a server of this protocol,
 * refusing it with `payload_too_large` as soon as it exceeds `maxBytes`:
 * first by its `Content-Length`, then while streaming (a body without a
 * length, or one that lies, is cut off at the limit). Invalid UTF-8 is
 * `invalid_json`; a leading byte-order mark is kept for the strict JSON
 * parser to refuse.
 *
 * @example
 * ```ts
 * const text = await readBodyWithLimit(request, 32 * 1024);
 * const submission = parseSubmission(text);
 * ```
 */
export async function readBodyWithLimit(request: Request, maxBytes: number): Promise<string> {
  const tooLarge = () => new SchemaError('payload_too_large', `The body is larger than ${maxBytes} bytes`);
  if (declaresMore(request.headers.get('content-length'), maxBytes)) throw tooLarge();
  if (request.body === null) return '';
  const bytes = await readAtMost(request.body, maxBytes, tooLarge);
  try {
    return decoder.decode(bytes);
  } catch (cause) {
    throw new SchemaError('invalid_json', 'The body is not valid UTF-8', { cause });
  }
}

/** A `fetch` answer, as far as {@link readResponseText} reads it (a `Response` fits). */
export interface ResponseBodyLike {
  readonly headers: { get(name: string): string | null };
  /** The body as a stream, where the `fetch` has one (browsers, Node, recent React Native). */
  readonly body?: ReadableStream<Uint8Array> | null;
  text(): Promise<string>;
}

/**
 * Reads a `fetch` answer's body as text for a client of this protocol, and
 * throws `tooLarge()` as soon as it passes `maxBytes`: first by its
 * `Content-Length`, then while streaming, so an answer without a length (or
 * one that never ends) is cut off at the limit instead of filling memory
 * until the timeout. Decoded like `Response.text()`. A response without a
 * body stream (a test double) is read with `text()` and checked after.
 *
 * @example
 * ```ts
 * const text = await readResponseText(response, 64 * 1024, () => createError('payload_too_large', 'The answer is too large'));
 * ```
 */
export async function readResponseText(response: ResponseBodyLike, maxBytes: number, tooLarge: () => Error): Promise<string> {
  if (declaresMore(response.headers.get('content-length'), maxBytes)) throw tooLarge();
  const body = response.body;
  if (body === undefined || body === null || typeof body.getReader !== 'function') {
    const text = await response.text();
    // Each UTF-16 unit is at least one byte of UTF-8: longer than maxBytes units is too large.
    if (text.length > maxBytes) throw tooLarge();
    return text;
  }
  return lenientDecoder.decode(await readAtMost(body, maxBytes, tooLarge));
}
