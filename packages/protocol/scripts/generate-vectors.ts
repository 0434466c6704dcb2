/**
 * Generates `packages/protocol/vectors/vectors.json`, the conformance
 * vectors of the protocol (format: `docs/conformance.md`).
 *
 *   npx tsx packages/protocol/scripts/generate-vectors.ts [--check]
 *
 * The committed JSON is the source of truth: regenerating makes new keys and
 * new randomness (every value used is recorded in the file). Each case's
 * expected outcome is written here by hand, then checked against the
 * TypeScript implementation before the file is written; `--check` runs the
 * self-check without writing.
 *
 * Times: every case carries its own `now`, in June 2099, so that no vector
 * expires with the wall clock and a wall-clock JWT library accepts the
 * positive ones as they are.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type JWK, exportJWK, generateKeyPair } from 'jose';
import {
  ACCESS_DATA_CTY,
  CLIENT_ASSERTION_TYP,
  ERROR_CATALOG,
  ERROR_CODES,
  INVOCATION_JWS_TYP,
  type AccessData,
  type Card,
  type Invocation,
  type JwkPair,
  type KeyJwk,
  PROBLEM_TYPE_BASE,
  PROTOCOL_VERSION,
  REQUEST_JWS_TYP,
  type RequestClaims,
  createClientAssertion,
  deviceKeyThumbprint,
  encodeMessageUrl,
  generateEncryptionKey,
  generateSigningKey,
  luhnCheckDigit,
  manualClock,
  sequenceRandom,
  STATUS_QUERY_JWS_TYP,
  signInvocation,
  signStatusQuery,
  toBase64Url,
} from '../src/index.js';
import { b64u, b64uJson, craftJwe, craftJws, flipByte, headerOf, replaceSegment, rewriteProtectedHeader, textOfSegment } from './lib/jose-craft.js';
import { runVector } from './lib/run-vector.js';
import type { Expected, JweRandom, MessageSchemaName, ProvisioningRequestInput, VectorCase, VectorFile } from './lib/vector-types.js';

const here = dirname(fileURLToPath(import.meta.url));
const OUTPUT = join(here, '..', 'vectors', 'vectors.json');

/** 2099-06-15T12:00:00Z. */
const NOW = Date.UTC(2099, 5, 15, 12, 0, 0) / 1000;
const IAT = NOW - 30;
const AUDIENCE = 'token-service';
const ISSUER = 'bank-a';
const PROVIDER = 'wallet-co';
const SKEW = 60;
const MAX_LIFETIME = 900;

const id = (label: string) => toBase64Url(new TextEncoder().encode(label.padEnd(16, '.')).slice(0, 16));
const SESSION = id('session-0001');
const NONCE = id('wallet-nonce-01');
const pan = (partial: string) => partial + luhnCheckDigit(partial);
const PAN = '4111111111111111';
const PAN_RANGE_END = pan('411112000000000');
const PAN_OUTSIDE = '5555555555554444';

const bytes = (length: number) => crypto.getRandomValues(new Uint8Array(length));

interface Keys {
  service: JwkPair;
  service2: JwkPair;
  serviceImpostor: JwkPair;
  issuer: JwkPair;
  issuerEd: JwkPair;
  attacker: JwkPair;
  otherIssuer: JwkPair;
  device: JwkPair;
  device2: JwkPair;
  provider: JwkPair;
}

async function makeKeys(): Promise<Keys> {
  return {
    service: await generateEncryptionKey({ kid: 'ts-2099-01' }),
    service2: await generateEncryptionKey({ kid: 'ts-2099-02' }),
    serviceImpostor: await generateEncryptionKey({ kid: 'ts-2099-01' }),
    issuer: await generateSigningKey({ alg: 'ES256', kid: 'bank-a-2099-01' }),
    issuerEd: await generateSigningKey({ alg: 'EdDSA', kid: 'bank-a-ed-01' }),
    attacker: await generateSigningKey({ alg: 'ES256', kid: 'bank-a-2099-01' }),
    otherIssuer: await generateSigningKey({ alg: 'ES256', kid: 'bank-b-2099-01' }),
    device: await generateEncryptionKey({ kid: 'device-1' }),
    device2: await generateEncryptionKey({ kid: 'device-2' }),
    provider: await generateSigningKey({ alg: 'ES256', kid: 'wallet-co-01' }),
  };
}

async function ephemeral(crv: 'P-256' = 'P-256'): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ECDH-ES+A256KW', { crv, extractable: true });
  return exportJWK(privateKey);
}

/** Encrypts `plaintext` with recorded randomness; `mutate` then rewrites the protected header (re-encrypting under the same CEK and IV). */
async function encryptRecorded(options: {
  plaintext: string | Uint8Array;
  recipient: KeyJwk;
  header: Record<string, unknown>;
  cekLength?: number;
  mutate?: (header: Record<string, unknown>) => Record<string, unknown> | string;
  crit?: Record<string, boolean>;
}): Promise<{ jwe: string; random: JweRandom }> {
  const epk = await ephemeral();
  const cek = bytes(options.cekLength ?? 32);
  const iv = bytes(12);
  let jwe = await craftJwe({ header: options.header, plaintext: options.plaintext, recipient: options.recipient, epk, cek, iv, crit: options.crit });
  if (options.mutate) jwe = await rewriteProtectedHeader(jwe, options.mutate(headerOf(jwe)), cek);
  return { jwe, random: { epk: epk as Record<string, unknown>, cek: b64u(cek), iv: b64u(iv) } };
}

const ok = (values: Record<string, unknown> = {}): Expected => ({ outcome: 'ok', ...values });
const fails = (code: keyof typeof ERROR_CATALOG): Expected => ({ outcome: 'error', code });

