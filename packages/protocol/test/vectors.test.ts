import { readFileSync } from 'node:fs';
import { compactDecrypt, compactVerify, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, ERROR_CODES, PROTOCOL_VERSION, REQUEST_JWS_TYP, parseStrictJson } from '../src/index.js';
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
    const kinds = ['provisioning-request', 'message', 'message-url', 'access-data', 'invocation-signature', 'status-query-signature', 'account-state', 'client-assertion', 'problem-details'];
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
