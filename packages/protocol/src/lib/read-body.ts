import { SchemaError } from '../errors.js';

// `ignoreBOM: true` keeps a leading byte-order mark, so the strict JSON parser
// refuses it (`invalid_json`) instead of the decoder silently dropping it.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

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
  const declared = request.headers.get('content-length')?.trim();
  if (declared !== undefined && /^[0-9]{1,16}$/.test(declared) && Number(declared) > maxBytes) throw tooLarge();
  if (request.body === null) return '';
  const reader = request.body.getReader();
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
  try {
    return decoder.decode(bytes);
  } catch (cause) {
    throw new SchemaError('invalid_json', 'The body is not valid UTF-8', { cause });
  }
}
