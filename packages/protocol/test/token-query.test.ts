// The wallet provider's token query (spec sections 4.21 and 7.14): the body's
// limits and the answer's closed shape. The generic message checks (unknown
// members, versions, strict JSON, size) run from MESSAGE_CASES.
import { describe, expect, it } from 'vitest';
import {
  MAX_QUERY_ACCOUNTS,
  MAX_TOKEN_QUERY_TOKENS,
  ProvisioningError,
  type TokenQueryEntry,
  parseTokenQuery,
  parseTokenQueryResponse,
} from '../src/index.js';
import { sampleTokenQuery } from './helpers/samples.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ProvisioningError);
    return (error as ProvisioningError).code;
  }
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `acc-${i}`);

const entry = (overrides: Partial<TokenQueryEntry> = {}): TokenQueryEntry => ({
  tokenReferenceId: 'tok_abc',
  accountId: 'acc-1',
  deviceId: 'device-7',
  status: 'pending_activation',
  activationStarted: true,
  ...overrides,
});

describe('token query', () => {
  it('accepts 1 to MAX_QUERY_ACCOUNTS distinct account ids', () => {
    expect(MAX_QUERY_ACCOUNTS).toBe(16);
    for (const n of [1, 2, MAX_QUERY_ACCOUNTS]) {
      expect(parseTokenQuery({ ...sampleTokenQuery(), accountIds: ids(n) }).accountIds).toEqual(ids(n));
    }
  });

  it('refuses no account id, too many, and a duplicate with invalid_message', () => {
    expect(codeOf(() => parseTokenQuery({ ...sampleTokenQuery(), accountIds: [] }))).toBe('invalid_message');
    expect(codeOf(() => parseTokenQuery({ ...sampleTokenQuery(), accountIds: ids(MAX_QUERY_ACCOUNTS + 1) }))).toBe('invalid_message');
    expect(codeOf(() => parseTokenQuery({ ...sampleTokenQuery(), accountIds: ['acc-1', 'acc-2', 'acc-1'] }))).toBe('invalid_message');
  });

  it('refuses malformed ids, another type, and a walletProviderId member (the caller is the authenticated party)', () => {
    for (const [field, value] of [
      ['accountIds', ['has space']],
      ['accountIds', ['a'.repeat(129)]],
      ['accountIds', 'acc-1'],
      ['walletAccountId', ''],
      ['issuerId', 'Bank-A'],
      ['type', 'token-status'],
    ] as const) {
      expect(codeOf(() => parseTokenQuery({ ...sampleTokenQuery(), [field]: value })), field).toBe('invalid_message');
    }
    expect(codeOf(() => parseTokenQuery({ ...sampleTokenQuery(), walletProviderId: 'wallet-co' }))).toBe('invalid_message');
  });

  it('names the schema failure by path, never by the value it refused', () => {
    try {
      parseTokenQuery({ ...sampleTokenQuery(), accountIds: ['4111111111111111', '4111111111111111'] });
      expect.unreachable();
    } catch (error) {
      expect(JSON.stringify((error as ProvisioningError).toJSON())).not.toContain('4111111111111111');
    }
  });
});

describe('token query response', () => {
  it('accepts live statuses with and without a started activation, and no tokens', () => {
    const tokens = [entry(), entry({ status: 'active', activationStarted: false }), entry({ status: 'suspended', activationStarted: false })];
    expect(parseTokenQueryResponse(JSON.stringify({ tokens }))).toEqual({ tokens });
    expect(parseTokenQueryResponse('{"tokens":[]}')).toEqual({ tokens: [] });
  });

  it('refuses a status that is not live, an unknown member (no numbers or last four), and too many tokens', () => {
    for (const status of ['deleted', 'expired']) {
      expect(codeOf(() => parseTokenQueryResponse({ tokens: [{ ...entry(), status }] })), status).toBe('invalid_message');
    }
    for (const extra of [{ tokenLast4: '1234' }, { panLast4: '1111' }, { tokenNumber: '4111111111111111' }, { walletProviderId: 'wallet-co' }]) {
      expect(codeOf(() => parseTokenQueryResponse({ tokens: [{ ...entry(), ...extra }] })), Object.keys(extra)[0]).toBe('invalid_message');
    }
    expect(codeOf(() => parseTokenQueryResponse({ tokens: [{ ...entry(), activationStarted: 'yes' }] }))).toBe('invalid_message');
    const many = Array.from({ length: MAX_TOKEN_QUERY_TOKENS + 1 }, (_, i) => entry({ tokenReferenceId: `tok_${i}` }));
    expect(codeOf(() => parseTokenQueryResponse({ tokens: many }))).toBe('invalid_message');
    expect(parseTokenQueryResponse({ tokens: many.slice(1) }).tokens).toHaveLength(MAX_TOKEN_QUERY_TOKENS);
  });

  it('parses the largest answer (MAX_TOKEN_QUERY_TOKENS tokens, every id at its longest) from JSON text', () => {
    const long = (i: number, c: string) => `${String(i).padStart(3, '0')}${c.repeat(125)}`;
    const tokens = Array.from({ length: MAX_TOKEN_QUERY_TOKENS }, (_, i) =>
      entry({ tokenReferenceId: long(i, 't'), accountId: long(i, 'a'), deviceId: long(i, 'd'), status: 'pending_activation', activationStarted: false }),
    );
    const text = JSON.stringify({ tokens });
    expect(text.length).toBeLessThanOrEqual(65_536);
    expect(parseTokenQueryResponse(text).tokens).toHaveLength(MAX_TOKEN_QUERY_TOKENS);
  });
});
