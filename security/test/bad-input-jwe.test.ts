// Bad input, JWE layer, end to end: each case is POSTed to the real token
// service over loopback HTTP (SQLite in a temporary directory) and must be
// refused with exactly its code, with every table unchanged and no canary PAN
// in the answer or the logs. The JWEs are crafted with node:crypto, so an
// algorithm off the allow-list is really used, not only named.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type ErrorCode, generateEncryptionKey, toPublicJwk } from '@pushprov/protocol';
import { expectRefused } from '../src/expectations.js';
import { type Harness, startHarness } from '../src/harness.js';
import { postSubmission } from '../src/http.js';
import {
  b64u,
  decodeHeader,
  encodeHeader,
  encryptCompact,
  flipBit,
  offCurvePoint,
  replaceSegment,
  signCompact,
  truncateSegment,
  unb64u,
} from '../src/jose-craft.js';
import { type BuiltRequest, type Sandbox, buildRequest, createSandbox } from '../src/sandbox.js';

let sb: Sandbox;
let h: Harness;

beforeAll(async () => {
  sb = await createSandbox();
  h = await startHarness(sb);
});
afterAll(() => h?.dispose());

const VALID_JWE_HEADER = () => ({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: sb.serviceKey.kid, cty: 'JWT' });

/** The signed request (JWS) of a fresh valid request, to wrap in crafted JWEs. */
async function signedRequest(): Promise<{ built: BuiltRequest; jws: string }> {
  const built = await buildRequest(sb);
  const jws = await signCompact({ alg: 'ES256', kid: sb.issuer.privateJwk.kid, typ: 'pushprov-request+jwt' }, JSON.stringify(built.claims), sb.issuer.privateJwk);
  return { built, jws };
}

/** Submits a valid request whose `encryptedRequest` is replaced by `craft(jws, validJwe)`. */
async function refuseEncrypted(code: ErrorCode, craft: (input: { jws: string; jwe: string; claims: string }) => unknown | Promise<unknown>) {
  const { built, jws } = await signedRequest();
  const encryptedRequest = await craft({ jws, jwe: built.submission.encryptedRequest, claims: JSON.stringify(built.claims) });
  await expectRefused(h, () => postSubmission(h.url, { ...built.submission, encryptedRequest }), code);
}

describe('JWE: the ephemeral key (epk)', () => {
  it('a point off the P-256 curve fails the key agreement: decryption_failed', async () => {
    await refuseEncrypted('decryption_failed', ({ jws }) => encryptCompact(VALID_JWE_HEADER(), jws, sb.serviceKey, { epk: { kty: 'EC', crv: 'P-256', ...offCurvePoint() } }));
  });

  it('the all-zero point (not on the curve, the classic invalid-curve probe): decryption_failed', async () => {
    const zero = b64u(new Uint8Array(32));
    await refuseEncrypted('decryption_failed', ({ jws }) => encryptCompact(VALID_JWE_HEADER(), jws, sb.serviceKey, { epk: { kty: 'EC', crv: 'P-256', x: zero, y: zero } }));
  });

  it('an epk on another curve (P-384): jwe_header_rejected', async () => {
    const coordinate = b64u(new Uint8Array(48).fill(7));
    await refuseEncrypted('jwe_header_rejected', ({ jws }) =>
      encryptCompact(VALID_JWE_HEADER(), jws, sb.serviceKey, { epk: { kty: 'EC', crv: 'P-384', x: coordinate, y: coordinate } }),
    );
  });

  it('an X25519 (OKP) epk: jwe_header_rejected', async () => {
    await refuseEncrypted('jwe_header_rejected', ({ jws }) =>
      encryptCompact(VALID_JWE_HEADER(), jws, sb.serviceKey, { epk: { kty: 'OKP', crv: 'X25519', x: b64u(new Uint8Array(32).fill(9)) } }),
    );
  });

  it('an epk that carries a private member (d): jwe_header_rejected', async () => {
    await refuseEncrypted('jwe_header_rejected', ({ jwe }) => {
      const header = decodeHeader(jwe);
      return replaceSegment(jwe, 0, () => encodeHeader({ ...header, epk: { ...(header.epk as object), d: b64u(new Uint8Array(32).fill(1)) } }));
    });
  });

  it('no epk at all: jwe_header_rejected', async () => {
    await refuseEncrypted('jwe_header_rejected', ({ jws }) => encryptCompact(VALID_JWE_HEADER(), jws, sb.serviceKey, { omitEpk: true }));
  });
});

