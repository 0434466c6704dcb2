import { describe, expect, it } from 'vitest';
import { ERROR_CODES, createError, errorFromHttpResponse, parseProblemDetails, toProblemDetails } from '../src/index.js';

const PAN = '4111111111111111';

describe('toProblemDetails', () => {
  it.each(ERROR_CODES)('produces valid problem details for %s that map back to the same code', (code) => {
    const problem = toProblemDetails(createError(code, `failed for ${PAN}`), 'req_1');
    expect(parseProblemDetails(problem)).toMatchObject({ code, status: problem.status, requestId: 'req_1' });
    expect(JSON.stringify(problem)).not.toContain(PAN);
    const back = errorFromHttpResponse({ status: problem.status, contentType: 'application/problem+json', body: JSON.stringify(problem) });
    expect(back.code).toBe(code);
    expect(back.retryable).toBe(problem.retryable);
    expect(back.requestId).toBe('req_1');
  });

  it('gives internal errors no detail, only their title', () => {
    const problem = toProblemDetails(createError('internal_error', 'database at /var/secret failed'));
    expect(problem.detail).toBeUndefined();
    expect(problem.title).toBe('Internal error');
  });

  it('carries schema issues (paths, never values)', () => {
    const error = createError('invalid_message', 'bad', { details: { issues: [`card.pan: must be digits ${PAN}`] } });
    const problem = toProblemDetails(error);
    expect(problem.issues).toHaveLength(1);
    expect(problem.issues?.[0]).not.toContain(PAN);
  });
});

describe('errorFromHttpResponse', () => {
  it.each([
    [400, 'invalid_message'],
    [401, 'unauthenticated'],
    [403, 'forbidden'],
    [404, 'not_found'],
    [405, 'method_not_allowed'],
    [413, 'payload_too_large'],
    [415, 'unsupported_media_type'],
    [429, 'rate_limited'],
    [418, 'invalid_message'],
    [500, 'server_error'],
    [503, 'server_error'],
  ] as const)('maps a bare %i to %s', (status, code) => {
    const error = errorFromHttpResponse({ status, contentType: 'text/plain', body: 'oops', requestId: 'req_h', peer: 'The token service' });
    expect(error).toMatchObject({ code, status, requestId: 'req_h' });
    expect(error.message).toBe(`The token service answered ${status}`);
  });

  it('falls back to the status when a JSON body is not problem details', () => {
    const error = errorFromHttpResponse({ status: 502, contentType: 'application/json', body: '{"code":"nope"}' });
    expect(error.code).toBe('server_error');
    expect(error.retryable).toBe(true);
  });

  it('never echoes a PAN a server put into its detail', () => {
    const body = JSON.stringify({ type: 'x', title: 't', status: 422, code: 'card_invalid', retryable: false, detail: `bad card ${PAN}` });
    const error = errorFromHttpResponse({ status: 422, contentType: 'application/problem+json', body });
    expect(error.code).toBe('card_invalid');
    expect(`${error.message} ${JSON.stringify(error)} ${String(error)}`).not.toContain(PAN);
  });
});
