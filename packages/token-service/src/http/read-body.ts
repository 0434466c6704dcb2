import type { IncomingMessage } from 'node:http';
import { SchemaError, TransportError } from '@pushprov/protocol';

// The Fetch body reader is the protocol's, shared with the issuer backend handler;
// re-exported here so existing imports of the token service keep working.
export { readBodyWithLimit } from '@pushprov/protocol';

// As in the protocol's reader: `ignoreBOM: true` keeps a leading byte-order mark, so the
// strict JSON parser refuses it (`invalid_json`) instead of the decoder dropping it.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * `readBodyWithLimit` for a Node `IncomingMessage`, with the same rules:
 * `payload_too_large` by `Content-Length` before reading, then as soon as
 * the bytes read pass `maxBytes` (a body without a length, or one that
 * lies, is cut off at the limit: reading stops there); invalid UTF-8 is
 * `invalid_json`; a leading byte-order mark is kept for the strict JSON
 * parser to refuse. A body the client abandons is `aborted`. It reads the
 * socket's chunks directly, without a web `ReadableStream` in between, which
 * on Node costs more than the rest of the HTTP handling of a request.
 *
 * @example
 * ```ts
 * const text = await readIncomingBodyWithLimit(c.env.incoming, 32 * 1024);
 * ```
 */
export function readIncomingBodyWithLimit(incoming: IncomingMessage, maxBytes: number): Promise<string> {
  const tooLarge = () => new SchemaError('payload_too_large', `The body is larger than ${maxBytes} bytes`);
  const declared = incoming.headers['content-length']?.trim();
  if (declared !== undefined && /^[0-9]{1,16}$/.test(declared) && Number(declared) > maxBytes) return Promise.reject(tooLarge());
  if (incoming.readableEnded) return Promise.reject(new TransportError('aborted', 'The request body was already read'));
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onAbort);
      incoming.off('close', onAbort);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        // Read no further. Node discards the rest once the answer is sent, and the
        // answer closes the connection (see create-app), so the rest cannot run on.
        stop();
        incoming.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      try {
        resolve(decoder.decode(Buffer.concat(chunks, size)));
      } catch (cause) {
        reject(new SchemaError('invalid_json', 'The body is not valid UTF-8', { cause }));
      }
    };
    const onAbort = (cause?: unknown) => {
      stop();
      reject(new TransportError('aborted', 'The client stopped sending the body', cause instanceof Error ? { cause } : {}));
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onAbort);
    incoming.on('close', onAbort);
  });
}
