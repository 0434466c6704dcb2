// Bad input, JWS layer (the issuer's signature inside the JWE), end to end
// over loopback HTTP with SQLite: each bent JWS is encrypted correctly to the
// service, so only the signature layer is wrong, and must be refused with its
// exact code, nothing stored, no canary anywhere.
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ErrorCode, type KeyJwk, generateSigningKey, parseProvisioningResponse } from '@pushprov/protocol';
import { countRows } from '../src/database.js';
import { expectProblem, expectRefused } from '../src/expectations.js';
import { type Harness, startHarness } from '../src/harness.js';
import { postSubmission } from '../src/http.js';
import { type SignOptions, b64u, encodeHeader, encryptCompact, joseToDer, malleateEcdsa, signCompact } from '../src/jose-craft.js';
import { ISSUER_ED_KID, ISSUER_KID, type Sandbox, buildRequest, createSandbox } from '../src/sandbox.js';

let sb: Sandbox;
let h: Harness;

beforeAll(async () => {
  sb = await createSandbox();
  h = await startHarness(sb);
});
afterAll(() => h?.dispose());

const TYP = 'pushprov-request+jwt';
const jweHeader = () => ({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: sb.serviceKey.kid, cty: 'JWT' });

interface JwsBend {
  header?: (header: Record<string, unknown>) => Record<string, unknown>;
  key?: KeyJwk | undefined;
  sign?: SignOptions;
  /** Replaces the whole JWS text (given the claims JSON and the valid JWS). */
  jws?: (input: { claims: string; valid: string }) => string | Promise<string>;
}

/** Builds a fresh valid request, bends its JWS, encrypts it correctly, and asserts the refusal. */
async function refuseSigned(code: ErrorCode, bend: JwsBend) {
  const built = await buildRequest(sb);
  const claims = JSON.stringify(built.claims);
  const header = { alg: 'ES256', kid: ISSUER_KID, typ: TYP };
  const key = 'key' in bend ? bend.key : sb.issuer.privateJwk;
  const valid = await signCompact(header, claims, sb.issuer.privateJwk);
  const jws = bend.jws ? await bend.jws({ claims, valid }) : await signCompact(bend.header ? bend.header(header) : header, claims, key, bend.sign);
  const encryptedRequest = encryptCompact(jweHeader(), jws, sb.serviceKey);
  await expectRefused(h, () => postSubmission(h.url, { ...built.submission, encryptedRequest }), code);
}

describe('JWS: alg "none" in any spelling', () => {
  it.each(['none', 'None', 'NONE', 'nOnE'])('alg "%s" with an empty signature: jws_header_rejected', async (alg) => {
    // An empty third segment is not even a compact JWS; give it one byte so the header check is what refuses it.
    await refuseSigned('jws_header_rejected', { header: (hd) => ({ ...hd, alg }), key: undefined, sign: { signature: () => new Uint8Array([0]) } });
  });
});

describe('JWS: algorithm confusion', () => {
  it('HS256 keyed with the issuer public key (PEM, the classic confusion): jws_header_rejected', async () => {
    const { x, y } = sb.issuer.publicJwk as { x: string; y: string };
    const { createPublicKey } = await import('node:crypto');
    const pem = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x, y }, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
    await refuseSigned('jws_header_rejected', { header: (hd) => ({ ...hd, alg: 'HS256' }), sign: { hmacSecret: Buffer.from(pem) } });
  });

  it('HS256 keyed with the issuer public JWK as JSON text: jws_header_rejected', async () => {
    await refuseSigned('jws_header_rejected', { header: (hd) => ({ ...hd, alg: 'HS256' }), sign: { hmacSecret: Buffer.from(JSON.stringify(sb.issuer.publicJwk)) } });
  });

  it('ES256 in the header, the kid of the issuer EdDSA key: unknown_issuer (a key is used only with its own alg)', async () => {
    await refuseSigned('unknown_issuer', { header: (hd) => ({ ...hd, kid: ISSUER_ED_KID }) });
  });

  it('ES384 (a stronger but unlisted algorithm): jws_header_rejected', async () => {
    await refuseSigned('jws_header_rejected', { header: (hd) => ({ ...hd, alg: 'ES384' }) });
  });
});

