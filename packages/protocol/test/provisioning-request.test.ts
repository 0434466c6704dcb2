import { generateKeyPair, exportJWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CLIENT_ASSERTION_TYP,
  INVOCATION_JWS_TYP,
  type KeyJwk,
  type OpenProvisioningRequestOptions,
  ProvisioningError,
  REQUEST_JWS_TYP,
  createError,
  generateEncryptionKey,
  generateSigningKey,
  openProvisioningRequest,
  sealProvisioningRequest,
} from '../src/index.js';
import {
  b64u,
  b64uJson,
  craftJwe,
  craftJws,
  flipByte,
  headerOf,
  replaceSegment,
  rewriteProtectedHeader,
  textOfSegment,
} from '../scripts/lib/jose-craft.js';
import { type Fixture, PAN, createFixture, exposedText } from './helpers/fixture.js';

const CEK = new Uint8Array(32).fill(7);
const JWE_HEADER = { alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: 'ts-1', cty: 'JWT' };

let f: Fixture;
let attacker: Awaited<ReturnType<typeof generateSigningKey>>;
let validJwe: string;

beforeAll(async () => {
  f = await createFixture();
  attacker = await generateSigningKey({ alg: 'ES256', kid: 'bank-a-1' });
  validJwe = await f.seal();
});

/** Opens `jwe` and returns 'ok' or the error code; every error is checked for leaks. */
async function open(jwe: unknown, options: Partial<OpenProvisioningRequestOptions> = {}): Promise<string> {
  try {
    await openProvisioningRequest(jwe as string, { ...f.options, ...options });
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(ProvisioningError);
    expect(await exposedText(error)).not.toContain(PAN);
    return (error as ProvisioningError).code;
  }
}

/** The issuer-signed JWS of `claims` (or any payload) with a chosen header and key. */
function sign(options: { header?: Record<string, unknown>; payload?: string; key?: KeyJwk | Uint8Array; claims?: object } = {}): Promise<string> {
  return craftJws({
    header: options.header ?? { alg: 'ES256', kid: 'bank-a-1', typ: REQUEST_JWS_TYP },
    payload: options.payload ?? JSON.stringify(options.claims ?? f.claims),
    key: options.key ?? f.issuer.privateJwk,
  });
}

/** Encrypts `plaintext` to the service key with a known CEK, then gives it `header` (members merged, or a function of the real header). */
async function encrypt(
  plaintext: string | Uint8Array,
  header?: Record<string, unknown> | ((real: Record<string, unknown>) => Record<string, unknown> | string),
): Promise<string> {
  const base = await craftJwe({ header: JWE_HEADER, plaintext, recipient: f.service.publicJwk, cek: CEK });
  if (header === undefined) return base;
  const real = headerOf(base);
  return rewriteProtectedHeader(base, typeof header === 'function' ? header(real) : { ...real, ...header }, CEK);
}

const without = (name: string) => (h: Record<string, unknown>) => {
  const copy = { ...h };
  delete copy[name];
  return copy;
};