async function build(keys: Keys): Promise<VectorCase[]> {
  const cases: VectorCase[] = [];
  const add = (c: VectorCase) => cases.push(c);
  let jtiCounter = 0;

  const card = (overrides: Partial<Card> = {}): Card => ({
    pan: PAN,
    expiry: { month: 12, year: 2101 },
    cardholderName: 'Zoë Ångström',
    billingAddress: { line1: '1 Main Street', city: 'London', postalCode: 'N1 9GU', country: 'GB' },
    ...overrides,
  });

  const claims = (overrides: Record<string, unknown> = {}): RequestClaims => {
    jtiCounter += 1;
    const base: RequestClaims = {
      iss: ISSUER,
      aud: AUDIENCE,
      iat: IAT,
      exp: IAT + 300,
      jti: id(`jti-${String(jtiCounter).padStart(4, '0')}`),
      sid: SESSION,
      walletProviderId: PROVIDER,
      walletAccountId: 'user-42',
      deviceId: 'device-7',
      nonce: NONCE,
      card: card(),
    };
    const out = { ...base, ...overrides } as Record<string, unknown>;
    for (const [k, v] of Object.entries(out)) if (v === undefined) delete out[k];
    return out as unknown as RequestClaims;
  };

  const jwsHeader = (overrides: Record<string, unknown> = {}) => ({ alg: 'ES256', kid: keys.issuer.publicJwk.kid, typ: REQUEST_JWS_TYP, ...overrides });
  const jweHeader = (kid = keys.service.publicJwk.kid) => ({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid, cty: 'JWT' });
  const signClaims = (c: object, options: { header?: Record<string, unknown>; key?: KeyJwk | Uint8Array; payload?: string } = {}) =>
    craftJws({ header: options.header ?? jwsHeader(), payload: options.payload ?? JSON.stringify(c), key: options.key ?? keys.issuer.privateJwk });

  const baseInput = (jwe: string, random: JweRandom | undefined, overrides: Partial<ProvisioningRequestInput> = {}): ProvisioningRequestInput => {
    const input: ProvisioningRequestInput = {
      jwe,
      now: NOW,
      audience: AUDIENCE,
      clockSkewSeconds: SKEW,
      maxLifetimeSeconds: MAX_LIFETIME,
      decryptionKeys: { keys: [keys.service.privateJwk] },
      trustedIssuers: {
        [ISSUER]: {
          keys: [keys.issuer.publicJwk, keys.issuerEd.publicJwk],
          binRanges: [
            { start: '411111', end: '411112' },
            { start: '4000000', end: '4000000' },
          ],
          walletProviders: [PROVIDER],
        },
      },
      seenJtis: [],
      context: { sessionId: SESSION, walletProviderId: PROVIDER, walletAccountId: 'user-42', deviceId: 'device-7', nonce: NONCE },
      accounts: {},
      issuerDecision: 'approve',
      ...overrides,
    };
    if (random) input.random = random;
    return input;
  };

  /** Adds a provisioning-request case. The JWE is built from `claims` unless `jwe` is given. */
  const request = async (spec: {
    id: string;
    title: string;
    description: string;
    claims?: RequestClaims;
    sign?: (c: RequestClaims) => Promise<string>;
    encrypt?: (jws: string) => Promise<{ jwe: string; random?: JweRandom }>;
    input?: Partial<ProvisioningRequestInput>;
    expected: Expected | ((c: RequestClaims) => Expected);
    alterJwe?: (jwe: string) => string;
  }) => {
    const c = spec.claims ?? claims();
    const jws = await (spec.sign ?? ((x: RequestClaims) => signClaims(x)))(c);
    const sealed = spec.encrypt ? await spec.encrypt(jws) : await encryptRecorded({ plaintext: jws, recipient: keys.service.publicJwk, header: jweHeader() });
    const jwe = spec.alterJwe ? spec.alterJwe(sealed.jwe) : sealed.jwe;
    const expected = typeof spec.expected === 'function' ? spec.expected(c) : spec.expected;
    add({ id: spec.id, title: spec.title, kind: 'provisioning-request', description: spec.description, input: baseInput(jwe, sealed.random, spec.input), expected });
  };

  const accepted = (tokenStatus: 'active' | 'pending_activation' = 'active', signingKid = keys.issuer.publicJwk.kid, encryptionKid = keys.service.publicJwk.kid) => (c: RequestClaims) =>
    ok({ claims: c, encryptionKid, signingKid, tokenStatus });

  // ---------------------------------------------------------------- positive provisioning requests
  await request({
    id: 'pr-valid-es256',
    title: 'A valid request signed with ES256',
    description: 'Claims with a card (PAN, expiry, NFC cardholder name with diacritics, billing address), signed ES256 by the trusted issuer, encrypted ECDH-ES+A256KW/A256GCM to the service key; the submission context matches.',
    expected: accepted(),
  });
  await request({
    id: 'pr-valid-eddsa',
    title: 'A valid request signed with EdDSA (Ed25519)',
    description: 'As pr-valid-es256, signed with the issuer’s Ed25519 key.',
    sign: (c) => signClaims(c, { header: jwsHeader({ alg: 'EdDSA', kid: keys.issuerEd.publicJwk.kid }), key: keys.issuerEd.privateJwk }),
    expected: accepted('active', keys.issuerEd.publicJwk.kid),
  });
  await request({
    id: 'pr-valid-rotated-service-key',
    title: 'The service key is picked by kid among several',
    description: 'The service holds two decryption keys (rotation); the request is encrypted to the second one and names it by kid.',
    encrypt: (jws) => encryptRecorded({ plaintext: jws, recipient: keys.service2.publicJwk, header: jweHeader(keys.service2.publicJwk.kid) }),
    input: { decryptionKeys: { keys: [keys.service.privateJwk, keys.service2.privateJwk] } },
    expected: accepted('active', keys.issuer.publicJwk.kid, keys.service2.publicJwk.kid),
  });
  await request({
    id: 'pr-valid-account-ref',
    title: 'A valid request with an issuer account reference instead of a card',
    description: 'The claims carry accountRef; the issuer resolves it (input.accounts) to a card that passes the card checks.',
    claims: claims({ card: undefined, accountRef: 'acct-0001' }),
    input: { accounts: { 'acct-0001': card({ cardholderName: undefined, billingAddress: undefined }) } },
    expected: accepted(),
  });
  await request({
    id: 'pr-valid-step-up',
    title: 'The issuer asks for step-up: the token is issued pending activation',
    description: 'Everything is valid; the issuer decision is step_up.',
    input: { issuerDecision: 'step_up' },
    expected: accepted('pending_activation'),
  });
  {
    const devicePublicKey = { kty: 'EC' as const, crv: 'P-256' as const, x: keys.device.publicJwk.x!, y: keys.device.publicJwk.y!, kid: 'device-1' };
    const jkt = await deviceKeyThumbprint(devicePublicKey);
    await request({
      id: 'pr-valid-device-key',
      title: 'A valid request bound to the wallet’s device key',
      description: `As pr-valid-es256, with cnf.jkt = the RFC 7638 SHA-256 thumbprint of the device key the wallet sent in its identifiers (over {"crv","kty","x","y"} only: "${jkt}"); the submission carries that devicePublicKey.`,
      claims: claims({ cnf: { jkt } }),
      input: { context: { sessionId: SESSION, walletProviderId: PROVIDER, walletAccountId: 'user-42', deviceId: 'device-7', nonce: NONCE, devicePublicKey } },
      expected: accepted(),
    });
    await request({
      id: 'pr-valid-device-key-eddsa',
      title: 'A valid EdDSA request bound to a device key without kid',
      description: 'As pr-valid-device-key, signed with the issuer’s Ed25519 key; the submitted device key has no kid, alg or use (the thumbprint is the same).',
      claims: claims({ cnf: { jkt } }),
      sign: (c) => signClaims(c, { header: jwsHeader({ alg: 'EdDSA', kid: keys.issuerEd.publicJwk.kid }), key: keys.issuerEd.privateJwk }),
      input: { context: { sessionId: SESSION, walletProviderId: PROVIDER, walletAccountId: 'user-42', deviceId: 'device-7', nonce: NONCE, devicePublicKey: { kty: 'EC', crv: 'P-256', x: devicePublicKey.x, y: devicePublicKey.y } } },
      expected: accepted('active', keys.issuerEd.publicJwk.kid),
    });
  }
  await request({
    id: 'pr-boundary-iat-at-skew',
    title: 'iat exactly clock-skew seconds in the future is accepted',
    description: 'iat = now + 60 with a skew of 60 s (valid while iat - skew <= now).',
    claims: claims({ iat: NOW + 60, exp: NOW + 360 }),
    expected: accepted(),
  });
  await request({
    id: 'pr-boundary-exp-before-skew',
    title: 'One second before exp + skew is accepted',
    description: 'now = exp + 59 with a skew of 60 s (valid while now < exp + skew).',
    input: { now: IAT + 300 + 59 },
    expected: accepted(),
  });
  await request({
    id: 'pr-boundary-max-lifetime',
    title: 'A lifetime of exactly the maximum is accepted',
    description: 'exp - iat = 900 = maxLifetimeSeconds.',
    claims: claims({ exp: IAT + 900 }),
    expected: accepted(),
  });
  await request({
    id: 'pr-boundary-card-expiry-month',
    title: 'A card expiring in the current month is accepted',
    description: 'Expiry 06/2099 at now = 2099-06-15: a card is valid through the last instant of its expiry month (UTC).',
    claims: claims({ card: card({ expiry: { month: 6, year: 2099 } }) }),
    expected: accepted(),
  });
  await request({
    id: 'pr-boundary-bin-range-end',
    title: 'A PAN at the upper end of a BIN range is accepted',
    description: 'BIN range 411111-411112 (inclusive); the PAN starts with 411112.',
    claims: claims({ card: card({ pan: PAN_RANGE_END }) }),
    expected: accepted(),
  });

  // ---------------------------------------------------------------- JWE structure and header
  await request({
    id: 'pr-jwe-zip',
    title: 'A JWE with zip (compressed plaintext) is refused',
    description: 'Otherwise valid, with "zip":"DEF" and a really DEFLATE-compressed JWS. Compression is never allowed.',
    encrypt: (jws) => encryptRecorded({ plaintext: jws, recipient: keys.service.publicJwk, header: { ...jweHeader(), zip: 'DEF' } }),
    expected: fails('jwe_header_rejected'),
  });
  await request({
    id: 'pr-jwe-crit',
    title: 'A JWE with crit is refused',
    description: 'The protected header adds "crit":["exp"] and "exp"; crit is never allowed. Otherwise valid (the header is the AAD of a real encryption).',
    encrypt: (jws) => encryptRecorded({ plaintext: jws, recipient: keys.service.publicJwk, header: jweHeader(), mutate: (h) => ({ ...h, crit: ['exp'], exp: NOW + 300 }) }),
    expected: fails('jwe_header_rejected'),
  });
  await request({
    id: 'pr-jwe-jku',
    title: 'A JWE header naming a key URL (jku) is refused',
    description: 'jku is outside the allow-list; keys are never fetched from a request.',
    encrypt: (jws) => encryptRecorded({ plaintext: jws, recipient: keys.service.publicJwk, header: jweHeader(), mutate: (h) => ({ ...h, jku: 'https://attacker.example/jwks.json' }) }),
    expected: fails('jwe_header_rejected'),
  });
  await request({
    id: 'pr-jwe-alg-ecdh-es-direct',
    title: 'A JWE with alg ECDH-ES (direct key agreement) is refused',
    description: 'Encrypted for real with ECDH-ES and A256GCM; only ECDH-ES+A256KW is allowed.',
    encrypt: async (jws) => {
      const epk = await ephemeral();
      const iv = bytes(12);
      const jwe = await craftJwe({ header: { alg: 'ECDH-ES', enc: 'A256GCM', kid: keys.service.publicJwk.kid, cty: 'JWT' }, plaintext: jws, recipient: keys.service.publicJwk, epk, iv });
      return { jwe };
    },
    expected: fails('jwe_header_rejected'),
  });
  await request({
    id: 'pr-jwe-enc-a128gcm',
    title: 'A JWE with enc A128GCM is refused',
    description: 'Encrypted for real with A128GCM content encryption; only A256GCM is allowed.',
    encrypt: (jws) => encryptRecorded({ plaintext: jws, recipient: keys.service.publicJwk, header: { ...jweHeader(), enc: 'A128GCM' }, cekLength: 16 }),
    expected: fails('jwe_header_rejected'),
  });
  await request({
    id: 'pr-jwe-missing-cty',
    title: 'A JWE without cty is refused',
    description: 'cty "JWT" is required.',
    encrypt: (jws) =>
      encryptRecorded({
        plaintext: jws,
        recipient: keys.service.publicJwk,
        header: jweHeader(),
        mutate: ({ cty: _cty, ...h }) => h,
      }),
    expected: fails('jwe_header_rejected'),
  });
  await request({
    id: 'pr-jwe-epk-extra-member',
    title: 'An epk with a member other than kty, crv, x, y is refused',
    description: 'The ephemeral public key carries an extra "kid".',
    encrypt: (jws) =>
      encryptRecorded({
        plaintext: jws,
        recipient: keys.service.publicJwk,
        header: jweHeader(),
        mutate: (h) => ({ ...h, epk: { ...(h.epk as object), kid: 'e1' } }),
      }),
    expected: fails('jwe_header_rejected'),
  });
  await request({
    id: 'pr-jwe-embedded-jwk',
    title: 'A JWE header with an embedded jwk is refused',
    description: 'jwk is outside the allow-list; a key is only ever picked by kid from the service’s own set.',
    encrypt: (jws) =>
      encryptRecorded({ plaintext: jws, recipient: keys.service.publicJwk, header: jweHeader(), mutate: (h) => ({ ...h, jwk: { kty: 'EC', crv: 'P-256', x: keys.service.publicJwk.x, y: keys.service.publicJwk.y } }) }),
    expected: fails('jwe_header_rejected'),
  });
  await request({
    id: 'pr-jwe-json-serialization',
    title: 'The JWE JSON serialisation is refused',
    description: 'A valid request re-expressed in the flattened JSON serialisation; only the compact serialisation is allowed.',
    alterJwe: (jwe) => {
      const [p, k, iv, c, t] = jwe.split('.');
      return JSON.stringify({ protected: p, encrypted_key: k, iv, ciphertext: c, tag: t });
    },
    expected: fails('jwe_header_rejected'),
  });
  await request({
    id: 'pr-signed-not-encrypted',
    title: 'A signed but not encrypted request is refused',
    description: 'The issuer-signed JWS itself is submitted in place of the JWE.',
    encrypt: async (jws) => ({ jwe: jws }),
    expected: fails('jwe_header_rejected'),
  });
  await request({
    id: 'pr-jwe-unknown-kid',
    title: 'A JWE naming a service key the service does not have is refused',
    description: 'Encrypted to a key with kid ts-2099-02, which this service does not hold.',
    encrypt: (jws) => encryptRecorded({ plaintext: jws, recipient: keys.service2.publicJwk, header: jweHeader(keys.service2.publicJwk.kid) }),
    expected: fails('unknown_key'),
  });

  // ---------------------------------------------------------------- tampering and decryption
  await request({
    id: 'pr-tampered-protected-header',
    title: 'A protected header re-serialised with the same members fails to decrypt',
    description: 'The header members are re-ordered (same values, all allowed): the protected header is the AAD, so the tag no longer verifies.',
    alterJwe: (jwe) => replaceSegment(jwe, 0, b64uJson(Object.fromEntries(Object.entries(headerOf(jwe)).reverse()))),
    expected: fails('decryption_failed'),
  });
  for (const [segment, name] of [
    [1, 'encrypted-key'],
    [2, 'iv'],
    [3, 'ciphertext'],
    [4, 'tag'],
  ] as const) {
    await request({
      id: `pr-tampered-${name}`,
      title: `One flipped bit in the ${name.replace('-', ' ')} fails to decrypt`,
      description: `The lowest bit of the first byte of the decoded ${name.replace('-', ' ')} segment is flipped.`,
      alterJwe: (jwe) => flipByte(jwe, segment, 0),
      expected: fails('decryption_failed'),
    });
  }
  await request({
    id: 'pr-wrong-service-key',
    title: 'A request decrypted with another key under the same kid fails',
    description: 'The service holds a different private key with the kid the request names.',
    input: { decryptionKeys: { keys: [keys.serviceImpostor.privateJwk] } },
    expected: fails('decryption_failed'),
  });

  // ---------------------------------------------------------------- inner JWS
  await request({
    id: 'pr-encrypted-not-signed',
    title: 'Encrypted but unsigned claims are refused',
    description: 'The JWE plaintext is the claims JSON itself, not a JWS.',
    sign: async (c) => JSON.stringify(c),
    expected: fails('jws_header_rejected'),
  });
  await request({
    id: 'pr-jws-alg-none',
    title: 'An unsecured inner JWT (alg none) is refused',
    description: 'Inner token with {"alg":"none"} and an empty signature.',
    sign: (c) => craftJws({ header: jwsHeader({ alg: 'none' }), payload: JSON.stringify(c) }),
    expected: fails('jws_header_rejected'),
  });
  await request({
    id: 'pr-jws-alg-none-mixed-case',
    title: 'alg "nOnE" with a signature segment is refused',
    description: 'Mixed-case none and a non-empty signature segment.',
    sign: (c) => craftJws({ header: jwsHeader({ alg: 'nOnE' }), payload: JSON.stringify(c), signature: b64u('signature') }),
    expected: fails('jws_header_rejected'),
  });
  await request({
    id: 'pr-jws-hs256-public-key',
    title: 'HS256 keyed with the issuer public key is refused',
    description: 'The classic key-confusion attack: HMAC-SHA-256 with the UTF-8 of the issuer’s public JWK JSON as the secret.',
    sign: (c) => signClaims(c, { header: jwsHeader({ alg: 'HS256' }), key: new TextEncoder().encode(JSON.stringify(keys.issuer.publicJwk)) }),
    expected: fails('jws_header_rejected'),
  });
  await request({
    id: 'pr-jws-wrong-typ',
    title: 'An inner JWS with typ "JWT" is refused',
    description: `The typ must be exactly "${REQUEST_JWS_TYP}".`,
    sign: (c) => signClaims(c, { header: jwsHeader({ typ: 'JWT' }) }),
    expected: fails('jws_header_rejected'),
  });
  await request({
    id: 'pr-jws-invocation-typ',
    title: 'A JWS made for another purpose (an invocation signature typ) is refused',
    description: `typ "${INVOCATION_JWS_TYP}": tokens of this protocol cannot stand in for each other.`,
    sign: (c) => signClaims(c, { header: jwsHeader({ typ: INVOCATION_JWS_TYP }) }),
    expected: fails('jws_header_rejected'),
  });
  await request({
    id: 'pr-jws-embedded-jwk',
    title: 'An inner JWS signed by an attacker who embeds their key is refused',
    description: 'Header with jwk = the attacker’s public key, signed with the attacker’s key under the issuer’s kid.',
    sign: (c) => signClaims(c, { header: jwsHeader({ jwk: keys.attacker.publicJwk }), key: keys.attacker.privateJwk }),
    expected: fails('jws_header_rejected'),
  });

  // ---------------------------------------------------------------- issuer key and signature
  await request({
    id: 'pr-untrusted-issuer',
    title: 'A request from an issuer the service does not trust is refused',
    description: 'iss "bank-z" is not registered.',
    claims: claims({ iss: 'bank-z' }),
    expected: fails('unknown_issuer'),
  });
  await request({
    id: 'pr-unknown-issuer-kid',
    title: 'A kid the issuer has not registered is refused',
    description: 'The JWS names kid "bank-a-2099-99".',
    sign: (c) => signClaims(c, { header: jwsHeader({ kid: 'bank-a-2099-99' }) }),
    expected: fails('unknown_issuer'),
  });
  await request({
    id: 'pr-signature-forged',
    title: 'A request signed by another key under the issuer’s kid is refused',
    description: 'Signed ES256 by the attacker key, header naming the issuer key’s kid.',
    sign: (c) => signClaims(c, { key: keys.attacker.privateJwk }),
    expected: fails('signature_invalid'),
  });
  await request({
    id: 'pr-claims-altered-after-signing',
    title: 'Claims changed after signing are refused',
    description: 'The JWS payload is replaced by claims naming another device; the signature is the original one.',
    sign: async (c) => replaceSegment(await signClaims(c), 1, b64uJson({ ...c, deviceId: 'device-8' })),
    expected: fails('signature_invalid'),
  });

  // ---------------------------------------------------------------- claims
  await request({
    id: 'pr-claims-missing-nonce',
    title: 'Signed claims without the wallet nonce are refused',
    description: 'The nonce claim is absent.',
    claims: claims({ nonce: undefined }),
    expected: fails('invalid_claims'),
  });
  await request({
    id: 'pr-claims-unknown-claim',
    title: 'Signed claims with an unknown claim are refused',
    description: 'An extra "nbf" claim: the claims object is closed.',
    claims: claims({ nbf: IAT }),
    expected: fails('invalid_claims'),
  });
  await request({
    id: 'pr-pan-arabic-indic-digits',
    title: 'A PAN in Arabic-Indic digits is refused',
    description: 'The PAN 4111 1111 1111 1111 written with U+0660-U+0669 digits: a PAN is ASCII digits only.',
    claims: claims({ card: card({ pan: '٤١١١١١١١١١١١١١١١' }) }),
    expected: fails('card_invalid'),
  });
  await request({
    id: 'pr-pan-fullwidth-digits',
    title: 'A PAN in fullwidth digits is refused',
    description: 'The PAN written with U+FF10-U+FF19 digits.',
    claims: claims({ card: card({ pan: '４１１１１１１１１１１１１１１１' }) }),
    expected: fails('card_invalid'),
  });
  await request({
    id: 'pr-pan-bad-luhn',
    title: 'A PAN failing the Luhn check is refused',
    description: '4111111111111112.',
    claims: claims({ card: card({ pan: '4111111111111112' }) }),
    expected: fails('card_invalid'),
  });
  await request({
    id: 'pr-expiry-month-13',
    title: 'An impossible expiry month is refused',
    description: 'Expiry month 13.',
    claims: claims({ card: card({ expiry: { month: 13, year: 2101 } }) }),
    expected: fails('card_invalid'),
  });
  await request({
    id: 'pr-audience-mismatch',
    title: 'A request for another token service is refused',
    description: 'aud "other-token-service".',
    claims: claims({ aud: 'other-token-service' }),
    expected: fails('audience_mismatch'),
  });
  await request({
    id: 'pr-lifetime-exceeded',
    title: 'A lifetime one second over the maximum is refused',
    description: 'exp - iat = 901 with maxLifetimeSeconds 900.',
    claims: claims({ exp: IAT + 901 }),
    expected: fails('lifetime_exceeded'),
  });
  await request({
    id: 'pr-not-yet-valid',
    title: 'iat one second beyond the clock skew is refused',
    description: 'iat = now + 61 with a skew of 60 s.',
    claims: claims({ iat: NOW + 61, exp: NOW + 361 }),
    expected: fails('not_yet_valid'),
  });
  await request({
    id: 'pr-expired',
    title: 'A request at exactly exp + skew is refused',
    description: 'now = exp + 60 with a skew of 60 s.',
    input: { now: IAT + 300 + 60 },
    expected: fails('expired'),
  });

  // ---------------------------------------------------------------- replay, binding, card, decision
  await request({
    id: 'pr-replayed',
    title: 'A request whose jti was already used is refused',
    description: 'seenJtis holds this issuer’s jti.',
    claims: claims({ jti: id('jti-replayed') }),
    input: { seenJtis: [{ iss: ISSUER, jti: id('jti-replayed') }] },
    expected: fails('replayed'),
  });
  const binding: [string, string, keyof ProvisioningRequestInput['context'], string, keyof typeof ERROR_CATALOG][] = [
    ['session', 'another session id', 'sessionId', id('session-0002'), 'session_mismatch'],
    ['wallet-provider', 'another authenticated wallet provider', 'walletProviderId', 'wallet-evil', 'wallet_provider_mismatch'],
    ['wallet-account', 'another wallet account', 'walletAccountId', 'user-43', 'wallet_account_mismatch'],
    ['device', 'another device', 'deviceId', 'device-8', 'device_mismatch'],
    ['nonce', 'another wallet nonce', 'nonce', id('wallet-nonce-02'), 'nonce_mismatch'],
  ];
  for (const [name, what, field, value, code] of binding) {
    await request({
      id: `pr-binding-${name}`,
      title: `A request submitted with ${what} is refused`,
      description: `The submission context's ${field} differs from the one inside the encrypted claims.`,
      input: { context: { sessionId: SESSION, walletProviderId: PROVIDER, walletAccountId: 'user-42', deviceId: 'device-7', nonce: NONCE, [field]: value } },
      expected: fails(code),
    });
  }
  // The device key: cnf.jkt is the RFC 7638 thumbprint of the submitted devicePublicKey.
  const devicePublicKey = { kty: 'EC' as const, crv: 'P-256' as const, x: keys.device.publicJwk.x!, y: keys.device.publicJwk.y!, kid: 'device-1' };
  const otherDevicePublicKey = { kty: 'EC' as const, crv: 'P-256' as const, x: keys.device2.publicJwk.x!, y: keys.device2.publicJwk.y!, kid: 'device-2' };
  const cnf = { jkt: await deviceKeyThumbprint(devicePublicKey) };
  const keyedContext = { sessionId: SESSION, walletProviderId: PROVIDER, walletAccountId: 'user-42', deviceId: 'device-7', nonce: NONCE, devicePublicKey };
  // A common mistake: hashing the whole public JWK (kid, alg, use included) instead of the RFC 7638 members only.
  const wholeJwk = JSON.stringify(Object.fromEntries(Object.entries({ ...devicePublicKey, alg: 'ECDH-ES+A256KW', use: 'enc' }).sort(([a], [b]) => (a < b ? -1 : 1))));
  const wrongJkt = b64u(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(wholeJwk))));
  await request({
    id: 'pr-device-key-other',
    title: 'A request bound to one device key, submitted with another, is refused',
    description: 'cnf.jkt is the thumbprint of device key "device-1"; the submission carries another P-256 key ("device-2"). The access data (a new token or one already issued) would be encrypted to a key the issuer never signed for.',
    claims: claims({ cnf }),
    input: { context: { ...keyedContext, devicePublicKey: otherDevicePublicKey } },
    expected: fails('device_key_mismatch'),
  });
  await request({
    id: 'pr-device-key-missing',
    title: 'A request bound to a device key, submitted without one, is refused',
    description: 'cnf.jkt names the device key; the submission carries no devicePublicKey (the access data would come back in the clear).',
    claims: claims({ cnf }),
    expected: fails('device_key_mismatch'),
  });
  await request({
    id: 'pr-device-key-unbound',
    title: 'A submission with a device key the request does not name is refused',
    description: 'The claims have no cnf; the submission carries a devicePublicKey. A key the issuer did not sign for is never used.',
    input: { context: keyedContext },
    expected: fails('device_key_mismatch'),
  });
  await request({
    id: 'pr-device-key-thumbprint-whole-jwk',
    title: 'A jkt computed over the whole JWK (kid, alg, use included) does not match',
    description: 'cnf.jkt is the SHA-256 of the sorted JSON of every member of the public JWK, not of the RFC 7638 required members (crv, kty, x, y) only.',
    claims: claims({ cnf: { jkt: wrongJkt } }),
    input: { context: keyedContext },
    expected: fails('device_key_mismatch'),
  });
  await request({
    id: 'pr-wallet-provider-not-allowed',
    title: 'A request for a wallet provider the issuer does not accept is refused',
    description: 'Everything is bound and valid, and the caller is the wallet provider the claims name, but the issuer lists only another wallet provider (trustedIssuers[iss].walletProviders): the issuer never agreed to its cards reaching this wallet.',
    input: {
      trustedIssuers: {
        [ISSUER]: {
          keys: [keys.issuer.publicJwk, keys.issuerEd.publicJwk],
          binRanges: [{ start: '411111', end: '411112' }],
          walletProviders: ['wallet-other'],
        },
      },
    },
    expected: fails('wallet_provider_not_allowed'),
  });
  await request({
    id: 'pr-wallet-provider-not-allowed-after-device-key',
    title: 'The issuer accepts the wallet provider is checked after the device key',
    description: 'Both the device key and the accepted wallet providers are wrong: the device key is compared first (device_key_mismatch).',
    claims: claims({ cnf }),
    input: {
      context: { ...keyedContext, devicePublicKey: otherDevicePublicKey },
      trustedIssuers: {
        [ISSUER]: {
          keys: [keys.issuer.publicJwk, keys.issuerEd.publicJwk],
          binRanges: [{ start: '411111', end: '411112' }],
          walletProviders: ['wallet-other'],
        },
      },
    },
    expected: fails('device_key_mismatch'),
  });
  await request({
    id: 'pr-device-key-after-nonce',
    title: 'The device key is compared after the other identifiers',
    description: 'Both the nonce and the device key differ: the nonce is compared first (nonce_mismatch).',
    claims: claims({ cnf }),
    input: { context: { ...keyedContext, nonce: id('wallet-nonce-02'), devicePublicKey: otherDevicePublicKey } },
    expected: fails('nonce_mismatch'),
  });
  await request({
    id: 'pr-claims-cnf-extra-member',
    title: 'A confirmation claim with another member than jkt is refused',
    description: 'cnf carries jkt and an embedded jwk: the cnf object is closed.',
    claims: claims({ cnf: { ...cnf, jwk: devicePublicKey } }),
    input: { context: keyedContext },
    expected: fails('invalid_claims'),
  });

  await request({
    id: 'pr-card-expired',
    title: 'A card whose expiry month has passed is refused',
    description: 'Expiry 05/2099 at now = 2099-06-15.',
    claims: claims({ card: card({ expiry: { month: 5, year: 2099 } }) }),
    expected: fails('card_expired'),
  });
  await request({
    id: 'pr-card-not-eligible',
    title: 'A PAN outside the issuer’s BIN ranges is refused',
    description: 'A valid Mastercard test PAN; the issuer registered 411111-411112 and 4000000 only.',
    claims: claims({ card: card({ pan: PAN_OUTSIDE }) }),
    expected: fails('card_not_eligible'),
  });
  await request({
    id: 'pr-account-ref-unknown',
    title: 'An account reference the issuer does not know is refused',
    description: 'accountRef "acct-9999" is not in input.accounts.',
    claims: claims({ card: undefined, accountRef: 'acct-9999' }),
    expected: fails('card_invalid'),
  });
  await request({
    id: 'pr-declined',
    title: 'The issuer declines',
    description: 'Everything is valid; the issuer decision is decline.',
    input: { issuerDecision: 'decline' },
    expected: fails('declined'),
  });

  // ---------------------------------------------------------------- app messages and bodies
  const invocation: Invocation = {
    type: 'invocation',
    version: PROTOCOL_VERSION,
    sessionId: SESSION,
    issuerId: ISSUER,
    account: { last4: '1111', network: 'visa', productName: 'Everyday Card', issuerName: 'Bank A' },
    replyTo: 'https://bank.example/wallet-return',
    iat: NOW,
    exp: NOW + 300,
  };
  const identifiers = {
    type: 'identifiers',
    version: PROTOCOL_VERSION,
    sessionId: SESSION,
    walletProviderId: PROVIDER,
    walletAccountId: 'user-42',
    deviceId: 'device-7',
    nonce: NONCE,
    devicePublicKey: { kty: 'EC', crv: 'P-256', x: keys.device.publicJwk.x, y: keys.device.publicJwk.y, kid: 'device-1' },
  };
  const validJwe = (cases[0]!.input as ProvisioningRequestInput).jwe;
  const submission = { type: 'submission', version: PROTOCOL_VERSION, sessionId: SESSION, walletAccountId: 'user-42', deviceId: 'device-7', nonce: NONCE, encryptedRequest: validJwe };
  const result = { type: 'result', version: PROTOCOL_VERSION, sessionId: SESSION, status: 'provisioned', tokenReferenceId: 'tok_0001' };
  const message = (spec: { id: string; title: string; description: string; schema: MessageSchemaName; json: string; expected: Expected }) =>
    add({ id: spec.id, title: spec.title, kind: 'message', description: spec.description, input: { schema: spec.schema, json: spec.json }, expected: spec.expected });

  message({ id: 'msg-invocation-valid', title: 'A valid invocation', description: 'Step 1, issuer app to wallet.', schema: 'app-message', json: JSON.stringify(invocation), expected: ok({ value: invocation }) });
  message({ id: 'msg-identifiers-valid', title: 'Valid identifiers with a device key', description: 'Step 2, wallet to issuer app.', schema: 'app-message', json: JSON.stringify(identifiers), expected: ok({ value: identifiers }) });
  message({ id: 'msg-submission-valid', title: 'A valid submission body', description: 'Step 4, wallet to token service.', schema: 'submission', json: JSON.stringify(submission), expected: ok({ value: submission }) });
  message({ id: 'msg-result-valid', title: 'A valid result', description: 'Step 6, wallet to issuer app.', schema: 'app-message', json: JSON.stringify(result), expected: ok({ value: result }) });
  // ---------------------------------------------------------------- the yellow path (protocol section 11)
  const methods = [
    { id: 'sms', type: 'otp_sms', destination: '•••• 0199' },
    { id: 'email', type: 'otp_email', destination: 'a•••@example.com' },
    { id: 'app', type: 'issuer_app' },
    { id: 'call', type: 'customer_service', phoneNumber: '+44 20 7946 0000' },
  ];
  const verification = { methods, expiresAt: NOW + 7 * 86_400 };
  const pendingStatus = { type: 'token-status', version: PROTOCOL_VERSION, tokenReferenceId: 'tok_0001', status: 'pending_activation', tokenLast4: '4321', tokenExpiry: { month: 6, year: 2102 }, updatedAt: NOW, verification };
  const verificationRequest = { type: 'verification-request', version: PROTOCOL_VERSION, methodId: 'sms' };
  const verificationStarted = { type: 'verification-started', version: PROTOCOL_VERSION, tokenReferenceId: 'tok_0001', methodId: 'sms', codeLength: 6, codeExpiresAt: NOW + 600, resendAfter: NOW + 30, attemptsLeft: 5 };
  const activationRequest = { type: 'activation-request', version: PROTOCOL_VERSION, methodId: 'sms', code: '480193' };
  const issuerActivation = { type: 'issuer-activation', version: PROTOCOL_VERSION, method: 'issuer_app' };
  message({ id: 'msg-token-status-pending', title: 'A pending token status with its verification methods', description: 'One method of each type; destinations masked.', schema: 'token-status', json: JSON.stringify(pendingStatus), expected: ok({ value: pendingStatus }) });
  message({
    id: 'msg-token-status-pending-without-methods',
    title: 'A pending token status without verification is refused',
    description: 'verification is required exactly when status is pending_activation.',
    schema: 'token-status',
    json: JSON.stringify({ ...pendingStatus, verification: undefined }),
    expected: fails('invalid_message'),
  });
  message({
    id: 'msg-token-status-active-with-methods',
    title: 'An active token status with verification is refused',
    description: 'verification is present only while pending.',
    schema: 'token-status',
    json: JSON.stringify({ ...pendingStatus, status: 'active' }),
    expected: fails('invalid_message'),
  });
  message({
    id: 'msg-verification-destination-in-clear',
    title: 'An SMS destination in the clear is refused',
    description: 'A masked destination contains U+2022 and at most 4 digits in a row (6 in all).',
    schema: 'token-status',
    json: JSON.stringify({ ...pendingStatus, verification: { ...verification, methods: [{ id: 'sms', type: 'otp_sms', destination: '+44 7700 900199' }] } }),
    expected: fails('invalid_message'),
  });
  message({
    id: 'msg-verification-duplicate-method-ids',
    title: 'Two methods with one id are refused',
    description: 'Method ids are distinct within a token.',
    schema: 'token-status',
    json: JSON.stringify({ ...pendingStatus, verification: { ...verification, methods: [methods[2], { ...methods[3], id: 'app' }] } }),
    expected: fails('invalid_message'),
  });
  message({ id: 'msg-verification-request-valid', title: 'A valid verification request', description: 'POST /v1/tokens/{id}/verification.', schema: 'verification-request', json: JSON.stringify(verificationRequest), expected: ok({ value: verificationRequest }) });
  message({ id: 'msg-verification-started-valid', title: 'A valid verification-started answer', description: 'The code itself is never in it.', schema: 'verification-started', json: JSON.stringify(verificationStarted), expected: ok({ value: verificationStarted }) });
  message({
    id: 'msg-verification-started-with-code',
    title: 'A verification-started answer carrying a code is refused',
    description: 'Closed object: no code member.',
    schema: 'verification-started',
    json: JSON.stringify({ ...verificationStarted, code: '480193' }),
    expected: fails('invalid_message'),
  });
  message({ id: 'msg-activation-request-valid', title: 'A valid activation request', description: 'POST /v1/tokens/{id}/activation: 6 to 8 ASCII digits.', schema: 'activation-request', json: JSON.stringify(activationRequest), expected: ok({ value: activationRequest }) });
  message({
    id: 'msg-activation-request-code-not-digits',
    title: 'An activation code that is not 6 to 8 ASCII digits is refused',
    description: 'Fullwidth digits: invalid_message (no attempt is counted for it).',
    schema: 'activation-request',
    json: JSON.stringify({ ...activationRequest, code: '４８０１９３' }),
    expected: fails('invalid_message'),
  });
  message({ id: 'msg-issuer-activation-valid', title: 'A valid issuer activation', description: 'POST /v1/issuer/tokens/{id}/activation.', schema: 'issuer-activation', json: JSON.stringify(issuerActivation), expected: ok({ value: issuerActivation }) });
  message({
    id: 'msg-issuer-activation-otp',
    title: 'An issuer activation by an OTP method is refused',
    description: 'The issuer activates only by issuer_app or customer_service.',
    schema: 'issuer-activation',
    json: JSON.stringify({ ...issuerActivation, method: 'otp_sms' }),
    expected: fails('invalid_message'),
  });
  {
    // The issuer's view of a token (section 4.9) and the activation invocation (section 4.17).
    const issuerStatus = { ...pendingStatus, walletProviderId: PROVIDER, panLast4: '1111', accountId: 'acct-7f3a' };
    message({
      id: 'msg-issuer-token-status-valid',
      title: 'The token status an issuer reads, with the account id and the card’s last four digits',
      description: 'GET /v1/issuer/tokens/{id}: a pending token, its wallet provider, panLast4 and accountId.',
      schema: 'issuer-token-status',
      json: JSON.stringify(issuerStatus),
      expected: ok({ value: issuerStatus }),
    });
    message({
      id: 'msg-issuer-token-status-pan',
      title: 'An issuer token status with a card number is refused',
      description: 'panLast4 is exactly four digits: a full card number there is refused.',
      schema: 'issuer-token-status',
      json: JSON.stringify({ ...issuerStatus, panLast4: PAN }),
      expected: fails('invalid_message'),
    });
    const activationInvocation = {
      type: 'activation-invocation',
      version: PROTOCOL_VERSION,
      tokenReferenceId: 'tok_0001',
      methodId: 'app',
      issuerId: ISSUER,
      walletProviderId: PROVIDER,
      nonce: id('activation-nonce'),
      correlationId: 'cor_activation-0001',
    };
    message({
      id: 'msg-activation-invocation-valid',
      title: 'A valid activation invocation, as an app message',
      description: 'Wallet to issuer app (section 4.17): the user chose the issuer_app method of a pending token.',
      schema: 'app-message',
      json: JSON.stringify(activationInvocation),
      expected: ok({ value: activationInvocation }),
    });
    message({
      id: 'msg-activation-invocation-user',
      title: 'An activation invocation that names a user is refused',
      description: 'Closed object: the issuer app takes its customer from its own sign-in, and an unknown member (userId) is refused.',
      schema: 'activation-invocation',
      json: JSON.stringify({ ...activationInvocation, userId: 'alice' }),
      expected: fails('invalid_message'),
    });
    message({
      id: 'msg-activation-invocation-short-nonce',
      title: 'An activation invocation with a short nonce is refused',
      description: 'The nonce is a random id: at least 22 base64url characters.',
      schema: 'activation-invocation',
      json: JSON.stringify({ ...activationInvocation, nonce: 'abc' }),
      expected: fails('invalid_message'),
    });
    message({
      id: 'msg-activation-invocation-version',
      title: 'An activation invocation of another version is refused as unsupported_version',
      description: 'version 2.',
      schema: 'activation-invocation',
      json: JSON.stringify({ ...activationInvocation, version: 2 }),
      expected: fails('unsupported_version'),
    });
  }
  // ---------------------------------------------------------------- the token lifecycle (protocol section 12)
  const walletLifecycle = { action: 'suspend', reason: 'card_lost', actor: 'cardholder' };
  const issuerLifecycle = { action: 'delete', reason: 'suspected_fraud' };
  const lifecycleResponse = { tokenReferenceId: 'tok_0001', status: 'suspended', previousStatus: 'active', changedAt: NOW };
  const history = {
    tokenReferenceId: 'tok_0001',
    status: 'suspended',
    history: [
      { from: null, to: 'pending_activation', actor: 'wallet_provider', reason: 'customer_request', at: NOW - 600 },
      { from: 'pending_activation', to: 'active', actor: 'cardholder', reason: 'identity_verified', at: NOW - 300 },
      { from: 'active', to: 'suspended', actor: 'issuer', reason: 'card_lost', at: NOW },
    ],
  };
  message({ id: 'msg-lifecycle-request-valid', title: 'A valid wallet lifecycle request', description: 'POST /v1/tokens/{id}/lifecycle: the cardholder lost the device.', schema: 'lifecycle-request', json: JSON.stringify(walletLifecycle), expected: ok({ value: walletLifecycle }) });
  message({
    id: 'msg-lifecycle-request-service-reason',
    title: 'A lifecycle request giving the token service\'s own reason is refused',
    description: 'activation_expired is recorded only by the token service.',
    schema: 'lifecycle-request',
    json: JSON.stringify({ ...walletLifecycle, reason: 'activation_expired' }),
    expected: fails('invalid_message'),
  });
  message({
    id: 'msg-lifecycle-request-actor-issuer',
    title: 'A wallet lifecycle request cannot name the issuer as its actor',
    description: 'The wallet speaks for itself or the cardholder; the actor comes from authentication otherwise.',
    schema: 'lifecycle-request',
    json: JSON.stringify({ ...walletLifecycle, actor: 'issuer' }),
    expected: fails('invalid_message'),
  });
  message({ id: 'msg-issuer-lifecycle-request-valid', title: 'A valid issuer lifecycle request', description: 'POST /v1/issuer/tokens/{id}/lifecycle.', schema: 'issuer-lifecycle-request', json: JSON.stringify(issuerLifecycle), expected: ok({ value: issuerLifecycle }) });
  message({
    id: 'msg-issuer-lifecycle-request-unknown-action',
    title: 'An unknown lifecycle action is refused',
    description: 'Only suspend, resume and delete.',
    schema: 'issuer-lifecycle-request',
    json: JSON.stringify({ ...issuerLifecycle, action: 'freeze' }),
    expected: fails('invalid_message'),
  });
  message({ id: 'msg-lifecycle-response-valid', title: 'A valid lifecycle answer', description: 'The status before and after, and when.', schema: 'lifecycle-response', json: JSON.stringify(lifecycleResponse), expected: ok({ value: lifecycleResponse }) });
  message({
    id: 'msg-lifecycle-response-expired-status',
    title: 'A lifecycle answer never carries the reported status expired',
    description: 'expired is reported, never stored: a change answers stored statuses only.',
    schema: 'lifecycle-response',
    json: JSON.stringify({ ...lifecycleResponse, status: 'expired' }),
    expected: fails('invalid_message'),
  });
  message({ id: 'msg-token-history-valid', title: 'A valid token history', description: 'Issuance (from null), activation by a code, a suspension by the issuer.', schema: 'token-history', json: JSON.stringify(history), expected: ok({ value: history }) });
  message({
    id: 'msg-token-history-expired',
    title: 'A token history reports expired past the expiry month',
    description: 'The reported status; the entries keep the stored ones.',
    schema: 'token-history',
    json: JSON.stringify({ ...history, status: 'expired' }),
    expected: ok({ value: { ...history, status: 'expired' } }),
  });
  message({ id: 'msg-issuer-token-search-account', title: 'A token search by account id', description: 'POST /v1/issuer/tokens/search.', schema: 'issuer-token-search', json: JSON.stringify({ accountId: 'acct-0042' }), expected: ok({ value: { accountId: 'acct-0042' } }) });
  message({
    id: 'msg-issuer-token-search-bad-pan',
    title: 'A token search by a card number that is not Luhn-valid is refused',
    description: 'card_invalid, as for a provisioning request.',
    schema: 'issuer-token-search',
    json: JSON.stringify({ pan: '4111111111111112' }),
    expected: fails('card_invalid'),
  });
  message({
    id: 'msg-issuer-token-search-both',
    title: 'A token search naming both an account id and a card number is refused',
    description: 'Exactly one of accountId and pan.',
    schema: 'issuer-token-search',
    json: JSON.stringify({ accountId: 'acct-0042', pan: '4111111111111111' }),
    expected: fails('invalid_message'),
  });
  message({
    id: 'msg-card-lifecycle-request-valid',
    title: 'A card lifecycle request by account id',
    description: 'POST /v1/issuer/cards/lifecycle: every token of the card.',
    schema: 'card-lifecycle-request',
    json: JSON.stringify({ accountId: 'acct-0042', action: 'suspend', reason: 'card_stolen' }),
    expected: ok({ value: { accountId: 'acct-0042', action: 'suspend', reason: 'card_stolen' } }),
  });
  message({
    id: 'msg-card-event-reissued',
    title: 'A reissued card with its new expiry',
    description: 'POST /v1/issuer/cards/events.',
    schema: 'card-event',
    json: JSON.stringify({ accountId: 'acct-0042', event: 'reissued', expiry: { month: 9, year: 2031 } }),
    expected: ok({ value: { accountId: 'acct-0042', event: 'reissued', expiry: { month: 9, year: 2031 } } }),
  });
  message({
    id: 'msg-card-event-reissued-no-expiry',
    title: 'A reissued card without its new expiry is refused',
    description: 'reissued carries the expiry; closed carries none.',
    schema: 'card-event',
    json: JSON.stringify({ accountId: 'acct-0042', event: 'reissued' }),
    expected: fails('invalid_message'),
  });
  message({ id: 'msg-card-event-closed', title: 'A closed card', description: 'Every token of the card is deleted (card_closed).', schema: 'card-event', json: JSON.stringify({ accountId: 'acct-0042', event: 'closed' }), expected: ok({ value: { accountId: 'acct-0042', event: 'closed' } }) });
  message({
    id: 'msg-result-provisioned-without-token',
    title: 'A provisioned result without a token reference id is refused',
    description: 'provisioned and pending_activation name the token that was issued.',
    schema: 'result',
    json: JSON.stringify({ type: 'result', version: PROTOCOL_VERSION, sessionId: SESSION, status: 'provisioned' }),
    expected: fails('invalid_message'),
  });
  message({
    id: 'msg-result-failed-with-token',
    title: 'A failed result that names a token is refused',
    description: 'Only a status that means a token was issued carries tokenReferenceId; a failure carries errorCode.',
    schema: 'result',
    json: JSON.stringify({ type: 'result', version: PROTOCOL_VERSION, sessionId: SESSION, status: 'failed', tokenReferenceId: 'tok_0001', errorCode: 'internal_error' }),
    expected: fails('invalid_message'),
  });
  message({
    id: 'msg-unsupported-version',
    title: 'An invocation of protocol version 2 is refused as unsupported',
    description: 'The version is checked before the rest of the schema.',
    schema: 'invocation',
    json: JSON.stringify({ ...invocation, version: 2 }),
    expected: fails('unsupported_version'),
  });
  message({
    id: 'msg-version-as-string',
    title: 'A version given as the string "1" is refused as unsupported',
    description: 'version must be the number 1.',
    schema: 'result',
    json: JSON.stringify({ ...result, version: '1' }),
    expected: fails('unsupported_version'),
  });
  message({
    id: 'msg-unknown-field',
    title: 'A submission naming its own wallet provider is refused',
    description: 'walletProviderId is not a submission field (it comes from the authenticated caller); unknown fields are refused.',
    schema: 'submission',
    json: JSON.stringify({ ...submission, walletProviderId: PROVIDER }),
    expected: fails('invalid_message'),
  });
  message({
    id: 'msg-duplicate-keys',
    title: 'Duplicate JSON member names are refused',
    description: 'A result with "status" twice.',
    schema: 'result',
    json: JSON.stringify(result).replace('"status":"provisioned"', '"status":"failed","status":"provisioned"'),
    expected: fails('invalid_json'),
  });
  message({
    id: 'msg-proto-key',
    title: 'A __proto__ member is refused',
    description: 'An invocation with a "__proto__" member in its account hint.',
    schema: 'invocation',
    json: JSON.stringify(invocation).replace('"account":{', '"account":{"__proto__":{"admin":true},'),
    expected: fails('invalid_json'),
  });
  message({
    id: 'msg-lone-surrogate',
    title: 'A lone surrogate escape is refused',
    description: 'A product name "\\ud800": not a Unicode scalar value.',
    schema: 'invocation',
    json: JSON.stringify(invocation).replace('"Everyday Card"', '"Every\\ud800day"'),
    expected: fails('invalid_json'),
  });
  message({
    id: 'msg-trailing-data',
    title: 'Trailing data after the JSON value is refused',
    description: 'A valid result followed by "x".',
    schema: 'result',
    json: `${JSON.stringify(result)} x`,
    expected: fails('invalid_json'),
  });
  message({
    id: 'msg-oversize',
    title: 'A result message over 4096 characters is refused',
    description: 'A valid result padded with spaces to 4097 characters.',
    schema: 'result',
    json: JSON.stringify(result).padEnd(4097, ' '),
    expected: fails('payload_too_large'),
  });
  message({
    id: 'msg-name-bidi-override',
    title: 'A product name with a bidi override is refused',
    description: 'U+202E RIGHT-TO-LEFT OVERRIDE in the account hint.',
    schema: 'invocation',
    json: JSON.stringify({ ...invocation, account: { ...invocation.account, productName: 'Card \u202egpj.exe' } }),
    expected: fails('invalid_message'),
  });
  message({
    id: 'msg-name-not-nfc',
    title: 'A name that is not NFC normalised is refused',
    description: 'The issuer name "Bänk" in NFD (a + U+0308).',
    schema: 'invocation',
    json: JSON.stringify({ ...invocation, account: { ...invocation.account, issuerName: 'Ba\u0308nk' } }),
    expected: fails('invalid_message'),
  });
  message({
    id: 'msg-claims-fullwidth-pan',
    title: 'Request claims with a fullwidth PAN are refused as card_invalid',
    description: 'The claims schema alone (no JOSE): PAN in U+FF10-U+FF19 digits.',
    schema: 'request-claims',
    json: JSON.stringify(claims({ card: card({ pan: '４１１１１１１１１１１１１１１１' }) })),
    expected: fails('card_invalid'),
  });
  {
    // Fixed jti (not the counter), so these cases leave the later cases' values as they were.
    const base = claims({ jti: id('jti-acct-01') });
    jtiCounter -= 1;
    const withAccountId = (accountId: string) => ({ ...base, accountId });
    message({
      id: 'msg-claims-account-id',
      title: 'Request claims with the issuer’s account id',
      description: 'accountId (opaque id) is the issuer’s stable id of the card account; the token service stores it with the token (section 4.5).',
      schema: 'request-claims',
      json: JSON.stringify(withAccountId('acct-7f3a')),
      expected: ok({ value: withAccountId('acct-7f3a') }),
    });
    message({
      id: 'msg-claims-account-id-invalid',
      title: 'Request claims with an account id that is not an opaque id are refused',
      description: 'accountId with a space: not 1-128 characters of [A-Za-z0-9._:@-].',
      schema: 'request-claims',
      json: JSON.stringify(withAccountId('acct 7f3a')),
      expected: fails('invalid_claims'),
    });
  }
  message({
    id: 'msg-response-both-forms',
    title: 'A provisioning response with both clear and encrypted access data is refused',
    description: 'Exactly one of accessData and encryptedAccessData is allowed.',
    schema: 'provisioning-response',
    json: JSON.stringify({
      type: 'provisioning-response',
      version: PROTOCOL_VERSION,
      sessionId: SESSION,
      tokenReferenceId: 'tok_0001',
      status: 'active',
      accessData: { tokenReferenceId: 'tok_0001', tokenNumber: pan('489537000000001'), tokenExpiry: { month: 6, year: 2102 }, status: 'active', panLast4: '1111', issuerId: ISSUER, issuedAt: NOW },
      encryptedAccessData: validJwe,
    }),
    expected: fails('invalid_message'),
  });

  // ---------------------------------------------------------------- URL / deep link
  const walletUrl = 'https://wallet.example/push';
  const goodUrl = encodeMessageUrl(walletUrl, invocation, { allowedUrls: [walletUrl] });
  const fragment = goodUrl.slice(goodUrl.indexOf('#'));
  const url = (spec: { id: string; title: string; description: string; url: string; maxLength?: number; expected: Expected }) =>
    add({ id: spec.id, title: spec.title, kind: 'message-url', description: spec.description, input: { url: spec.url, allowedUrls: [walletUrl], maxLength: spec.maxLength ?? 16_384 }, expected: spec.expected });
  url({ id: 'url-valid', title: 'An invocation in a deep link', description: 'The message as base64url(JSON) in the fragment parameter pp of an allow-listed https URL.', url: goodUrl, expected: ok({ value: invocation }) });
  url({ id: 'url-wrong-origin', title: 'A deep link to a URL outside the allow-list is refused', description: 'Same path on another host.', url: `https://wallet.example.attacker.example/push${fragment}`, expected: fails('origin_rejected') });
  url({ id: 'url-http-non-loopback', title: 'A plain http deep link is refused', description: 'http is only allowed on loopback addresses.', url: `http://wallet.example/push${fragment}`, expected: fails('origin_rejected') });
  url({ id: 'url-duplicate-param', title: 'A fragment with the message parameter twice is refused', description: 'pp appears twice.', url: `${goodUrl}&${fragment.slice(1)}`, expected: fails('invalid_message') });
  url({ id: 'url-oversize', title: 'A URL longer than the limit is refused', description: 'maxLength is one character less than the URL.', url: goodUrl, maxLength: goodUrl.length - 1, expected: fails('payload_too_large') });

  // ---------------------------------------------------------------- access data
  const accessData: AccessData = {
    tokenReferenceId: 'tok_0001',
    tokenNumber: pan('489537000000001'),
    tokenExpiry: { month: 6, year: 2102 },
    status: 'active',
    panLast4: '1111',
    issuerId: ISSUER,
    network: 'visa',
    issuedAt: NOW,
  };
  // What the wallet's session knows: the invocation's issuer and last 4, the response's token reference id and status.
  const adSession = { issuerId: ISSUER, panLast4: '1111', tokenReferenceId: 'tok_0001', status: 'active' as const };
  const adHeader = { alg: 'ECDH-ES+A256KW', enc: 'A256GCM', cty: ACCESS_DATA_CTY, kid: 'device-1' };
  const accessDataCase = async (spec: {
    id: string;
    title: string;
    description: string;
    plaintext?: string;
    mutate?: (h: Record<string, unknown>) => Record<string, unknown>;
    header?: Record<string, unknown>;
    alter?: (jwe: string) => string;
    deviceKey?: KeyJwk;
    expected: Expected;
  }) => {
    const { jwe, random } = await encryptRecorded({ plaintext: spec.plaintext ?? JSON.stringify(accessData), recipient: keys.device.publicJwk, header: spec.header ?? adHeader, mutate: spec.mutate });
    add({
      id: spec.id,
      title: spec.title,
      kind: 'access-data',
      description: spec.description,
      input: { jwe: spec.alter ? spec.alter(jwe) : jwe, deviceKey: spec.deviceKey ?? keys.device.privateJwk, session: adSession, random },
      expected: spec.expected,
    });
  };
  await accessDataCase({ id: 'ad-valid', title: 'Access data encrypted to the device key', description: `Compact JWE ECDH-ES+A256KW/A256GCM, cty "${ACCESS_DATA_CTY}"; its issuerId, panLast4, tokenReferenceId and status are the session’s.`, expected: ok({ accessData }) });
  await accessDataCase({
    id: 'ad-wrong-device-key',
    title: 'Access data cannot be read with another device key',
    description: 'The device key given is a different P-256 key under the kid of the header ("device-1").',
    deviceKey: { ...keys.service.privateJwk, kid: 'device-1' },
    expected: fails('decryption_failed'),
  });
  await accessDataCase({
    id: 'ad-other-device-kid',
    title: 'Access data addressed to another device key is refused by kid',
    description: `The header kid ("device-1") is not the kid of the device key given ("${keys.service.privateJwk.kid}"): refused before decrypting.`,
    deviceKey: keys.service.privateJwk,
    expected: fails('unknown_key'),
  });
  await accessDataCase({ id: 'ad-zip', title: 'Compressed access data is refused', description: '"zip":"DEF" with really compressed content.', header: { ...adHeader, zip: 'DEF' }, expected: fails('jwe_header_rejected') });
  await accessDataCase({ id: 'ad-wrong-cty', title: 'A JWE of another content type is refused as access data', description: 'cty "JWT" (a provisioning request’s) instead of the access data type.', mutate: (h) => ({ ...h, cty: 'JWT' }), expected: fails('jwe_header_rejected') });
  await accessDataCase({ id: 'ad-tampered-tag', title: 'Tampered access data fails to decrypt', description: 'One bit of the tag flipped.', alter: (jwe) => flipByte(jwe, 4, 0), expected: fails('decryption_failed') });
  await accessDataCase({
    id: 'ad-other-issuer',
    title: 'Access data naming another issuer than the invocation’s is refused',
    description: 'The decrypted access data says issuerId "bank-z"; the session’s invocation came from "bank-a" (the user agreed to add a bank-a card).',
    plaintext: JSON.stringify({ ...accessData, issuerId: 'bank-z' }),
    expected: fails('access_data_mismatch'),
  });
  await accessDataCase({
    id: 'ad-other-card',
    title: 'Access data for another card than the one the user agreed to is refused',
    description: 'The decrypted access data says panLast4 "4444"; the invocation showed the user •••• 1111.',
    plaintext: JSON.stringify({ ...accessData, panLast4: '4444' }),
    expected: fails('access_data_mismatch'),
  });
  await accessDataCase({
    id: 'ad-other-token',
    title: 'Access data for another token than the response names is refused',
    description: 'The decrypted access data says tokenReferenceId "tok_0002"; the provisioning response (the session) names "tok_0001".',
    plaintext: JSON.stringify({ ...accessData, tokenReferenceId: 'tok_0002' }),
    expected: fails('access_data_mismatch'),
  });
  await accessDataCase({
    id: 'ad-missing-issuer',
    title: 'Access data without issuerId is refused',
    description: 'issuerId is required; the schema is checked before the session comparison.',
    plaintext: JSON.stringify({ ...accessData, issuerId: undefined }),
    expected: fails('invalid_message'),
  });
  await accessDataCase({ id: 'ad-extra-member', title: 'Access data with an unknown member is refused', description: 'The decrypted JSON has an extra "pan" member.', plaintext: JSON.stringify({ ...accessData, pan: PAN }), expected: fails('invalid_message') });

  // ---------------------------------------------------------------- invocation signatures
  const issuerKeys = { keys: [keys.issuer.publicJwk, keys.issuerEd.publicJwk] };
  const signed = await signInvocation(invocation, keys.issuer.privateJwk);
  const signedEd = await signInvocation(invocation, keys.issuerEd.privateJwk);
  const inv = (spec: { id: string; title: string; description: string; invocation: Record<string, unknown>; issuerKeys?: { keys: KeyJwk[] }; expected: Expected }) =>
    add({ id: spec.id, title: spec.title, kind: 'invocation-signature', description: spec.description, input: { invocation: spec.invocation, issuerKeys: spec.issuerKeys ?? issuerKeys }, expected: spec.expected });
  inv({ id: 'inv-valid-es256', title: 'An invocation signed with ES256', description: `signature: compact JWS (typ "${INVOCATION_JWS_TYP}") over the canonical JSON of every other member.`, invocation: { ...signed }, expected: ok() });
  inv({ id: 'inv-valid-eddsa', title: 'An invocation signed with EdDSA', description: 'As inv-valid-es256 with the issuer’s Ed25519 key.', invocation: { ...signedEd }, expected: ok() });
  inv({ id: 'inv-tampered-last4', title: 'An invocation whose card hint changed after signing is refused', description: 'account.last4 changed from 1111 to 9999.', invocation: { ...signed, account: { ...signed.account, last4: '9999' } }, expected: fails('signature_invalid') });
  inv({ id: 'inv-unsigned', title: 'An unsigned invocation is refused where a signature is required', description: 'No signature member.', invocation: { ...invocation }, expected: fails('signature_invalid') });
  inv({ id: 'inv-unknown-kid', title: 'An invocation signed by a key the wallet does not trust is refused', description: 'The trusted set holds only the Ed25519 key.', invocation: { ...signed }, issuerKeys: { keys: [keys.issuerEd.publicJwk] }, expected: fails('unknown_issuer') });
  const wrongTyp = await craftJws({ header: { alg: 'ES256', kid: keys.issuer.publicJwk.kid, typ: REQUEST_JWS_TYP }, payload: signed.signature!.split('.')[1]!, key: keys.issuer.privateJwk });
  inv({
    id: 'inv-wrong-typ',
    title: 'An invocation signature with the request typ is refused',
    description: `The JWS header typ is "${REQUEST_JWS_TYP}" (payload base64url of the canonical JSON, passed through).`,
    invocation: { ...invocation, signature: `${wrongTyp.split('.')[0]}.${signed.signature!.split('.')[1]}.${wrongTyp.split('.')[2]}` },
    expected: fails('jws_header_rejected'),
  });

  // ---------------------------------------------------------------- several accounts, status queries, wallet-initiated (spec 4.1-4.4, 4.22-4.24)
  const hints = [
    { last4: '1111', network: 'visa', productName: 'Everyday Card', issuerName: 'Bank A', accountId: 'acct-7f3a' },
    { last4: '4444', network: 'mastercard', productName: 'Travel Card', issuerName: 'Bank A', accountId: 'acct-91c2', cardArtUrl: 'https://bank.example/art/travel.png' },
  ] as const;
  const { account: _singleAccount, ...invocationBase } = invocation;
  const multiInvocation: Invocation = { ...invocationBase, accounts: hints.map((h) => ({ ...h })) };
  const nineHints = Array.from({ length: 9 }, (_, i) => ({ last4: String(1000 + i), network: 'visa' as const, accountId: `acct-${i + 1}` }));
  message({ id: 'msg-invocation-accounts-valid', title: 'A valid several-account invocation', description: 'accounts: two hints, each with its accountId (spec 4.1).', schema: 'app-message', json: JSON.stringify(multiInvocation), expected: ok({ value: multiInvocation }) });
  message({ id: 'msg-invocation-nine-accounts', title: 'An invocation with 9 accounts is refused', description: 'accounts holds at most 8 hints (MAX_SESSION_ACCOUNTS).', schema: 'invocation', json: JSON.stringify({ ...invocationBase, accounts: nineHints }), expected: fails('invalid_message') });
  message({
    id: 'msg-invocation-duplicate-account-ids',
    title: 'An invocation naming one accountId twice is refused',
    description: 'Two hints with accountId "acct-7f3a": the whole invocation is refused, no hint is picked.',
    schema: 'invocation',
    json: JSON.stringify({ ...invocationBase, accounts: [hints[0], { ...hints[1], accountId: hints[0].accountId }] }),
    expected: fails('invalid_message'),
  });
  message({
    id: 'msg-invocation-accounts-without-account-id',
    title: 'An accounts entry without accountId is refused',
    description: 'The second hint has no accountId: every entry of accounts needs one.',
    schema: 'invocation',
    json: JSON.stringify({ ...invocationBase, accounts: [hints[0], { last4: '4444', network: 'mastercard' }] }),
    expected: fails('invalid_message'),
  });
  message({ id: 'msg-invocation-account-and-accounts', title: 'An invocation with both account and accounts is refused', description: 'Exactly one of account and accounts.', schema: 'invocation', json: JSON.stringify({ ...multiInvocation, account: invocation.account }), expected: fails('invalid_message') });
  message({ id: 'msg-invocation-no-account', title: 'An invocation with neither account nor accounts is refused', description: 'Exactly one of account and accounts.', schema: 'invocation', json: JSON.stringify(invocationBase), expected: fails('invalid_message') });

  const multiIdentifiers = { ...identifiers, accountIds: ['acct-91c2', 'acct-7f3a'] };
  message({ id: 'msg-identifiers-account-ids-valid', title: 'Identifiers picking two accounts', description: 'accountIds: the accounts the user picked, a subset of the invocation’s, in any order (spec 4.2).', schema: 'app-message', json: JSON.stringify(multiIdentifiers), expected: ok({ value: multiIdentifiers }) });
  message({ id: 'msg-identifiers-duplicate-account-ids', title: 'Identifiers naming one account twice are refused', description: 'accountIds ["acct-7f3a", "acct-7f3a"].', schema: 'identifiers', json: JSON.stringify({ ...identifiers, accountIds: ['acct-7f3a', 'acct-7f3a'] }), expected: fails('invalid_message') });
  message({ id: 'msg-identifiers-empty-account-ids', title: 'Identifiers with an empty accountIds are refused', description: 'accountIds [] (absent is the single-account form; present means at least one).', schema: 'identifiers', json: JSON.stringify({ ...identifiers, accountIds: [] }), expected: fails('invalid_message') });

  const otherJwe = (cases.filter((c) => c.kind === 'provisioning-request' && c.expected.outcome === 'ok')[1]!.input as ProvisioningRequestInput).jwe;
  const multiRequest = {
    type: 'provisioning-request',
    version: PROTOCOL_VERSION,
    sessionId: SESSION,
    requests: [{ accountId: 'acct-7f3a', encryptedRequest: validJwe }],
    refusals: [{ accountId: 'acct-91c2', errorCode: 'card_expired' }],
  };
  message({ id: 'msg-request-accounts-valid', title: 'A request message with a request and a refusal', description: 'requests: one account’s encrypted request; refusals: the other picked account, refused card_expired (spec 4.3).', schema: 'app-message', json: JSON.stringify(multiRequest), expected: ok({ value: multiRequest }) });
  message({
    id: 'msg-request-duplicate-account-ids',
    title: 'A request message naming one account in requests and refusals is refused',
    description: 'acct-7f3a has a request and a refusal: ids are unique across both lists.',
    schema: 'provisioning-request',
    json: JSON.stringify({ ...multiRequest, refusals: [{ accountId: 'acct-7f3a', errorCode: 'card_expired' }] }),
    expected: fails('invalid_message'),
  });
  message({
    id: 'msg-request-duplicate-requests',
    title: 'A request message with two requests for one account is refused',
    description: 'Two entries of requests name acct-7f3a.',
    schema: 'provisioning-request',
    json: JSON.stringify({ ...multiRequest, requests: [{ accountId: 'acct-7f3a', encryptedRequest: validJwe }, { accountId: 'acct-7f3a', encryptedRequest: otherJwe }], refusals: undefined }),
    expected: fails('invalid_message'),
  });
  message({ id: 'msg-request-both-forms', title: 'A request message with encryptedRequest and requests is refused', description: 'Exactly one form: encryptedRequest alone, or requests and refusals.', schema: 'provisioning-request', json: JSON.stringify({ ...multiRequest, encryptedRequest: validJwe }), expected: fails('invalid_message') });
  message({ id: 'msg-request-empty', title: 'A request message naming no account is refused', description: 'requests [] and no refusals: at least one account in all.', schema: 'provisioning-request', json: JSON.stringify({ type: 'provisioning-request', version: PROTOCOL_VERSION, sessionId: SESSION, requests: [] }), expected: fails('invalid_message') });

  const multiResult = {
    type: 'result',
    version: PROTOCOL_VERSION,
    sessionId: SESSION,
    status: 'provisioned',
    accounts: [
      { accountId: 'acct-7f3a', status: 'provisioned', tokenReferenceId: 'tok_0001' },
      { accountId: 'acct-91c2', status: 'declined', errorCode: 'declined' },
    ],
  };
  message({ id: 'msg-result-accounts-partial', title: 'A several-account result with partial success', description: 'One account provisioned, one declined by the issuer: status is their summary, provisioned (spec 4.4).', schema: 'app-message', json: JSON.stringify(multiResult), expected: ok({ value: multiResult }) });
  message({ id: 'msg-result-status-not-summary', title: 'A several-account result whose status is not the summary is refused', description: 'Accounts provisioned and declined; status says declined (summarizeStatus gives provisioned).', schema: 'result', json: JSON.stringify({ ...multiResult, status: 'declined' }), expected: fails('invalid_message') });
  message({
    id: 'msg-result-duplicate-account-ids',
    title: 'A several-account result naming one account twice is refused',
    description: 'Two outcomes for acct-7f3a.',
    schema: 'result',
    json: JSON.stringify({ ...multiResult, accounts: [multiResult.accounts[0], { ...multiResult.accounts[1], accountId: 'acct-7f3a' }] }),
    expected: fails('invalid_message'),
  });
  message({ id: 'msg-result-accounts-with-token', title: 'A several-account result with a top-level token reference is refused', description: 'With accounts, tokenReferenceId and errorCode live in each account’s outcome.', schema: 'result', json: JSON.stringify({ ...multiResult, tokenReferenceId: 'tok_0001' }), expected: fails('invalid_message') });
  message({
    id: 'msg-result-account-declined-with-token',
    title: 'An account outcome that is declined but names a token is refused',
    description: 'The rule of a result holds per account: tokenReferenceId exactly when a token was issued.',
    schema: 'result',
    json: JSON.stringify({ ...multiResult, accounts: [multiResult.accounts[0], { ...multiResult.accounts[1], tokenReferenceId: 'tok_0002' }] }),
    expected: fails('invalid_message'),
  });

  const statusQuery = { type: 'status-query' as const, version: PROTOCOL_VERSION, queryId: id('query-0001'), issuerId: ISSUER, accountIds: ['acct-7f3a', 'acct-91c2'], iat: NOW, exp: NOW + 300, correlationId: 'cor_status-1' };
  const signedQuery = await signStatusQuery(statusQuery, keys.issuer.privateJwk);
  message({ id: 'msg-status-query-valid', title: 'A signed status query', description: `Issuer app to wallet (spec 4.22); signature typ "${STATUS_QUERY_JWS_TYP}" (verified by the sq- cases).`, schema: 'app-message', json: JSON.stringify(signedQuery), expected: ok({ value: signedQuery }) });
  const seventeen = Array.from({ length: 17 }, (_, i) => `acct-${i + 1}`);
  message({ id: 'msg-status-query-17-ids', title: 'A status query naming 17 accounts is refused', description: 'accountIds holds at most 16 ids (MAX_QUERY_ACCOUNTS).', schema: 'status-query', json: JSON.stringify(await signStatusQuery({ ...statusQuery, accountIds: seventeen }, keys.issuer.privateJwk)), expected: fails('invalid_message') });
  message({ id: 'msg-status-query-duplicate-account-ids', title: 'A status query naming one account twice is refused', description: 'accountIds ["acct-7f3a", "acct-7f3a"].', schema: 'status-query', json: JSON.stringify(await signStatusQuery({ ...statusQuery, accountIds: ['acct-7f3a', 'acct-7f3a'] }, keys.issuer.privateJwk)), expected: fails('invalid_message') });
  message({ id: 'msg-status-query-unsigned', title: 'An unsigned status query is refused by the schema', description: 'signature is required: an unsigned query is not a status query at all (refused input, not answered).', schema: 'status-query', json: JSON.stringify(statusQuery), expected: fails('invalid_message') });

  const statusResponse = {
    type: 'status-response',
    version: PROTOCOL_VERSION,
    queryId: statusQuery.queryId,
    issuerId: ISSUER,
    accounts: [
      { accountId: 'acct-7f3a', thisDevice: 'added', otherDevices: 'needs_activation' },
      { accountId: 'acct-91c2', thisDevice: 'not_added', otherDevices: 'not_added' },
    ],
    correlationId: 'cor_status-1',
  };
  message({ id: 'msg-status-response-valid', title: 'A status answer', description: 'One entry per queried id, in the query’s order: states for this device and for the other devices (spec 4.23).', schema: 'app-message', json: JSON.stringify(statusResponse), expected: ok({ value: statusResponse }) });
  const refusedStatus = { type: 'status-response', version: PROTOCOL_VERSION, queryId: statusQuery.queryId, issuerId: ISSUER, errorCode: 'signature_invalid' };
  message({ id: 'msg-status-response-refused', title: 'A status answer refusing the query', description: 'errorCode instead of accounts.', schema: 'status-response', json: JSON.stringify(refusedStatus), expected: ok({ value: refusedStatus }) });
  message({ id: 'msg-status-response-both', title: 'A status answer with accounts and errorCode is refused', description: 'Exactly one of accounts and errorCode.', schema: 'status-response', json: JSON.stringify({ ...statusResponse, errorCode: 'signature_invalid' }), expected: fails('invalid_message') });
  message({
    id: 'msg-status-response-unknown-state',
    title: 'A status answer with a state the protocol does not define is refused',
    description: 'thisDevice "on_watch": the states are not_added, needs_activation, activating, suspended, added.',
    schema: 'status-response',
    json: JSON.stringify({ ...statusResponse, accounts: [{ ...statusResponse.accounts[0], thisDevice: 'on_watch' }, statusResponse.accounts[1]] }),
    expected: fails('invalid_message'),
  });

  const accountsRequest = { type: 'accounts-request', version: PROTOCOL_VERSION, nonce: id('accounts-nonce-1'), walletProviderId: PROVIDER, replyTo: 'https://wallet.example/accounts-return', correlationId: 'cor_initiate-1' };
  const accountsRefusal = { type: 'accounts-refusal', version: PROTOCOL_VERSION, nonce: accountsRequest.nonce, issuerId: ISSUER, errorCode: 'consent_denied', correlationId: 'cor_initiate-1' };
  message({ id: 'msg-accounts-request-valid', title: 'A wallet’s accounts request', description: 'Wallet to issuer app, wallet-initiated provisioning (spec 4.24).', schema: 'app-message', json: JSON.stringify(accountsRequest), expected: ok({ value: accountsRequest }) });
  message({ id: 'msg-accounts-refusal-valid', title: 'An issuer app’s accounts refusal', description: 'The customer said no: consent_denied, with the request’s nonce (spec 4.24).', schema: 'app-message', json: JSON.stringify(accountsRefusal), expected: ok({ value: accountsRefusal }) });
  message({ id: 'msg-accounts-request-short-nonce', title: 'An accounts request with a short nonce is refused', description: 'nonce is a random id of at least 22 base64url characters.', schema: 'app-message', json: JSON.stringify({ ...accountsRequest, nonce: 'abc' }), expected: fails('invalid_message') });

  // several-account and wallet-initiated invocations, signed
  const signedMulti = await signInvocation(multiInvocation, keys.issuer.privateJwk);
  inv({ id: 'inv-accounts-valid', title: 'A several-account invocation signed with ES256', description: 'The signature covers accounts in their order, card art included.', invocation: { ...signedMulti }, expected: ok() });
  inv({ id: 'inv-accounts-reordered', title: 'A several-account invocation whose hints were reordered is refused', description: 'accounts swapped after signing: arrays keep their order in the canonical JSON.', invocation: { ...signedMulti, accounts: [...signedMulti.accounts!].reverse() }, expected: fails('signature_invalid') });
  const answering = await signInvocation({ ...multiInvocation, walletNonce: accountsRequest.nonce }, keys.issuer.privateJwk);
  inv({ id: 'inv-wallet-nonce-valid', title: 'A signed invocation answering an accounts request', description: 'walletNonce is the accounts-request nonce (spec 4.24), covered by the signature.', invocation: { ...answering }, expected: ok() });
  inv({ id: 'inv-wallet-nonce-changed', title: 'An answering invocation whose walletNonce changed after signing is refused', description: 'walletNonce replaced with another request’s nonce.', invocation: { ...answering, walletNonce: id('accounts-nonce-2') }, expected: fails('signature_invalid') });
  const queryTypOnInvocation = await signStatusQuery(invocation as unknown as Parameters<typeof signStatusQuery>[0], keys.issuer.privateJwk);
  inv({
    id: 'inv-status-query-signature',
    title: 'A status query signature on an invocation is refused',
    description: `The invocation's canonical JSON signed with typ "${STATUS_QUERY_JWS_TYP}": the bytes match, the typ does not.`,
    invocation: { ...invocation, signature: queryTypOnInvocation.signature },
    expected: fails('jws_header_rejected'),
  });

  // status query signatures
  const sq = (spec: { id: string; title: string; description: string; query: Record<string, unknown>; issuerKeys?: { keys: KeyJwk[] }; expected: Expected }) =>
    add({ id: spec.id, title: spec.title, kind: 'status-query-signature', description: spec.description, input: { query: spec.query, issuerKeys: spec.issuerKeys ?? issuerKeys }, expected: spec.expected });
  sq({ id: 'sq-valid-es256', title: 'A status query signed with ES256', description: `signature: compact JWS (typ "${STATUS_QUERY_JWS_TYP}") over the canonical JSON of every other member.`, query: { ...signedQuery }, expected: ok() });
  sq({ id: 'sq-valid-eddsa', title: 'A status query signed with EdDSA', description: 'As sq-valid-es256 with the issuer’s Ed25519 key.', query: { ...(await signStatusQuery(statusQuery, keys.issuerEd.privateJwk)) }, expected: ok() });
  sq({ id: 'sq-tampered-account-ids', title: 'A status query whose account ids changed after signing is refused', description: 'accountIds changed from [acct-7f3a, acct-91c2] to [acct-7f3a, acct-0000].', query: { ...signedQuery, accountIds: ['acct-7f3a', 'acct-0000'] }, expected: fails('signature_invalid') });
  sq({
    id: 'sq-other-issuer-key',
    title: 'A status query for bank-a signed with bank-b’s key is refused as unknown_issuer',
    description: 'issuerId bank-a, signed by bank-b’s key (kid bank-b-2099-01): the key is looked up by kid among bank-a’s keys only, and none has that kid.',
    query: { ...(await signStatusQuery(statusQuery, keys.otherIssuer.privateJwk)) },
    expected: fails('unknown_issuer'),
  });
  sq({
    id: 'sq-other-issuer-same-kid',
    title: 'A status query signed with another key under bank-a’s kid is refused as signature_invalid',
    description: 'issuerId bank-a, signed by a key that is not bank-a’s but carries bank-a’s kid (bank-a-2099-01): the kid finds bank-a’s key, and the signature does not verify with it.',
    query: { ...(await signStatusQuery(statusQuery, keys.attacker.privateJwk)) },
    expected: fails('signature_invalid'),
  });
  sq({ id: 'sq-unknown-kid', title: 'A status query signed by a key the wallet does not trust is refused', description: 'The trusted set of bank-a holds only its Ed25519 key.', query: { ...signedQuery }, issuerKeys: { keys: [keys.issuerEd.publicJwk] }, expected: fails('unknown_issuer') });
  sq({ id: 'sq-unsigned', title: 'An unsigned status query is refused', description: 'No signature member: the schema requires it, so parsing fails before verification.', query: { ...statusQuery }, expected: fails('invalid_message') });
  const invocationTypOnQuery = await signInvocation(statusQuery as unknown as Invocation, keys.issuer.privateJwk);
  sq({
    id: 'sq-invocation-signature',
    title: 'An invocation signature on a status query is refused',
    description: `The query's canonical JSON signed with typ "${INVOCATION_JWS_TYP}": the bytes match, the typ does not.`,
    query: { ...statusQuery, signature: invocationTypOnQuery.signature },
    expected: fails('jws_header_rejected'),
  });

  // two requests of one several-account session (spec 4.3 and 4.5): the same session and identifiers, each its own jti and accountId
  const firstOfSession = claims({ jti: id('jti-multi-0001'), accountId: 'acct-7f3a' });
  const secondOfSession = claims({ jti: id('jti-multi-0002'), accountId: 'acct-91c2', card: card({ pan: PAN_RANGE_END, cardholderName: undefined, billingAddress: undefined }) });
  await request({
    id: 'pr-valid-several-accounts-first',
    title: 'The first request of a several-account session',
    description: 'Claims with accountId acct-7f3a (the id the request message lists it under), bound to the session’s identifiers.',
    claims: firstOfSession,
    expected: accepted(),
  });
  await request({
    id: 'pr-valid-several-accounts-second',
    title: 'The second request of the same session, with its own jti',
    description: 'Same sid, wallet account, device and nonce as pr-valid-several-accounts-first, another card, accountId acct-91c2 and its own jti: a token service that accepted the first accepts it too (its jti was never seen).',
    claims: secondOfSession,
    expected: accepted(),
  });
  await request({
    id: 'pr-several-accounts-shared-jti',
    title: 'A second request of a session that reuses the first one’s jti is refused',
    description: 'As pr-valid-several-accounts-second, but with the first request’s jti: each request of a several-account session needs its own.',
    claims: { ...secondOfSession, jti: firstOfSession.jti },
    input: { seenJtis: [{ iss: ISSUER, jti: firstOfSession.jti }] },
    expected: fails('replayed'),
  });

  // status answers (spec 4.22 and 4.23, end to end): what the wallet answers, from the live tokens of its wallet account
  const OTHER_ISSUER = 'bank-b';
  const answerTrust = { [ISSUER]: issuerKeys, [OTHER_ISSUER]: { keys: [keys.otherIssuer.publicJwk] } };
  const walletTokens = [
    { issuerId: ISSUER, accountId: 'acct-7f3a', deviceId: 'device-7', status: 'active' as const, activationStarted: false },
    { issuerId: ISSUER, accountId: 'acct-7f3a', deviceId: 'watch-2', status: 'pending_activation' as const, activationStarted: false },
    { issuerId: ISSUER, accountId: 'acct-91c2', deviceId: 'watch-2', status: 'suspended' as const, activationStarted: false },
    { issuerId: ISSUER, accountId: 'acct-5d10', deviceId: 'device-7', status: 'pending_activation' as const, activationStarted: true },
    { issuerId: OTHER_ISSUER, accountId: 'acct-0c44', deviceId: 'device-7', status: 'active' as const, activationStarted: false },
  ];
  const answerQuery = { ...statusQuery, accountIds: ['acct-7f3a', 'acct-91c2', 'acct-5d10', 'acct-0c44'] };
  const sa = (spec: { id: string; title: string; description: string; query: Record<string, unknown>; now?: number; expected: Expected }) =>
    add({
      id: spec.id,
      title: spec.title,
      kind: 'status-answer',
      description: spec.description,
      input: { query: spec.query, now: spec.now ?? NOW, clockSkewSeconds: SKEW, maxLifetimeSeconds: MAX_LIFETIME, trustedIssuers: answerTrust, deviceId: 'device-7', tokens: walletTokens },
      expected: spec.expected,
    });
  const answer = (query: { queryId: string; issuerId: string; correlationId?: string }, body: { accounts: unknown[] } | { errorCode: string }) =>
    ok({ response: { type: 'status-response', version: PROTOCOL_VERSION, queryId: query.queryId, issuerId: query.issuerId, ...body, ...(query.correlationId ? { correlationId: query.correlationId } : {}) } });
  sa({
    id: 'sa-own-accounts',
    title: 'A status answer about the issuer’s own accounts, split by device',
    description: 'bank-a asks about four of its account ids. acct-7f3a: active here, pending on the watch; acct-91c2: suspended on the watch; acct-5d10: a code was sent here; acct-0c44: only bank-b has a token under that id, so for bank-a it is not added.',
    query: await signStatusQuery(answerQuery, keys.issuer.privateJwk),
    expected: answer(answerQuery, {
      accounts: [
        { accountId: 'acct-7f3a', thisDevice: 'added', otherDevices: 'needs_activation' },
        { accountId: 'acct-91c2', thisDevice: 'not_added', otherDevices: 'suspended' },
        { accountId: 'acct-5d10', thisDevice: 'activating', otherDevices: 'not_added' },
        { accountId: 'acct-0c44', thisDevice: 'not_added', otherDevices: 'not_added' },
      ],
    }),
  });
  const foreignQuery = { ...answerQuery, issuerId: OTHER_ISSUER, queryId: id('query-0002') };
  sa({
    id: 'sa-other-issuer-learns-nothing',
    title: 'A status query for another issuer’s account ids learns nothing',
    description: 'bank-b signs (validly, as bank-b) a query naming the account ids bank-a’s tokens carry: the wallet looks up bank-b’s tokens only, so every account is not_added, as for a card that is not there.',
    query: await signStatusQuery(foreignQuery, keys.otherIssuer.privateJwk),
    expected: answer(foreignQuery, {
      accounts: [
        { accountId: 'acct-7f3a', thisDevice: 'not_added', otherDevices: 'not_added' },
        { accountId: 'acct-91c2', thisDevice: 'not_added', otherDevices: 'not_added' },
        { accountId: 'acct-5d10', thisDevice: 'not_added', otherDevices: 'not_added' },
        { accountId: 'acct-0c44', thisDevice: 'added', otherDevices: 'not_added' },
      ],
    }),
  });
  sa({
    id: 'sa-forged-issuer',
    title: 'A status query in bank-a’s name signed by bank-b is refused',
    description: 'issuerId bank-a, signed with bank-b’s key (kid bank-b-2099-01, not among bank-a’s keys): the answer is unknown_issuer and names no account.',
    query: await signStatusQuery(answerQuery, keys.otherIssuer.privateJwk),
    expected: answer(answerQuery, { errorCode: 'unknown_issuer' }),
  });
  const untrustedQuery = { ...answerQuery, issuerId: 'bank-z' };
  sa({ id: 'sa-untrusted-issuer', title: 'A status query of an issuer the wallet does not trust is refused', description: 'issuerId bank-z is not in the trust list.', query: await signStatusQuery(untrustedQuery, keys.otherIssuer.privateJwk), expected: answer(untrustedQuery, { errorCode: 'unknown_issuer' }) });
  sa({ id: 'sa-expired', title: 'An expired status query is refused', description: 'now = exp + skew.', query: await signStatusQuery(answerQuery, keys.issuer.privateJwk), now: answerQuery.exp + SKEW, expected: answer(answerQuery, { errorCode: 'expired' }) });
  const longQuery = { ...answerQuery, exp: answerQuery.iat + MAX_LIFETIME + 1 };
  sa({ id: 'sa-lifetime', title: 'A status query that lives too long is refused', description: 'exp - iat = 901 s, over the wallet’s maximum of 900.', query: await signStatusQuery(longQuery, keys.issuer.privateJwk), expected: answer(longQuery, { errorCode: 'lifetime_exceeded' }) });
  const futureQuery = { ...answerQuery, iat: NOW + SKEW + 1, exp: NOW + SKEW + 301 };
  sa({ id: 'sa-not-yet-valid', title: 'A status query from the future is refused', description: 'iat = now + skew + 1.', query: await signStatusQuery(futureQuery, keys.issuer.privateJwk), expected: answer(futureQuery, { errorCode: 'not_yet_valid' }) });
  sa({ id: 'sa-unsigned', title: 'An unsigned status query is not answered', description: 'No signature: refused input (invalid_message); there is no answer.', query: { ...answerQuery }, expected: fails('invalid_message') });

  // account states (accountStateOf, spec 4.23)
  const state = (spec: { id: string; title: string; tokens: { status: 'active' | 'pending_activation' | 'suspended'; activationStarted: boolean }[]; state: string }) =>
    add({ id: spec.id, title: spec.title, kind: 'account-state', description: `Live tokens ${JSON.stringify(spec.tokens)} give ${spec.state}.`, input: { tokens: spec.tokens }, expected: ok({ state: spec.state }) });
  const active = { status: 'active' as const, activationStarted: false };
  const pending = { status: 'pending_activation' as const, activationStarted: false };
  const started = { status: 'pending_activation' as const, activationStarted: true };
  const suspended = { status: 'suspended' as const, activationStarted: false };
  state({ id: 'state-no-token', title: 'No live token: not_added', tokens: [], state: 'not_added' });
  state({ id: 'state-active', title: 'An active token: added', tokens: [active], state: 'added' });
  state({ id: 'state-suspended-over-active', title: 'Suspended wins over active', tokens: [active, suspended], state: 'suspended' });
  state({ id: 'state-activating-over-suspended', title: 'A pending token with a code sent wins over suspended and active', tokens: [active, suspended, started], state: 'activating' });
  state({ id: 'state-needs-activation-first', title: 'A pending token with nothing started wins over everything', tokens: [active, started, suspended, pending], state: 'needs_activation' });

  // ---------------------------------------------------------------- client assertions
  const providerKeys = { keys: [keys.provider.publicJwk] };
  const assertion = await createClientAssertion({
    walletProviderId: PROVIDER,
    audience: AUDIENCE,
    signingKey: keys.provider.privateJwk,
    clock: manualClock(NOW * 1000),
    random: sequenceRandom(new TextEncoder().encode('client-jti-00001')),
  });
  const assertionClaims = JSON.parse(textOfSegment(assertion.split('.')[1]!)) as Record<string, unknown>;
  const ca = (spec: { id: string; title: string; description: string; assertion: string; now?: number; audience?: string; expected: Expected }) =>
    add({
      id: spec.id,
      title: spec.title,
      kind: 'client-assertion',
      description: spec.description,
      input: { assertion: spec.assertion, now: spec.now ?? NOW, walletProviderId: PROVIDER, audience: spec.audience ?? AUDIENCE, keys: providerKeys, clockSkewSeconds: SKEW },
      expected: spec.expected,
    });
  ca({ id: 'ca-valid', title: 'A wallet provider client assertion', description: `Compact JWS (typ "${CLIENT_ASSERTION_TYP}") over { iss, sub, aud, iat, exp, jti }.`, assertion, expected: ok({ walletProviderId: PROVIDER, jti: assertionClaims.jti, exp: assertionClaims.exp }) });
  ca({ id: 'ca-expired', title: 'A client assertion at exp + skew is refused', description: 'now = exp + 60.', assertion, now: (assertionClaims.exp as number) + SKEW, expected: fails('unauthenticated') });
  ca({ id: 'ca-wrong-audience', title: 'A client assertion for another service is refused', description: 'The verifier’s audience differs.', assertion, audience: 'other-token-service', expected: fails('unauthenticated') });
  ca({
    id: 'ca-alg-none',
    title: 'An unsigned client assertion is refused',
    description: 'alg "none", empty signature.',
    assertion: await craftJws({ header: { alg: 'none', kid: keys.provider.publicJwk.kid, typ: CLIENT_ASSERTION_TYP }, payload: JSON.stringify(assertionClaims) }),
    expected: fails('unauthenticated'),
  });

  // ---------------------------------------------------------------- problem details: every code not yet covered
  const covered = new Set(cases.flatMap((c) => (c.expected.outcome === 'error' ? [c.expected.code] : [])));
  for (const code of ERROR_CODES) {
    if (covered.has(code)) continue;
    const info = ERROR_CATALOG[code];
    const problem = { type: `${PROBLEM_TYPE_BASE}${code}`, title: info.title, status: info.status, code, retryable: info.retryable, requestId: 'req_0001' };
    add({
      id: `problem-${code.replace(/_/g, '-')}`,
      title: `A problem with code ${code} maps to its typed error`,
      description: `RFC 9457 problem details as the token service sends them; the client's error has code ${code}, family ${info.family}, status ${info.status}, retryable ${String(info.retryable)}.`,
      kind: 'problem-details',
      input: { json: JSON.stringify(problem) },
      expected: ok({ code, family: info.family, status: info.status, retryable: info.retryable }),
    });
  }
  const anyProblem = { type: `${PROBLEM_TYPE_BASE}timeout`, title: 'x', status: 504, code: 'timeout', retryable: true };
  add({ id: 'problem-unknown-code', title: 'A problem with a code the protocol does not define is refused', description: 'code "teapot".', kind: 'problem-details', input: { json: JSON.stringify({ ...anyProblem, code: 'teapot' }) }, expected: fails('invalid_message') });
  add({ id: 'problem-status-not-error', title: 'A problem with a non-error status is refused', description: 'status 200.', kind: 'problem-details', input: { json: JSON.stringify({ ...anyProblem, status: 200 }) }, expected: fails('invalid_message') });

  return cases;
}