describe('JWS: keys carried in the header are never used', () => {
  it('an embedded jwk of the attacker, who signed with it: jws_header_rejected', async () => {
    const attacker = await generateSigningKey({ alg: 'ES256', kid: ISSUER_KID });
    await refuseSigned('jws_header_rejected', { header: (hd) => ({ ...hd, jwk: attacker.publicJwk }), key: attacker.privateJwk });
  });

  it('a jku pointing at an attacker JWK set: jws_header_rejected', async () => {
    const attacker = await generateSigningKey({ alg: 'ES256', kid: ISSUER_KID });
    await refuseSigned('jws_header_rejected', { header: (hd) => ({ ...hd, jku: 'https://evil.test/jwks.json' }), key: attacker.privateJwk });
  });

  it('an x5u pointing at an attacker certificate: jws_header_rejected', async () => {
    await refuseSigned('jws_header_rejected', { header: (hd) => ({ ...hd, x5u: 'https://evil.test/cert.pem' }) });
  });

  it('an x5c chain: jws_header_rejected', async () => {
    const cert = b64u(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'der' }));
    await refuseSigned('jws_header_rejected', { header: (hd) => ({ ...hd, x5c: [cert] }) });
  });
});

describe('JWS: odd kid values', () => {
  it('a kid that is a path: jws_header_rejected', async () => {
    await refuseSigned('jws_header_rejected', { header: (hd) => ({ ...hd, kid: '../../../etc/passwd' }) });
  });

  it('an empty kid: jws_header_rejected', async () => {
    await refuseSigned('jws_header_rejected', { header: (hd) => ({ ...hd, kid: '' }) });
  });

  it('a kid of 129 characters: jws_header_rejected', async () => {
    await refuseSigned('jws_header_rejected', { header: (hd) => ({ ...hd, kid: 'k'.repeat(129) }) });
  });

  it('a numeric kid: jws_header_rejected', async () => {
    await refuseSigned('jws_header_rejected', { header: (hd) => ({ ...hd, kid: 1 }) });
  });

  it('a kid with a NUL after the real one: jws_header_rejected', async () => {
    await refuseSigned('jws_header_rejected', { header: (hd) => ({ ...hd, kid: `${ISSUER_KID}\u0000` }) });
  });

  it('the kid in upper case: unknown_issuer (kids are compared exactly)', async () => {
    await refuseSigned('unknown_issuer', { header: (hd) => ({ ...hd, kid: ISSUER_KID.toUpperCase() }) });
  });

  it('kid "__proto__" (a prototype key in any lookup table): unknown_issuer', async () => {
    await refuseSigned('unknown_issuer', { header: (hd) => ({ ...hd, kid: '__proto__' }) });
  });

  it('the kid of the service encryption key: unknown_issuer', async () => {
    await refuseSigned('unknown_issuer', { header: (hd) => ({ ...hd, kid: sb.serviceKey.kid }) });
  });
});

describe('JWS: header members beyond alg, kid, typ', () => {
  it('an unknown critical extension: jws_header_rejected', async () => {
    await refuseSigned('jws_header_rejected', { header: (hd) => ({ ...hd, crit: ['exp'], exp: 1 }) });
  });

  it('b64 false (unencoded payload) declared critical: jws_header_rejected', async () => {
    await refuseSigned('jws_header_rejected', {
      jws: async ({ claims }) => {
        const header = encodeHeader({ alg: 'ES256', kid: ISSUER_KID, typ: TYP, b64: false, crit: ['b64'] });
        const { rawSignature } = await import('../src/jose-craft.js');
        return `${header}.${b64u(claims)}.${b64u(rawSignature('ES256', `${header}.${claims}`, sb.issuer.privateJwk))}`;
      },
    });
  });

  it('a cty member in the JWS header: jws_header_rejected', async () => {
    await refuseSigned('jws_header_rejected', { header: (hd) => ({ ...hd, cty: 'JWT' }) });
  });

  it('typ of a signed invocation (cross-message confusion): jws_header_rejected', async () => {
    await refuseSigned('jws_header_rejected', { header: (hd) => ({ ...hd, typ: 'pushprov-invocation+jwt' }) });
  });

  it('typ of a wallet client assertion: jws_header_rejected', async () => {
    await refuseSigned('jws_header_rejected', { header: (hd) => ({ ...hd, typ: 'pushprov-client+jwt' }) });
  });

  it('typ in another case: jws_header_rejected', async () => {
    await refuseSigned('jws_header_rejected', { header: (hd) => ({ ...hd, typ: 'PUSHPROV-REQUEST+JWT' }) });
  });

  it('a duplicate alg member (ES256 then none): jws_header_rejected', async () => {
    await refuseSigned('jws_header_rejected', {
      jws: ({ valid }) => {
        const [, payload, signature] = valid.split('.');
        return `${b64u(`{"alg":"ES256","kid":"${ISSUER_KID}","typ":"${TYP}","alg":"none"}`)}.${payload}.${signature}`;
      },
    });
  });

  it('the JWS in flattened JSON serialisation: jws_header_rejected', async () => {
    await refuseSigned('jws_header_rejected', {
      jws: ({ valid }) => {
        const [protectedHeader, payload, signature] = valid.split('.');
        return JSON.stringify({ protected: protectedHeader, payload, signature });
      },
    });
  });
});