describe('a valid request', () => {
  it('opens to exactly the sealed claims with the exact headers of the profile', async () => {
    const opened = await openProvisioningRequest(validJwe, f.options);
    expect(opened).toEqual({ claims: f.claims, encryptionKid: 'ts-1', signingKid: 'bank-a-1' });
    const jweHeader = headerOf(validJwe);
    expect(Object.keys(jweHeader).sort()).toEqual(['alg', 'cty', 'enc', 'epk', 'kid']);
    expect(jweHeader).toMatchObject(JWE_HEADER);
    expect(Object.keys(jweHeader.epk as object).sort()).toEqual(['crv', 'kty', 'x', 'y']);
    expect(validJwe).not.toContain(PAN);
  });

  it('opens a request signed with EdDSA', async () => {
    const jwe = await f.seal(f.claims, f.issuerEd.privateJwk);
    expect(await openProvisioningRequest(jwe, f.options)).toMatchObject({ signingKid: 'bank-a-ed', claims: f.claims });
  });

  it('opens the JWE a hand-built jose pipeline makes (interoperability)', async () => {
    expect(await open(await encrypt(await sign()))).toBe('ok');
  });

  it('opens a JWE whose header was rewritten by the test tools to the same members (so rewritten cases fail only for their header)', async () => {
    expect(await open(await encrypt(await sign(), {}))).toBe('ok');
    expect(await open(await encrypt(await sign(), (h) => ({ ...h })))).toBe('ok');
  });

  it('picks the decryption key by kid among several (rotation)', async () => {
    const next = await generateEncryptionKey({ kid: 'ts-2' });
    const jwe = await sealProvisioningRequest({ claims: f.claims, signingKey: f.issuer.privateJwk, encryptionKey: next.publicJwk });
    const decryptionKeys = { keys: [f.service.privateJwk, next.privateJwk] };
    expect(await openProvisioningRequest(jwe, { ...f.options, decryptionKeys })).toMatchObject({ encryptionKid: 'ts-2' });
    expect(await openProvisioningRequest(validJwe, { ...f.options, decryptionKeys })).toMatchObject({ encryptionKid: 'ts-1' });
  });

  it('asks the resolver for the issuer key by iss and kid, and accepts an async resolver', async () => {
    const calls: string[][] = [];
    const issuerKeys = async (iss: string, kid: string) => {
      calls.push([iss, kid]);
      return f.issuer.publicJwk;
    };
    expect(await open(validJwe, { issuerKeys })).toBe('ok');
    expect(calls).toEqual([['bank-a', 'bank-a-1']]);
  });

  it('opens an account-reference request', async () => {
    const claims = f.claimsWith({ accountRef: 'acct-77' });
    delete (claims as { card?: unknown }).card;
    expect((await openProvisioningRequest(await f.seal(claims), f.options)).claims.accountRef).toBe('acct-77');
  });
});

describe('sealProvisioningRequest refuses', () => {
  it('claims that do not match the schema, before signing', async () => {
    await expect(f.seal(f.claimsWith({ nonce: 'short' }))).rejects.toMatchObject({ code: 'invalid_claims' });
    await expect(f.seal(f.claimsWith({ card: { ...f.claims.card, pan: '4111111111111112' } }))).rejects.toMatchObject({ code: 'card_invalid' });
  });

  it('a public signing key, a private encryption key, or keys of the wrong algorithm', async () => {
    const claims = f.claims;
    await expect(sealProvisioningRequest({ claims, signingKey: f.issuer.publicJwk, encryptionKey: f.service.publicJwk })).rejects.toMatchObject({ code: 'unknown_key' });
    await expect(sealProvisioningRequest({ claims, signingKey: f.issuer.privateJwk, encryptionKey: f.service.privateJwk })).rejects.toMatchObject({ code: 'unknown_key' });
    await expect(sealProvisioningRequest({ claims, signingKey: f.service.privateJwk, encryptionKey: f.service.publicJwk })).rejects.toMatchObject({ code: 'unknown_key' });
    await expect(sealProvisioningRequest({ claims, signingKey: f.issuer.privateJwk, encryptionKey: f.issuer.publicJwk })).rejects.toMatchObject({ code: 'unknown_key' });
  });
});

describe('JWE structure', () => {
  it('refuses anything but the compact serialisation', async () => {
    const [p, k, iv, c, t] = validJwe.split('.') as [string, string, string, string, string];
    const flattened = JSON.stringify({ protected: p, encrypted_key: k, iv, ciphertext: c, tag: t });
    const general = JSON.stringify({ protected: p, recipients: [{ encrypted_key: k }], iv, ciphertext: c, tag: t });
    for (const input of [flattened, general, `${validJwe}.x`, [p, k, iv, c].join('.'), [p, '', iv, c, t].join('.'), ` ${validJwe}`, `${validJwe}\n`, validJwe.replace('.', '..'), `${p}=.${k}.${iv}.${c}.${t}`, '', `${validJwe}${'A'.repeat(16_385 - validJwe.length)}`]) {
      expect(await open(input), input.slice(0, 40)).toBe('jwe_header_rejected');
    }
    for (const input of [undefined, null, 42, { jwe: validJwe }]) expect(await open(input)).toBe('jwe_header_rejected');
  });

  it('refuses a signed but not encrypted request', async () => {
    expect(await open(await sign())).toBe('jwe_header_rejected');
  });

  it('refuses a protected header that is not a strict JSON object', async () => {
    const raw = (text: string) => replaceSegment(validJwe, 0, b64u(text));
    for (const text of ['[]', 'null', '"x"', '{}', '{"alg":"ECDH-ES+A256KW","alg":"ECDH-ES+A256KW"}', '{"__proto__":{}}', '{"alg":', 'not json']) {
      expect(await open(raw(text)), text).toBe('jwe_header_rejected');
    }
    expect(await open(replaceSegment(validJwe, 0, b64u(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))))).toBe('jwe_header_rejected');
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`m${i}`, i]));
    expect(await open(await encrypt(await sign(), many))).toBe('jwe_header_rejected');
  });
});

