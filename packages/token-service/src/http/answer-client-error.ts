import type { Duplex } from 'node:stream';
import { type ErrorCode, PROBLEM_CONTENT_TYPE, createError, createId, toProblemDetails } from '@pushprov/protocol';
import type { Logger } from '../log/logger.js';
import type { TokenService } from '../service/create-token-service.js';

const REASONS: Partial<Record<number, string>> = { 400: 'Bad Request', 413: 'Content Too Large' };

/**
 * A `clientError` listener for the Node HTTP server: a request that Node's
 * HTTP parser refuses before the app sees it (malformed request line or
 * headers, both `Content-Length` and `Transfer-Encoding`, headers over the
 * size limit) is answered like every other error, with RFC 9457 problem
 * details carrying the protocol's code (`payload_too_large` for oversize
 * headers, `invalid_message` otherwise) and an `X-Request-Id`, logged as one
 * request line, and the connection closed. Nothing of the request is echoed.
 *
 * @example
 * ```ts
 * server.on('clientError', answerClientError(service, logger));
 * ```
 */
export function answerClientError(service: TokenService, logger: Logger): (error: Error & { code?: string }, socket: Duplex) => void {
  return (error, socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const code: ErrorCode = error.code === 'HPE_HEADER_OVERFLOW' ? 'payload_too_large' : 'invalid_message';
    const requestId = createId('req', service.random);
    const problem = toProblemDetails(createError(code, 'The HTTP request is malformed or too large'), requestId);
    const body = JSON.stringify(problem);
    socket.end(
      `HTTP/1.1 ${problem.status} ${REASONS[problem.status] ?? 'Bad Request'}\r\n` +
        `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${requestId}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
    );
    logger.info({ msg: 'request', requestId, status: problem.status, code, durationMs: 0 });
  };
}
