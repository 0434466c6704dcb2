/**
 * HTTP helpers of the protocol: RFC 9457 problem details both ways, and
 * reading request and response bodies with a size limit.
 *
 * @packageDocumentation
 * @module @pushprov/protocol/http
 */
export * from './problem.js';
export { readBodyWithLimit, readResponseText, type ResponseBodyLike } from './lib/read-body.js';