describe('JWE header allow-list (each case is otherwise a valid, decryptable JWE)', () => {
  it('refuses zip, even with real compression', async () => {
    const zipped = await craftJwe({ header: { ...JWE_HEADER, zip: 'DEF' }, plaintext: await sign(), recipient: f.service.publicJwk });
    expect(headerOf(zipped).zip).toBe('DEF');
    expect(await open(zipped)).toBe('jwe_header_rejected');
  });

  it.each([
    ['crit', { crit: ['exp'], exp: 1 }],
    ['crit naming a known member', { crit: ['kid'] }],
    ['jku', { jku: 'https://evil.example/jwks.json' }],
    ['x5u', { x5u: 'https://evil.example/cert.pem' }],
    ['x5c', { x5c: ['MIIB'] }],
    ['x5t', { x5t: 'abc' }],
    ['x5t#S256', { 'x5t#S256': 'abc' }],
    ['typ', { typ: 'JWT' }],
    ['apu', { apu: 'YWxpY2U' }],
    ['apv', { apv: 'Ym9i' }],
    ['an unknown member', { foo: 'bar' }],
  ])('refuses %s', async (_name, extra) => {
    expect(await open(await encrypt(await sign(), extra))).toBe('jwe_header_rejected');
  });

  it('refuses an embedded jwk, never using it', async () => {
    const mine = await generateEncryptionKey({ kid: 'ts-1' });
    const jwe = await encrypt(await sign(), { jwk: { kty: 'EC', crv: 'P-256', x: mine.publicJwk.x, y: mine.publicJwk.y } });
    expect(await open(jwe)).toBe('jwe_header_rejected');
  });

  it.each(['ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A192KW', 'RSA-OAEP-256', 'A256KW', 'dir', 'none', 'ecdh-es+a256kw', '', 1])(
    'refuses alg %s',
    async (alg) => {
      expect(await open(await encrypt(await sign(), { alg }))).toBe('jwe_header_rejected');
    },
  );

  it.each(['A128GCM', 'A192GCM', 'A256CBC-HS512', 'a256gcm', ''])('refuses enc %s', async (enc) => {
    expect(await open(await encrypt(await sign(), { enc }))).toBe('jwe_header_rejected');
  });

  it('refuses a JWE made with another enc for real', async () => {
    const jwe = await craftJwe({ header: { ...JWE_HEADER, enc: 'A128GCM' }, plaintext: await sign(), recipient: f.service.publicJwk });
    expect(await open(jwe)).toBe('jwe_header_rejected');
  });

  it.each(['alg', 'enc', 'kid', 'cty', 'epk'])('refuses a header without %s', async (name) => {
    expect(await open(await encrypt(await sign(), without(name)))).toBe('jwe_header_rejected');
  });

  it.each(['jwt', 'JOSE', 'application/jwt', 'JWE', ''])('refuses cty %s', async (cty) => {
    expect(await open(await encrypt(await sign(), { cty }))).toBe('jwe_header_rejected');
  });

  it.each([['empty', ''], ['with a space', 'ts 1'], ['too long', 'k'.repeat(129)], ['a number', 1], ['null', null], ['with a slash', '../ts-1']])(
    'refuses a kid %s',
    async (_name, kid) => {
      expect(await open(await encrypt(await sign(), { kid }))).toBe('jwe_header_rejected');
    },
  );

  it('refuses an unknown kid, or a kid that names a key of another algorithm', async () => {
    expect(await open(await encrypt(await sign(), { kid: 'ts-9' }))).toBe('unknown_key');
    const decryptionKeys = { keys: [f.service.privateJwk, { ...f.issuer.privateJwk, kid: 'ts-sig' }] };
    expect(await open(await encrypt(await sign(), { kid: 'ts-sig' }), { decryptionKeys })).toBe('unknown_key');
    expect(await open(validJwe, { decryptionKeys: { keys: [] } })).toBe('unknown_key');
  });

  describe('epk', () => {
    it('refuses another curve or key type', async () => {
      const p384 = await exportJWK((await generateKeyPair('ECDH-ES', { crv: 'P-384', extractable: true })).publicKey);
      const x25519 = await exportJWK((await generateKeyPair('ECDH-ES', { crv: 'X25519', extractable: true })).publicKey);
      for (const epk of [
        { kty: 'EC', crv: 'P-384', x: p384.x, y: p384.y },
        { kty: 'OKP', crv: 'X25519', x: x25519.x },
        { kty: 'EC', crv: 'P-384', x: 'x'.repeat(43), y: 'y'.repeat(43) },
        { kty: 'RSA', crv: 'P-256', x: 'x'.repeat(43), y: 'y'.repeat(43) },
      ]) {
        expect(await open(await encrypt(await sign(), { epk })), JSON.stringify(epk).slice(0, 40)).toBe('jwe_header_rejected');
      }
    });

    it('refuses extra members, private parts and malformed coordinates', async () => {
      const variants: ((e: Record<string, unknown>) => unknown)[] = [
        (e) => ({ ...e, kid: 'e' }),
        (e) => ({ ...e, d: 'd'.repeat(43) }),
        (e) => ({ ...e, alg: 'ECDH-ES' }),
        (e) => ({ ...e, use: 'enc' }),
        (e) => ({ kty: e.kty, crv: e.crv, x: e.x }),
        (e) => ({ ...e, x: (e.x as string).slice(1) }),
        (e) => ({ ...e, y: `${e.y as string}A` }),
        (e) => ({ ...e, x: `${(e.x as string).slice(1)}+` }),
        (e) => ({ ...e, x: 1 }),
        () => 'epk',
        () => [],
        () => null,
      ];
      for (const variant of variants) {
        const jwe = await encrypt(await sign(), (h) => ({ ...h, epk: variant(h.epk as Record<string, unknown>) }));
        expect(await open(jwe)).toBe('jwe_header_rejected');
      }
    });

    it('fails the key agreement on a point that is not on the curve', async () => {
      const jwe = await encrypt(await sign(), (h) => {
        const epk = h.epk as Record<string, string>;
        const y = epk.y!;
        return { ...h, epk: { ...epk, y: (y[0] === 'A' ? 'B' : 'A') + y.slice(1) } };
      });
      expect(await open(jwe)).toBe('decryption_failed');
    });
  });
});

