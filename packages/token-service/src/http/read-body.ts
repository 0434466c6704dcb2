import { SchemaError } from '@pushprov/protocol';

/**
 * Reads a request body as UTF-8 text, refusing it with `payload_too_large`
 * as soon as it exceeds `maxBytes`: first by its `Content-Length`, then while
 * streaming (a body without a length, or one that lies, is cut off at the
 * limit). Invalid UTF-8 is `invalid_json`. A leading byte-order mark is
 * kept, so the strict JSON parser refuses it (`invalid_json`) as the
 * protocol requires, instead of the decoder silently dropping it.
 *
 * @example
 * ```ts
 * const text = await readBodyWithLimit(request, 32 * 1024);
 * ```
 */
export async function readBodyWithLimit(request: Request, maxBytes: number): Promise<string> {
  const tooLarge = () => new SchemaError('payload_too_large', `The body is larger than ${maxBytes} bytes`);
  const declared = request.headers.get('content-length');
  if (declared !== null && /^[0-9]{1,16}$/.test(declared.trim()) && Number(declared.trim()) > maxBytes) throw tooLarge();
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
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (cause) {
    throw new SchemaError('invalid_json', 'The body is not valid UTF-8', { cause });
  }
}