describe('JWE: algorithms and members off the allow-list (really used, not only named)', () => {
  it('zip "DEF" with a genuinely compressed payload: jwe_header_rejected', async () => {
    await refuseEncrypted('jwe_header_rejected', ({ jws }) => encryptCompact({ ...VALID_JWE_HEADER(), zip: 'DEF' }, jws, sb.serviceKey));
  });

  it('enc A128GCM: jwe_header_rejected', async () => {
    await refuseEncrypted('jwe_header_rejected', ({ jws }) => encryptCompact({ ...VALID_JWE_HEADER(), enc: 'A128GCM' }, jws, sb.serviceKey));
  });

  it('enc A256CBC-HS512: jwe_header_rejected', async () => {
    await refuseEncrypted('jwe_header_rejected', ({ jws }) => encryptCompact({ ...VALID_JWE_HEADER(), enc: 'A256CBC-HS512' }, jws, sb.serviceKey));
  });

  it('alg ECDH-ES (direct key agreement, no key wrap): jwe_header_rejected', async () => {
    await refuseEncrypted('jwe_header_rejected', ({ jws }) => encryptCompact({ ...VALID_JWE_HEADER(), alg: 'ECDH-ES' }, jws, sb.serviceKey));
  });

  it('alg ECDH-ES+A128KW: jwe_header_rejected', async () => {
    await refuseEncrypted('jwe_header_rejected', ({ jws }) => encryptCompact({ ...VALID_JWE_HEADER(), alg: 'ECDH-ES+A128KW' }, jws, sb.serviceKey));
  });

  it('alg "dir" (a key the attacker chose): jwe_header_rejected', async () => {
    await refuseEncrypted('jwe_header_rejected', ({ jws }) => encryptCompact({ ...VALID_JWE_HEADER(), alg: 'dir' }, jws, sb.serviceKey));
  });

  it('apu and apv (used in the key derivation): jwe_header_rejected', async () => {
    await refuseEncrypted('jwe_header_rejected', ({ jws }) =>
      encryptCompact({ ...VALID_JWE_HEADER(), apu: b64u('attacker'), apv: b64u('service') }, jws, sb.serviceKey),
    );
  });

  it('an unknown critical extension: jwe_header_rejected', async () => {
    await refuseEncrypted('jwe_header_rejected', ({ jws }) => encryptCompact({ ...VALID_JWE_HEADER(), crit: ['exp'], exp: 1 }, jws, sb.serviceKey));
  });

  it('x5u pointing at an attacker URL: jwe_header_rejected', async () => {
    await refuseEncrypted('jwe_header_rejected', ({ jws }) => encryptCompact({ ...VALID_JWE_HEADER(), x5u: 'https://evil.test/cert.pem' }, jws, sb.serviceKey));
  });

  it('cty "jwt" (case differs): jwe_header_rejected', async () => {
    await refuseEncrypted('jwe_header_rejected', ({ jws }) => encryptCompact({ ...VALID_JWE_HEADER(), cty: 'jwt' }, jws, sb.serviceKey));
  });

  it('a duplicate "alg" member in the protected header: jwe_header_rejected', async () => {
    await refuseEncrypted('jwe_header_rejected', ({ jwe }) =>
      replaceSegment(jwe, 0, (segment) => b64u(unb64u(segment).toString('utf8').replace('{', '{"alg":"dir",'))),
    );
  });
});

describe('JWE: keys', () => {
  it('a kid the service does not have (a retired key): unknown_key', async () => {
    await refuseEncrypted('unknown_key', ({ jws }) => encryptCompact({ ...VALID_JWE_HEADER(), kid: 'svc-retired-0' }, jws, sb.serviceKey));
  });

  it('a kid that is a path: jwe_header_rejected', async () => {
    await refuseEncrypted('jwe_header_rejected', ({ jws }) => encryptCompact({ ...VALID_JWE_HEADER(), kid: '../../keys/svc-sec-1' }, jws, sb.serviceKey));
  });

  it('encrypted to another key but labelled with the service kid: decryption_failed', async () => {
    const other = await generateEncryptionKey({ kid: 'attacker' });
    await refuseEncrypted('decryption_failed', ({ jws }) => encryptCompact(VALID_JWE_HEADER(), jws, toPublicJwk(other.privateJwk)));
  });
});

