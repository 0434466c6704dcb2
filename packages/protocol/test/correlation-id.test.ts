// The correlation id of docs/protocol.md section 4.12: its format, the
// optional member of the four app messages, problem details and the errors
// built from them, and withCorrelationId.
import { describe, expect, it } from 'vitest';
import {
  createCorrelationId,
  createError,
  errorFromHttpResponse,
  parseAppMessage,
  parseIdentifiers,
  parseInvocation,
  parseProblemDetails,
  parseProvisioningRequestMessage,
  parseResult,
  toProblemDetails,
  withCorrelationId,
  zCorrelationId,
} from '../src/index.js';
import { sampleIdentifiersMessage, sampleInvocation, sampleRequestMessage, sampleResult } from './helpers/samples.js';

describe('zCorrelationId', () => {
  it('accepts 1-128 characters of [A-Za-z0-9._-] without a run of 12 digits; fresh ones fit', () => {
    for (const ok of ['a', 'checkout-7f3a', 'cor_AbC-d_e.f', 'x'.repeat(128), '12345678901a', `order-${'9'.repeat(11)}`, createCorrelationId()]) {
      expect(zCorrelationId.safeParse(ok).success, ok).toBe(true);
    }
    for (const bad of ['', 'x'.repeat(129), 'has space', 'slash/id', 'ünicode', '4111111111111111', `case-${'1'.repeat(12)}-x`, 'line\nbreak']) {
      expect(zCorrelationId.safeParse(bad).success, bad).toBe(false);
    }
    expect(createCorrelationId()).toMatch(/^cor_[A-Za-z0-9_-]{22}$/);
    expect(createCorrelationId()).not.toBe(createCorrelationId());
  });

  it('is an optional member of the invocation, the identifiers, the provisioning request and the result; a malformed one is invalid_message', () => {
    const id = 'support-case-42';
    const messages = [
      [parseInvocation, sampleInvocation()],
      [parseIdentifiers, sampleIdentifiersMessage()],
      [parseProvisioningRequestMessage, sampleRequestMessage()],
      [parseResult, sampleResult()],
    ] as const;
    for (const [parse, message] of messages) {
      expect((parse as (m: unknown) => { correlationId?: string })(message).correlationId).toBeUndefined();
      expect((parse as (m: unknown) => { correlationId?: string })({ ...message, correlationId: id }).correlationId).toBe(id);
      expect(parseAppMessage(JSON.stringify({ ...message, correlationId: id })).correlationId).toBe(id);
      expect(() => (parse as (m: unknown) => unknown)({ ...message, correlationId: '4111111111111111' })).toThrow(expect.objectContaining({ code: 'invalid_message' }));
      expect(() => (parse as (m: unknown) => unknown)({ ...message, correlationId: 'bad id' })).toThrow(expect.objectContaining({ code: 'invalid_message' }));
    }
  });
});

describe('errors carry the correlation id', () => {
  it('withCorrelationId sets it once; toJSON and problem details carry it', () => {
    const error = createError('declined');
    expect(error.correlationId).toBeUndefined();
    expect(withCorrelationId(error, 'cor_first')).toBe(error);
    withCorrelationId(error, 'cor_second');
    expect(error.correlationId).toBe('cor_first');
    expect(error.toJSON()).toMatchObject({ code: 'declined', correlationId: 'cor_first' });
    expect(toProblemDetails(error, 'req_1')).toMatchObject({ code: 'declined', requestId: 'req_1', correlationId: 'cor_first' });
    expect(toProblemDetails(createError('declined'), 'req_1')).not.toHaveProperty('correlationId');
    expect(createError('expired', undefined, { correlationId: 'cor_x' }).correlationId).toBe('cor_x');
  });

  it('errorFromHttpResponse takes it from problem details, else from the X-Correlation-Id header', () => {
    const body = JSON.stringify(toProblemDetails(createError('device_mismatch', undefined, { correlationId: 'from-body' }), 'req_9'));
    expect(parseProblemDetails(body).correlationId).toBe('from-body');
    const fromBody = errorFromHttpResponse({ status: 422, contentType: 'application/problem+json', body, correlationId: 'from-header' });
    expect(fromBody).toMatchObject({ code: 'device_mismatch', requestId: 'req_9', correlationId: 'from-body' });
    const bare = errorFromHttpResponse({ status: 502, contentType: 'text/html', body: '<h1>Bad gateway</h1>', correlationId: 'from-header' });
    expect(bare).toMatchObject({ code: 'server_error', correlationId: 'from-header' });
  });
});