async function main(): Promise<void> {
  const keys = await makeKeys();
  const cases = await build(keys);
  const ids = new Set<string>();
  let failures = 0;
  for (const c of cases) {
    if (ids.has(c.id)) throw new Error(`duplicate id ${c.id}`);
    ids.add(c.id);
    const actual = await runVector(c);
    if (!matches(c.expected, actual)) {
      failures++;
      console.error(`✗ ${c.id}: expected ${JSON.stringify(c.expected).slice(0, 300)}\n  got ${JSON.stringify(actual).slice(0, 300)}`);
    }
    // Positive provisioning requests state everything an independent implementation sees.
    if (c.kind === 'provisioning-request' && actual.outcome === 'ok' && c.expected.outcome === 'ok') {
      Object.assign(c.expected, { jweHeader: actual.jweHeader, jws: actual.jws, jwsHeader: actual.jwsHeader });
    }
  }
  if (failures > 0) throw new Error(`${failures} case(s) do not behave as declared`);
  const file: VectorFile = {
    $comment: 'Conformance vectors of the pushprov protocol. Format: docs/conformance.md. Generated by packages/protocol/scripts/generate-vectors.ts; this file is the source of truth.',
    format: 'pushprov-conformance-vectors',
    formatVersion: 1,
    protocolVersion: PROTOCOL_VERSION,
    generator: 'packages/protocol/scripts/generate-vectors.ts',
    cases,
  };
  const negative = cases.filter((c) => c.expected.outcome === 'error').length;
  console.log(`${cases.length} cases: ${cases.length - negative} positive, ${negative} negative`);
  if (process.argv.includes('--check')) return;
  writeFileSync(OUTPUT, `${JSON.stringify(file, null, 2)}\n`);
  console.log(`wrote ${OUTPUT}`);
}

/** Every member the expectation states must equal the actual value (deep, member order ignored). */
function matches(expected: Expected, actual: Expected): boolean {
  if (expected.outcome !== actual.outcome) return false;
  for (const [key, value] of Object.entries(expected)) {
    if (!deepEqual(value, (actual as Record<string, unknown>)[key])) return false;
  }
  return true;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

await main();