describe('JWS: malformed ECDSA and EdDSA signatures', () => {
  it('an ASN.1 DER signature instead of r‖s: signature_invalid', async () => {
    await refuseSigned('signature_invalid', { sign: { signature: joseToDer } });
  });

  it('a signature one byte short: signature_invalid', async () => {
    await refuseSigned('signature_invalid', { sign: { signature: (s) => s.subarray(0, 63) } });
  });

  it('r = s = 0: signature_invalid', async () => {
    await refuseSigned('signature_invalid', { sign: { signature: () => new Uint8Array(64) } });
  });

  it('r = s = n (the group order, out of range): signature_invalid', async () => {
    const n = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');
    await refuseSigned('signature_invalid', { sign: { signature: () => Buffer.concat([n, n]) } });
  });

  it('an Ed25519 signature with its last byte flipped: signature_invalid', async () => {
    await refuseSigned('signature_invalid', {
      header: (hd) => ({ ...hd, alg: 'EdDSA', kid: ISSUER_ED_KID }),
      key: sb.issuerEd.privateJwk,
      sign: { signature: (s) => Uint8Array.from(s, (byte, i) => (i === s.length - 1 ? byte ^ 0x80 : byte)) },
    });
  });

  it('an empty signature segment: jws_header_rejected (not a compact JWS)', async () => {
    await refuseSigned('jws_header_rejected', { jws: ({ valid }) => `${valid.slice(0, valid.lastIndexOf('.'))}.` });
  });
});

describe('JWS: the payload', () => {
  it('a payload that is not JSON: unknown_issuer (no issuer can be read to pick a key)', async () => {
    await refuseSigned('unknown_issuer', { jws: () => signCompact({ alg: 'ES256', kid: ISSUER_KID, typ: TYP }, 'not json', sb.issuer.privateJwk) });
  });

  it('a payload that is a JSON array: unknown_issuer', async () => {
    await refuseSigned('unknown_issuer', { jws: ({ claims }) => signCompact({ alg: 'ES256', kid: ISSUER_KID, typ: TYP }, `[${claims}]`, sb.issuer.privateJwk) });
  });
});

describe('JWS: a request is single-use whatever its bytes', () => {
  it('the other valid ECDSA signature (r, n − s) of a used request is replayed, not a second token', async () => {
    const built = await buildRequest(sb);
    const claims = JSON.stringify(built.claims);
    const header = { alg: 'ES256', kid: ISSUER_KID, typ: TYP };
    const original = await signCompact(header, claims, sb.issuer.privateJwk);
    const malleated = await signCompact(header, claims, sb.issuer.privateJwk, { signature: malleateEcdsa });
    expect(malleated).not.toBe(original);

    const first = await postSubmission(h.url, { ...built.submission, encryptedRequest: encryptCompact(jweHeader(), original, sb.serviceKey) });
    expect(first.status).toBe(201);
    const token = parseProvisioningResponse(first.text).tokenReferenceId;
    const before = countRows(h.dbPath);
    const second = await postSubmission(h.url, { ...built.submission, encryptedRequest: encryptCompact(jweHeader(), malleated, sb.serviceKey) });
    expectProblem(second, 'replayed');
    expect(second.text).not.toContain(token);
    expect(countRows(h.dbPath)).toEqual(before);
  });

  it('the same signed request re-encrypted (new epk, IV, ciphertext) is replayed', async () => {
    const built = await buildRequest(sb);
    const jws = await signCompact({ alg: 'ES256', kid: ISSUER_KID, typ: TYP }, JSON.stringify(built.claims), sb.issuer.privateJwk);
    const first = await postSubmission(h.url, { ...built.submission, encryptedRequest: encryptCompact(jweHeader(), jws, sb.serviceKey) });
    expect(first.status).toBe(201);
    await expectRefused(h, () => postSubmission(h.url, { ...built.submission, encryptedRequest: encryptCompact(jweHeader(), jws, sb.serviceKey) }), 'replayed');
  });
});
