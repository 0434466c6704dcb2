import { readFileSync } from 'node:fs';
import { compactDecrypt, compactVerify, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  ERROR_CATALOG,
  ERROR_CODES,
  INVOCATION_JWS_TYP,
  MAX_QUERY_ACCOUNTS,
  MAX_SESSION_ACCOUNTS,
  PROTOCOL_VERSION,
  REQUEST_JWS_TYP,
  STATUS_QUERY_JWS_TYP,
  canonicalJson,
  parseStrictJson,
} from '../src/index.js';
import { headerOf } from '../scripts/lib/jose-craft.js';
import { runVector } from '../scripts/lib/run-vector.js';
import type { ProvisioningRequestInput, VectorCase, VectorFile } from '../scripts/lib/vector-types.js';

const text = readFileSync(new URL('../vectors/vectors.json', import.meta.url), 'utf8');
const file = JSON.parse(text) as VectorFile;
const cases = file.cases;
const positive = cases.filter((c) => c.expected.outcome === 'ok');
const negative = cases.filter((c) => c.expected.outcome === 'error');

describe('the vector file', () => {
  it('is strict JSON of the documented format', () => {
    expect(() => parseStrictJson(text, { maxLength: 2_000_000, maxDepth: 16 })).not.toThrow();
    expect(file.format).toBe('pushprov-conformance-vectors');
    expect(file.formatVersion).toBe(1);
    expect(file.protocolVersion).toBe(PROTOCOL_VERSION);
  });

  it('has at least 30 cases, at least 20 of them negative', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expect(negative.length).toBeGreaterThanOrEqual(20);
    expect(positive.length + negative.length).toBe(cases.length);
  });

  it('gives every case a unique kebab-case id, a title, a description and a known kind', () => {
    const kinds = ['provisioning-request', 'message', 'message-url', 'access-data', 'invocation-signature', 'status-query-signature', 'account-state', 'status-answer', 'client-assertion', 'problem-details'];
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
    for (const c of cases) {
      expect(c.id).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
      expect(c.title.length).toBeGreaterThan(5);
      expect(c.description.length).toBeGreaterThan(5);
      expect(kinds).toContain(c.kind);
      if (c.expected.outcome === 'error') expect(ERROR_CODES).toContain(c.expected.code);
    }
    for (const kind of kinds) expect(cases.some((c) => c.kind === kind), kind).toBe(true);
  });

  it('covers every code of the error catalog', () => {
    const covered = new Set<string>();
    for (const c of cases) {
      if (c.expected.outcome === 'error') covered.add(c.expected.code);
      else if (c.kind === 'problem-details') covered.add(c.expected.code as string);
    }
    expect(ERROR_CODES.filter((code) => !covered.has(code))).toEqual([]);
  });

  it('has positive and negative provisioning requests, with ES256 and EdDSA among the positive', () => {
    const requests = cases.filter((c): c is Extract<VectorCase, { kind: 'provisioning-request' }> => c.kind === 'provisioning-request');
    const ok = requests.filter((c) => c.expected.outcome === 'ok');
    expect(ok.length).toBeGreaterThanOrEqual(5);
    expect(requests.length - ok.length).toBeGreaterThanOrEqual(20);
    const algs = new Set(ok.map((c) => (c.expected as unknown as { jwsHeader: { alg: string } }).jwsHeader.alg));
    expect([...algs].sort()).toEqual(['ES256', 'EdDSA']);
  });

  it('never lets a vector expire with the wall clock', () => {
    const now = Date.now() / 1000;
    for (const c of cases) {
      if (c.kind === 'provisioning-request' || c.kind === 'client-assertion') expect(c.input.now, c.id).toBeGreaterThan(now + 50 * 365 * 86_400);
      if (c.kind === 'provisioning-request' && c.expected.outcome === 'ok') {
        expect((c.expected.claims as { exp: number }).exp, c.id).toBeGreaterThan(now + 50 * 365 * 86_400);
      }
    }
  });
});

describe('every vector through the TypeScript implementation', () => {
  it.each(cases.map((c) => [c.id, c] as const))('%s', async (_id, vector) => {
    const actual = await runVector(vector);
    if (vector.expected.outcome === 'error') {
      expect(actual).toEqual(vector.expected);
    } else {
      expect(actual.outcome).toBe('ok');
      for (const [key, value] of Object.entries(vector.expected)) expect((actual as Record<string, unknown>)[key], key).toEqual(value);
    }
  });
});