describe('JWE: tampered segments', () => {
  it('the tag truncated to 15 bytes: decryption_failed', async () => {
    await refuseEncrypted('decryption_failed', ({ jwe }) => truncateSegment(jwe, 4, 15));
  });

  it('one bit of the tag flipped: decryption_failed', async () => {
    await refuseEncrypted('decryption_failed', ({ jwe }) => flipBit(jwe, 4, 0));
  });

  it('one bit of the IV flipped: decryption_failed', async () => {
    await refuseEncrypted('decryption_failed', ({ jwe }) => flipBit(jwe, 2, 11));
  });

  it('the IV truncated to 8 bytes: decryption_failed', async () => {
    await refuseEncrypted('decryption_failed', ({ jwe }) => truncateSegment(jwe, 2, 8));
  });

  it('one bit of the ciphertext flipped: decryption_failed', async () => {
    await refuseEncrypted('decryption_failed', ({ jwe }) => flipBit(jwe, 3, 0));
  });

  it('the ciphertext one byte short: decryption_failed', async () => {
    await refuseEncrypted('decryption_failed', ({ jwe }) => replaceSegment(jwe, 3, (s) => b64u(unb64u(s).subarray(0, unb64u(s).length - 1))));
  });

  it('one bit of the encrypted key flipped: decryption_failed', async () => {
    await refuseEncrypted('decryption_failed', ({ jwe }) => flipBit(jwe, 1, 5));
  });

  it('the encrypted key cut to 24 bytes: decryption_failed', async () => {
    await refuseEncrypted('decryption_failed', ({ jwe }) => truncateSegment(jwe, 1, 24));
  });

  it('no encrypted key at all (empty second segment): jwe_header_rejected', async () => {
    await refuseEncrypted('jwe_header_rejected', ({ jwe }) => replaceSegment(jwe, 1, () => ''));
  });

  it('the same header re-encoded with its members in another order (the AAD changes): decryption_failed', async () => {
    await refuseEncrypted('decryption_failed', ({ jwe }) => {
      const header = decodeHeader(jwe);
      const reordered = Object.fromEntries(Object.entries(header).reverse());
      return replaceSegment(jwe, 0, () => encodeHeader(reordered));
    });
  });

  it('one coordinate bit of the epk flipped (the header still parses): decryption_failed', async () => {
    await refuseEncrypted('decryption_failed', ({ jwe }) => {
      const header = decodeHeader(jwe) as { epk: { x: string } };
      const x = unb64u(header.epk.x);
      x[31] = x[31]! ^ 0x01;
      return replaceSegment(jwe, 0, () => encodeHeader({ ...header, epk: { ...header.epk, x: b64u(x) } }));
    });
  });

  it('a sixth segment appended: jwe_header_rejected (step 4 wants a compact JWE)', async () => {
    await refuseEncrypted('jwe_header_rejected', ({ jwe }) => `${jwe}.${b64u('more')}`);
  });

  it('the header in padded standard base64: jwe_header_rejected', async () => {
    await refuseEncrypted('jwe_header_rejected', ({ jwe }) => replaceSegment(jwe, 0, (s) => `${unb64u(s).toString('base64').replace(/=+$/, '')}==`));
  });
});

describe('JWE: signed and encrypted, in that order, exactly once', () => {
  it('signed but not encrypted (the JWS itself submitted): jwe_header_rejected', async () => {
    await refuseEncrypted('jwe_header_rejected', ({ jws }) => jws);
  });

  it('encrypted but not signed (the claims JSON encrypted directly): jws_header_rejected', async () => {
    await refuseEncrypted('jws_header_rejected', ({ claims }) => encryptCompact(VALID_JWE_HEADER(), claims, sb.serviceKey));
  });

  it('encrypted twice (a JWE inside the JWE): jws_header_rejected', async () => {
    await refuseEncrypted('jws_header_rejected', ({ jwe }) => encryptCompact(VALID_JWE_HEADER(), jwe, sb.serviceKey));
  });

  it('the JWE in flattened JSON serialisation: jwe_header_rejected', async () => {
    await refuseEncrypted('jwe_header_rejected', ({ jwe }) => {
      const [protectedHeader, encrypted_key, iv, ciphertext, tag] = jwe.split('.');
      return JSON.stringify({ protected: protectedHeader, encrypted_key, iv, ciphertext, tag });
    });
  });

  it('a JWE larger than 16 384 characters: jwe_header_rejected', async () => {
    await refuseEncrypted('jwe_header_rejected', ({ jws }) => encryptCompact(VALID_JWE_HEADER(), `${jws}${' '.repeat(13_000)}`, sb.serviceKey));
  });
});