describe('tampering and decryption', () => {
  it.each([
    ['the encrypted key', 1, [0, -1]],
    ['the IV', 2, [0, -1]],
    ['the ciphertext', 3, [0, 100, -1]],
    ['the tag', 4, [0, -1]],
  ] as const)('refuses a flipped byte in %s', async (_name, segment, positions) => {
    for (const position of positions) expect(await open(flipByte(validJwe, segment, position))).toBe('decryption_failed');
  });

  it('refuses a flipped byte anywhere in the protected header', async () => {
    const length = textOfSegment(validJwe.split('.')[0]!).length;
    const codes = new Set<string>();
    for (let i = 0; i < length; i++) codes.add(await open(flipByte(validJwe, 0, i)));
    expect(codes.has('ok')).toBe(false);
    expect([...codes].every((code) => ['jwe_header_rejected', 'unknown_key', 'decryption_failed'].includes(code))).toBe(true);
    expect(codes.has('decryption_failed')).toBe(true);
  });

  it('refuses a header re-serialised with the same members (it is the AAD)', async () => {
    const header = headerOf(validJwe);
    const reordered = Object.fromEntries(Object.entries(header).reverse());
    expect(await open(replaceSegment(validJwe, 0, b64uJson(reordered)))).toBe('decryption_failed');
    expect(await open(replaceSegment(validJwe, 0, b64u(JSON.stringify(header, null, 1))))).toBe('decryption_failed');
  });

  it('refuses segments spliced from another request', async () => {
    const other = await f.seal();
    for (const segment of [0, 1, 2, 3, 4]) {
      expect(await open(replaceSegment(validJwe, segment, other.split('.')[segment]!)), String(segment)).toBe('decryption_failed');
    }
  });

  it('refuses a truncated tag and an IV of the wrong length', async () => {
    const [, , iv, , tag] = validJwe.split('.') as string[];
    expect(await open(replaceSegment(validJwe, 4, tag!.slice(0, 20)))).toBe('decryption_failed');
    expect(await open(replaceSegment(validJwe, 2, b64u(new Uint8Array(16))))).toBe('decryption_failed');
    expect(await open(replaceSegment(validJwe, 2, iv!.slice(0, 8)))).toBe('decryption_failed');
  });

  it('refuses a request decrypted with the wrong private key under the same kid', async () => {
    const impostor = await generateEncryptionKey({ kid: 'ts-1' });
    expect(await open(validJwe, { decryptionKeys: { keys: [impostor.privateJwk] } })).toBe('decryption_failed');
  });
});

