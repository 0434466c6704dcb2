import * as z from 'zod/mini';
import { isErrorCode } from '../errors.js';
import { zInteger } from './primitives.js';

/**
 * RFC 9457 problem details, as every token service and issuer backend error
 * is sent (`application/problem+json`), carrying the protocol's error code.
 * Unknown extension members are allowed (RFC 9457 §3.2) but ignored.
 */
export const zProblemDetails = /* @__PURE__ */ (() =>
  z.looseObject({
    type: z.string().check(z.maxLength(512)),
    title: z.string().check(z.maxLength(256)),
    status: zInteger(400, 599),
    detail: z.optional(z.string().check(z.maxLength(1024))),
    instance: z.optional(z.string().check(z.maxLength(512))),
    code: z.string().check(z.refine(isErrorCode, 'must be a protocol error code')),
    retryable: z.boolean(),
    requestId: z.optional(z.string().check(z.maxLength(128))),
    /** The provisioning attempt's correlation id, when the caller sent one. */
    correlationId: z.optional(z.string().check(z.maxLength(128))),
    /** `verification_code_invalid` only: how many attempts the method has left for this token. */
    attemptsLeft: z.optional(zInteger(0, 100)),
  })
)();
/** RFC 9457 problem details with the protocol's code. */
export type ProblemDetails = z.infer<typeof zProblemDetails>;

/** The media type of problem details. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The `type` URI prefix of problem details; the code is appended. */
export const PROBLEM_TYPE_BASE = 'https://pushprov.dev/problems/';