describe('positive provisioning requests, checked with plain jose as another implementation would', () => {
  const requests = positive.filter((c): c is Extract<VectorCase, { kind: 'provisioning-request' }> => c.kind === 'provisioning-request');

  it.each(requests.map((c) => [c.id, c] as const))('%s decrypts and verifies with the keys it carries', async (_id, vector) => {
    const input: ProvisioningRequestInput = vector.input;
    const expected = vector.expected as Record<string, unknown>;
    const header = headerOf(input.jwe);
    expect(header).toEqual(expected.jweHeader);
    expect(header).toMatchObject({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', cty: 'JWT' });
    const decryptionKey = input.decryptionKeys.keys.find((k) => k.kid === header.kid)!;
    const { plaintext } = await compactDecrypt(input.jwe, await importJWK(decryptionKey, 'ECDH-ES+A256KW'));
    const jws = new TextDecoder().decode(plaintext);
    expect(jws).toBe(expected.jws);
    const jwsHeader = headerOf(jws);
    expect(jwsHeader).toEqual({ alg: jwsHeader.alg, kid: jwsHeader.kid, typ: REQUEST_JWS_TYP });
    const claims = expected.claims as { iss: string };
    const issuerKey = input.trustedIssuers[claims.iss]!.keys.find((k) => k.kid === jwsHeader.kid)!;
    const { payload } = await compactVerify(jws, await importJWK(issuerKey, issuerKey.alg));
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual(expected.claims);
  });

  it('records the randomness the JWE was made with', () => {
    for (const c of requests) {
      const random = c.input.random!;
      expect(random, c.id).toBeDefined();
      expect(random.epk).toMatchObject({ kty: 'EC', crv: 'P-256' });
      expect((headerOf(c.input.jwe).epk as { x: string }).x).toBe((random.epk as { x: string }).x);
      expect(c.input.jwe.split('.')[2]).toBe(random.iv);
    }
  });
});

describe('problem-details vectors agree with the catalog', () => {
  it.each(positive.filter((c) => c.kind === 'problem-details').map((c) => [c.id, c] as const))('%s', (_id, vector) => {
    const { code, status, retryable, family } = vector.expected as unknown as { code: keyof typeof ERROR_CATALOG; status: number; retryable: boolean; family: string };
    expect({ status, retryable, family }).toEqual({
      status: ERROR_CATALOG[code].status,
      retryable: ERROR_CATALOG[code].retryable,
      family: ERROR_CATALOG[code].family,
    });
  });
});

describe('several accounts, status queries and wallet-initiated provisioning (issue 16)', () => {
  const byId = new Map(cases.map((c) => [c.id, c]));
  const get = (id: string) => {
    const c = byId.get(id);
    expect(c, id).toBeDefined();
    return c!;
  };
  const json = (id: string) => JSON.parse((get(id).input as { json: string }).json) as Record<string, unknown>;

  it('has a valid vector of every new and changed message', () => {
    const types: Record<string, string> = {
      'msg-invocation-accounts-valid': 'invocation',
      'msg-identifiers-account-ids-valid': 'identifiers',
      'msg-request-accounts-valid': 'provisioning-request',
      'msg-result-accounts-partial': 'result',
      'msg-status-query-valid': 'status-query',
      'msg-status-response-valid': 'status-response',
      'msg-accounts-request-valid': 'accounts-request',
      'msg-accounts-refusal-valid': 'accounts-refusal',
    };
    for (const [id, type] of Object.entries(types)) {
      expect(get(id).expected.outcome, id).toBe('ok');
      expect(json(id).type, id).toBe(type);
    }
    for (const id of ['inv-accounts-valid', 'inv-wallet-nonce-valid', 'sq-valid-es256', 'sq-valid-eddsa']) expect(get(id).expected, id).toEqual({ outcome: 'ok' });
    expect((get('inv-wallet-nonce-valid').input as { invocation: { walletNonce?: string } }).invocation.walletNonce).toBe(json('msg-accounts-request-valid').nonce);
  });

  it('puts the limits right at their boundary', () => {
    expect((json('msg-invocation-nine-accounts').accounts as unknown[]).length).toBe(MAX_SESSION_ACCOUNTS + 1);
    expect((json('msg-status-query-17-ids').accountIds as unknown[]).length).toBe(MAX_QUERY_ACCOUNTS + 1);
    const partial = json('msg-result-accounts-partial') as { status: string; accounts: { status: string }[] };
    expect(partial.accounts.map((a) => a.status).sort()).toEqual(['declined', 'provisioned']);
    expect(partial.status).toBe('provisioned');
    expect(json('msg-result-status-not-summary').status).toBe('declined');
    for (const id of [
      'msg-invocation-nine-accounts',
      'msg-invocation-duplicate-account-ids',
      'msg-invocation-accounts-without-account-id',
      'msg-invocation-account-and-accounts',
      'msg-identifiers-duplicate-account-ids',
      'msg-request-duplicate-account-ids',
      'msg-result-duplicate-account-ids',
      'msg-result-status-not-summary',
      'msg-status-query-17-ids',
      'msg-status-query-duplicate-account-ids',
      'msg-status-query-unsigned',
      'sq-unsigned',
    ]) {
      expect(get(id).expected, id).toEqual({ outcome: 'error', code: 'invalid_message' });
    }
  });

  it('refuses a query signed by another issuer for the reason the spec gives', () => {
    const keysOf = (id: string) => (get(id).input as { issuerKeys: { keys: { kid: string }[] } }).issuerKeys.keys.map((k) => k.kid);
    const signatureOf = (id: string, member: 'query' | 'invocation') => (get(id).input as unknown as Record<typeof member, { signature: string }>)[member].signature;
    const kidOf = (id: string) => headerOf(signatureOf(id, 'query')).kid as string;
    // bank-b's own kid is not among bank-a's keys: no key to try
    expect(keysOf('sq-other-issuer-key')).not.toContain(kidOf('sq-other-issuer-key'));
    expect(get('sq-other-issuer-key').expected).toEqual({ outcome: 'error', code: 'unknown_issuer' });
    // another key under bank-a's kid: bank-a's key is tried and the signature does not verify
    expect(keysOf('sq-other-issuer-same-kid')).toContain(kidOf('sq-other-issuer-same-kid'));
    expect(get('sq-other-issuer-same-kid').expected).toEqual({ outcome: 'error', code: 'signature_invalid' });
    // one typ for each signed message: neither signature passes for the other
    expect(headerOf(signatureOf('sq-invocation-signature', 'query')).typ).toBe(INVOCATION_JWS_TYP);
    expect(get('sq-invocation-signature').expected).toEqual({ outcome: 'error', code: 'jws_header_rejected' });
    expect(headerOf(signatureOf('inv-status-query-signature', 'invocation')).typ).toBe(STATUS_QUERY_JWS_TYP);
    expect(get('inv-status-query-signature').expected).toEqual({ outcome: 'error', code: 'jws_header_rejected' });
  });

  const signedQueries = positive.filter((c): c is Extract<VectorCase, { kind: 'status-query-signature' }> => c.kind === 'status-query-signature');
  it.each(signedQueries.map((c) => [c.id, c] as const))('%s verifies with plain jose over the canonical JSON of the other members', async (_id, vector) => {
    const { signature, ...rest } = vector.input.query as { signature: string } & Record<string, unknown>;
    const header = headerOf(signature);
    expect(header).toEqual({ alg: header.alg, kid: header.kid, typ: STATUS_QUERY_JWS_TYP });
    const key = vector.input.issuerKeys.keys.find((k) => k.kid === header.kid)!;
    const { payload } = await compactVerify(signature, await importJWK(key, key.alg));
    expect(new TextDecoder().decode(payload)).toBe(canonicalJson(rest));
  });

  it('answers a status query only from the tokens of its verified issuer, one entry per queried id in order', () => {
    const answers = positive.filter((c): c is Extract<VectorCase, { kind: 'status-answer' }> => c.kind === 'status-answer');
    const responseOf = (c: VectorCase) => (c.expected as Record<string, unknown>).response as { issuerId: string; accounts?: { accountId: string; thisDevice: string; otherDevices: string }[] };
    const withAccounts = answers.filter((c) => responseOf(c).accounts !== undefined);
    expect(withAccounts.map((c) => c.id).sort()).toEqual(['sa-other-issuer-learns-nothing', 'sa-own-accounts']);
    for (const c of withAccounts) {
      const query = c.input.query as { issuerId: string; accountIds: string[] };
      const response = responseOf(c) as Required<ReturnType<typeof responseOf>>;
      expect(response.issuerId, c.id).toBe(query.issuerId);
      expect(response.accounts.map((a) => a.accountId), c.id).toEqual(query.accountIds);
      for (const account of response.accounts) {
        const held = c.input.tokens.filter((t) => t.accountId === account.accountId && t.issuerId === query.issuerId);
        // another issuer's token under the same id never counts
        if (held.length === 0) expect(account, `${c.id} ${account.accountId}`).toEqual({ accountId: account.accountId, thisDevice: 'not_added', otherDevices: 'not_added' });
        else expect([account.thisDevice, account.otherDevices].some((state) => state !== 'not_added'), `${c.id} ${account.accountId}`).toBe(true);
      }
    }
    // bank-b asks with ids under which bank-a holds tokens, and learns nothing of them
    const foreign = get('sa-other-issuer-learns-nothing') as Extract<VectorCase, { kind: 'status-answer' }>;
    const asked = foreign.input.query as { issuerId: string; accountIds: string[] };
    const tokens = foreign.input.tokens;
    expect(tokens.some((t) => t.issuerId !== asked.issuerId && asked.accountIds.includes(t.accountId))).toBe(true);
    // a refused query names no account
    for (const c of answers.filter((a) => !withAccounts.includes(a))) expect(Object.keys(responseOf(c)), c.id).not.toContain('accounts');
  });

  it('states the account-state precedence of the spec', () => {
    const states = cases.filter((c): c is Extract<VectorCase, { kind: 'account-state' }> => c.kind === 'account-state');
    expect(states.map((c) => c.expected.outcome === 'ok' && c.expected.state).sort()).toEqual(['activating', 'added', 'needs_activation', 'not_added', 'suspended']);
  });
});