describe('the decrypted content must be a JWS', () => {
  it('refuses encrypted but not signed claims', async () => {
    expect(await open(await encrypt(JSON.stringify(f.claims)))).toBe('jws_header_rejected');
  });

  it('refuses content that is not UTF-8, a nested JWE, or empty segments', async () => {
    expect(await open(await encrypt(new Uint8Array([0xff, 0xfe, 0x2e, 0x2e])))).toBe('jws_header_rejected');
    expect(await open(await encrypt(validJwe))).toBe('jws_header_rejected');
    expect(await open(await encrypt('..'))).toBe('jws_header_rejected');
    expect(await open(await encrypt(`${await sign()}.extra`))).toBe('jws_header_rejected');
  });
});

describe('JWS header allow-list', () => {
  it.each(['none', 'None', 'NONE', 'nOnE'])('refuses alg %s, unsigned or with a signature', async (alg) => {
    const header = { alg, kid: 'bank-a-1', typ: REQUEST_JWS_TYP };
    const unsigned = await craftJws({ header, payload: JSON.stringify(f.claims) });
    expect(await open(await encrypt(unsigned))).toBe('jws_header_rejected');
    const withSignature = await craftJws({ header, payload: JSON.stringify(f.claims), signature: 'c2ln' });
    expect(await open(await encrypt(withSignature))).toBe('jws_header_rejected');
  });

  it('refuses HS256 keyed with the issuer public key', async () => {
    for (const secret of [JSON.stringify(f.issuer.publicJwk), f.issuer.publicJwk.x!]) {
      const jws = await sign({ header: { alg: 'HS256', kid: 'bank-a-1', typ: REQUEST_JWS_TYP }, key: new TextEncoder().encode(secret) });
      expect(await open(await encrypt(jws))).toBe('jws_header_rejected');
    }
  });

  it.each(['RS256', 'PS256', 'ES384', 'ES512', 'es256', 'Ed25519', 'ES256K'])('refuses alg %s', async (alg) => {
    const jws = await craftJws({ header: { alg, kid: 'bank-a-1', typ: REQUEST_JWS_TYP }, payload: JSON.stringify(f.claims), signature: 'c2ln' });
    expect(await open(await encrypt(jws))).toBe('jws_header_rejected');
  });

  it.each(['JWT', 'jwt', 'pushprov-request+JWT', INVOCATION_JWS_TYP, CLIENT_ASSERTION_TYP, 'application/pushprov-request+jwt', ''])(
    'refuses typ %s',
    async (typ) => {
      expect(await open(await encrypt(await sign({ header: { alg: 'ES256', kid: 'bank-a-1', typ } })))).toBe('jws_header_rejected');
    },
  );

  it('refuses a header without typ or kid, or with a malformed kid', async () => {
    expect(await open(await encrypt(await sign({ header: { alg: 'ES256', kid: 'bank-a-1' } })))).toBe('jws_header_rejected');
    expect(await open(await encrypt(await sign({ header: { alg: 'ES256', typ: REQUEST_JWS_TYP } })))).toBe('jws_header_rejected');
    expect(await open(await encrypt(await sign({ header: { alg: 'ES256', kid: 'bank a', typ: REQUEST_JWS_TYP } })))).toBe('jws_header_rejected');
  });

  it('refuses an embedded jwk signed by the attacker, never using it', async () => {
    const header = { alg: 'ES256', kid: 'bank-a-1', typ: REQUEST_JWS_TYP, jwk: attacker.publicJwk };
    expect(await open(await encrypt(await sign({ header, key: attacker.privateJwk })))).toBe('jws_header_rejected');
  });

  it.each([
    ['jku', { jku: 'https://evil.example/jwks' }],
    ['x5u', { x5u: 'https://evil.example/c.pem' }],
    ['x5c', { x5c: ['MIIB'] }],
    ['cty', { cty: 'JWT' }],
    ['an unknown member', { iss: 'bank-a' }],
  ])('refuses %s', async (_name, extra) => {
    const header = { alg: 'ES256', kid: 'bank-a-1', typ: REQUEST_JWS_TYP, ...extra };
    expect(await open(await encrypt(await sign({ header })))).toBe('jws_header_rejected');
  });

  it('refuses crit and unencoded payloads', async () => {
    const header = { alg: 'ES256', kid: 'bank-a-1', typ: REQUEST_JWS_TYP, crit: ['b64'], b64: true };
    const jws = await craftJws({ header, payload: JSON.stringify(f.claims), key: f.issuer.privateJwk, crit: { b64: true } });
    expect(await open(await encrypt(jws))).toBe('jws_header_rejected');
  });
});

