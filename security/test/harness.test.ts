// The suite's own tools, checked against the real thing: the canary is a
// real card of the issuer's range, the detector finds its leaked forms, and a
// request crafted by hand (node:crypto, not a JOSE library) is accepted, so
// every refusal of a bent one in this suite is due to the bend alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isValidPan, panInRanges, parseProvisioningResponse } from '@pushprov/protocol';
import { CANARY_PAN, CANARY_PAN_2, findCanary } from '../src/canary.js';
import { countRows, listTables, readAllValues } from '../src/database.js';
import { expectNoCanary } from '../src/expectations.js';
import { type Harness, startHarness } from '../src/harness.js';
import { postSubmission } from '../src/http.js';
import { ISSUER_ED_KID, type Sandbox, buildRequest, createSandbox } from '../src/sandbox.js';

let sb: Sandbox;
let h: Harness;

beforeAll(async () => {
  sb = await createSandbox();
  h = await startHarness(sb);
});
afterAll(() => h?.dispose());

describe('the canary', () => {
  it('is a Luhn-valid card inside the sandbox issuer range, and so is the second one', () => {
    for (const pan of [CANARY_PAN, CANARY_PAN_2]) {
      expect(isValidPan(pan)).toBe(true);
      expect(panInRanges(pan, [{ start: '411111', end: '411111' }])).toBe(true);
    }
  });

  it('is found plain, grouped, reversed or without its last four, and not once masked', () => {
    expect(findCanary(`x${CANARY_PAN}y`)).toContain(CANARY_PAN);
    expect(findCanary('4111 1173 5560 8290')).toHaveLength(1);
    expect(findCanary('4111-1173-5560-8290')).toHaveLength(1);
    expect(findCanary([...CANARY_PAN].reverse().join(''))).toHaveLength(1);
    expect(findCanary({ nested: { pan: CANARY_PAN.slice(0, 12) } })).toHaveLength(1);
    expect(findCanary(new Error('bad', { cause: new Error(`pan ${CANARY_PAN_2}`) }))).toContain(CANARY_PAN_2);
    expect(findCanary('card •••• 8290')).toEqual([]);
    expect(() => expectNoCanary(`leak ${CANARY_PAN}`)).toThrow();
  });
});

describe('the hand-crafted JOSE', () => {
  it('builds a request the service accepts (ES256 signature, ECDH-ES+A256KW / A256GCM by node:crypto)', async () => {
    const { body } = await buildRequest(sb, { jwsHeader: (header) => header, jweHeader: (header) => header });
    const result = await postSubmission(h.url, body);
    expect(result.status).toBe(201);
    expect(parseProvisioningResponse(result.text).accessData?.panLast4).toBe('8290');
  });

  it('builds a request the service accepts with the issuer EdDSA key', async () => {
    const { body } = await buildRequest(sb, { signingKey: sb.issuerEd.privateJwk });
    const result = await postSubmission(h.url, body);
    expect(result.status).toBe(201);
    expect(sb.issuerEd.privateJwk.kid).toBe(ISSUER_ED_KID);
  });
});

describe('the database readers', () => {
  it('see every table of the store through their own connection, and every stored value', () => {
    expect(listTables(h.dbPath)).toEqual(expect.arrayContaining(['idempotency', 'idempotency_pending', 'replay', 'tokens', 'vault']));
    const counts = countRows(h.dbPath);
    expect(counts.tokens).toBeGreaterThanOrEqual(2);
    expect(counts.vault).toBe(counts.tokens);
    const values = readAllValues(h.dbPath);
    expect(values.some((v) => v.table === 'vault' && v.column === 'sealed_card' && v.text.length > 40)).toBe(true);
    expectNoCanary(values.map((v) => v.text).join('\n'), 'the database');
  });
});