describe('issuer key and signature', () => {
  it('refuses an issuer it does not trust, or a kid the issuer does not have', async () => {
    expect(await open(await encrypt(await sign({ claims: f.claimsWith({ iss: 'bank-z' }) })))).toBe('unknown_issuer');
    expect(await open(await encrypt(await sign({ header: { alg: 'ES256', kid: 'bank-a-9', typ: REQUEST_JWS_TYP } })))).toBe('unknown_issuer');
  });

  it('refuses a payload that names no usable issuer', async () => {
    for (const payload of ['not json', '{"iss":"a","iss":"b"}', '{}', '{"iss":42}', '{"iss":"Bank A"}', '[]', 'null']) {
      expect(await open(await encrypt(await sign({ payload }))), payload).toBe('unknown_issuer');
    }
  });

  it('refuses an issuer key of another algorithm than the header says', async () => {
    const jws = await sign({ header: { alg: 'EdDSA', kid: 'bank-a-1', typ: REQUEST_JWS_TYP }, key: f.issuerEd.privateJwk });
    expect(await open(await encrypt(jws))).toBe('unknown_issuer');
  });

  it('refuses a private issuer key from the resolver, and maps resolver failures', async () => {
    expect(await open(validJwe, { issuerKeys: () => f.issuer.privateJwk })).toBe('unknown_issuer');
    expect(await open(validJwe, { issuerKeys: () => Promise.reject(new Error(`db down ${PAN}`)) })).toBe('unknown_issuer');
    expect(await open(validJwe, { issuerKeys: () => Promise.reject(createError('internal_error')) })).toBe('internal_error');
  });

  it('refuses a signature by another key under the issuer kid', async () => {
    expect(await open(await encrypt(await sign({ key: attacker.privateJwk })))).toBe('signature_invalid');
    const otherEd = await generateSigningKey({ alg: 'EdDSA', kid: 'bank-a-ed' });
    const jws = await sign({ header: { alg: 'EdDSA', kid: 'bank-a-ed', typ: REQUEST_JWS_TYP }, key: otherEd.privateJwk });
    expect(await open(await encrypt(jws))).toBe('signature_invalid');
  });

  it('refuses claims changed after signing', async () => {
    const jws = await sign();
    const changed = replaceSegment(jws, 1, b64uJson(f.claimsWith({ deviceId: 'device-8' })));
    expect(await open(await encrypt(changed))).toBe('signature_invalid');
    expect(await open(await encrypt(flipByte(jws, 2, 10)))).toBe('signature_invalid');
    expect(await open(await encrypt(replaceSegment(jws, 2, jws.split('.')[2]!.slice(0, 40))))).toBe('signature_invalid');
  });
});

describe('claims', () => {
  const sealWith = async (overrides: Record<string, unknown>) => encrypt(await sign({ claims: f.claimsWith(overrides) }));

  it('refuses signed claims that do not match the schema', async () => {
    expect(await open(await sealWith({ nonce: undefined }))).toBe('invalid_claims');
    expect(await open(await sealWith({ nbf: f.claims.iat }))).toBe('invalid_claims');
    expect(await open(await sealWith({ accountRef: 'acct-1' }))).toBe('invalid_claims');
    expect(await open(await sealWith({ iat: String(f.claims.iat) }))).toBe('invalid_claims');
  });

  it('reads the issuer of deeply nested (but allowed) signed claims, and refuses them as invalid_claims', async () => {
    // Nested 10 levels: within section 3's 16, so the issuer is found and the schema decides.
    let deep: unknown = 'x';
    for (let i = 0; i < 10; i++) deep = { a: deep };
    expect(await open(await sealWith({ extra: deep }))).toBe('invalid_claims');
  });

  it('refuses a card with a non-ASCII or Luhn-invalid PAN, or an impossible month, as card_invalid', async () => {
    const card = f.claims.card!;
    expect(await open(await sealWith({ card: { ...card, pan: '٤١١١١١١١١١١١١١١١' } }))).toBe('card_invalid');
    expect(await open(await sealWith({ card: { ...card, pan: '４１１１１１１１１１１１１１１１' } }))).toBe('card_invalid');
    expect(await open(await sealWith({ card: { ...card, pan: '4111111111111112' } }))).toBe('card_invalid');
    expect(await open(await sealWith({ card: { ...card, expiry: { month: 13, year: 2101 } } }))).toBe('card_invalid');
  });

  it('checks audience, lifetime and time after the signature', async () => {
    expect(await open(validJwe, { audience: 'other-service' })).toBe('audience_mismatch');
    expect(await open(await sealWith({ exp: f.claims.iat + 901 }))).toBe('lifetime_exceeded');
    expect(await open(await sealWith({ iat: f.claims.iat + 61, exp: f.claims.iat + 300 }))).toBe('not_yet_valid');
    expect(await open(validJwe, { clock: { now: () => (f.claims.exp + 60) * 1000 } })).toBe('expired');
    expect(await open(validJwe, { clock: { now: () => (f.claims.exp + 59) * 1000 } })).toBe('ok');
    expect(await open(validJwe, { clockSkewSeconds: 0, clock: { now: () => f.claims.exp * 1000 } })).toBe('expired');
    expect(await open(await sealWith({ exp: f.claims.iat + 600 }), { maxLifetimeSeconds: 599 })).toBe('lifetime_exceeded');
  });

  it('stops at the first failing step', async () => {
    // a bad signature and a wrong audience: the signature is checked first
    expect(await open(await encrypt(await sign({ key: attacker.privateJwk })), { audience: 'other' })).toBe('signature_invalid');
    // a bad JWS header and an unknown issuer: the header is checked first
    const jws = await sign({ header: { alg: 'ES256', kid: 'bank-a-1', typ: 'JWT' }, claims: f.claimsWith({ iss: 'bank-z' }) });
    expect(await open(await encrypt(jws))).toBe('jws_header_rejected');
    // an unknown JWE kid with a bad JWS inside: the JWE header is checked first
    expect(await open(await encrypt('junk', { kid: 'ts-9' }))).toBe('unknown_key');
  });
});
