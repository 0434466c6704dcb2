/**
 * The negative `provisioning-request` vectors, re-sealed for a live token
 * service: each recipe builds the case's request again (the same defect, as
 * `packages/protocol/scripts/generate-vectors.ts` builds it) against the
 * profile's issuer key and the service's public key, with fresh identifiers
 * and the runner's clock, so that the service must answer the vector's code
 * with the catalog's status. Cases that cannot be rebuilt meaningfully are
 * listed as not applicable, with the reason.
 */
import { createHash } from 'node:crypto';
import {
  type JwkPair,
  type KeyJwk,
  type PublicEcJwk,
  type RequestClaims,
  deviceKeyThumbprint,
  generateEncryptionKey,
  generateSigningKey,
  luhnCheckDigit,
  toPublicJwk,
} from '@pushprov/protocol';
import { b64uJson, encryptJwe, flipFirstBit, headerOf, replaceSegment, signJws, unsecuredJws } from '../lib/jose-tools.js';
import type { TokenServiceProfile } from '../profile.js';
import { type ProviderChoice, type TokenServiceContext, type WalletIds, randomHex } from './context.js';

/** What a recipe sends. */
export interface ResealedRequest {
  jwe: string;
  /** The identifiers the submission carries (default: the ones the claims were bound to). */
  submitted?: WalletIds;
  devicePublicKey?: PublicEcJwk;
  provider?: ProviderChoice;
  /** Runs before the submission (pr-replayed: the first, accepted copy). */
  before?: () => Promise<void>;
}

/** The kit a recipe builds with. */
export interface RecipeKit {
  ctx: TokenServiceContext;
  profile: TokenServiceProfile;
  ids: WalletIds;
  now: number;
  /** Valid claims bound to `ids`, with overrides (undefined removes a claim). */
  claims(overrides?: Record<string, unknown>): RequestClaims;
  /** The request JWS header, with overrides. */
  jwsHeader(overrides?: Record<string, unknown>): Record<string, unknown>;
  /** The request JWE header (jose adds epk), with overrides. */
  jweHeader(overrides?: Record<string, unknown>): Record<string, unknown>;
  /** Signs claims (or a payload text) with the profile's issuer key, or `key`. */
  sign(claims: object | string, header?: Record<string, unknown>, key?: KeyJwk | Uint8Array): Promise<string>;
  /** Encrypts a plaintext to the service key (or `recipient`). */
  encrypt(plaintext: string, header?: Record<string, unknown>, recipient?: KeyJwk, crit?: Record<string, boolean>): Promise<string>;
  /** The standard sign-then-encrypt of `claims`. */
  sealed(claims?: RequestClaims): Promise<string>;
  /** A device key pair of the runner (two distinct ones: 1 and 2). */
  device(n: 1 | 2): Promise<{ pair: JwkPair; publicKey: PublicEcJwk; jkt: string }>;
  /** A signing key of the runner with the issuer key's alg and kid (an attacker's). */
  attackerKey(): Promise<JwkPair>;
  /** A submission context that differs from `ids` in one member. */
  with(member: keyof WalletIds, value: string): WalletIds;
}

/** A re-sealing recipe. */
export interface Recipe {
  /** How this rebuild differs from the vector's (shown in the case's title). */
  note?: string;
  /** A reason the case cannot run against this profile, or undefined. */
  notApplicable?: (profile: TokenServiceProfile) => string | undefined;
  build(kit: RecipeKit): Promise<ResealedRequest>;
}

const otherNotAccepted = (p: TokenServiceProfile) =>
  p.otherWalletProvider?.acceptedByIssuer === false
    ? undefined
    : 'needs a second wallet provider registered at the service that the issuer does not accept (profile otherWalletProvider with acceptedByIssuer: false)';

const digitsIn = (pan: string, zero: number) => Array.from(pan, (d) => String.fromCodePoint(zero + Number(d))).join('');

/** The month before the current one (UTC), as a card expiry. */
function lastMonth(now: number): { month: number; year: number } {
  const date = new Date(now * 1000);
  const month = date.getUTCMonth(); // 0-11: the previous month's number, 1-based, or 0 for December of last year
  return month === 0 ? { month: 12, year: date.getUTCFullYear() - 1 } : { month, year: date.getUTCFullYear() };
}

/** A Luhn-valid PAN of the card's length whose prefix lies in none of the issuer's BIN ranges. */
export function ineligiblePan(profile: TokenServiceProfile): string {
  const length = profile.card.pan.length;
  const inside = (pan: string) => profile.issuer.binRanges.some((r) => pan.slice(0, r.start.length) >= r.start && pan.slice(0, r.end.length) <= r.end);
  for (const lead of ['5555555555554444', '4000056655665556', '3566002020360505', '6011111111111117', '2223003122003222', '9999999999999999', '1000000000000000']) {
    const body = lead.padEnd(length, '0').slice(0, length - 1);
    const pan = body + luhnCheckDigit(body);
    if (!inside(pan)) return pan;
  }
  throw new Error('no PAN outside the issuer BIN ranges was found');
}

/** The recipes, by vector id. */
export const RECIPES: Record<string, Recipe> = {
  // ------------------------------------------------------------------ JWE structure and header (step 4)
  'pr-jwe-zip': { build: async (k) => ({ jwe: await k.encrypt(await k.sign(k.claims()), k.jweHeader({ zip: 'DEF' })) }) },
  'pr-jwe-crit': {
    build: async (k) => ({ jwe: await k.encrypt(await k.sign(k.claims()), k.jweHeader({ crit: ['exp'], exp: k.now + 300 }), undefined, { exp: true }) }),
  },
  'pr-jwe-jku': { build: async (k) => ({ jwe: await k.encrypt(await k.sign(k.claims()), k.jweHeader({ jku: 'https://attacker.example/jwks.json' })) }) },
  'pr-jwe-alg-ecdh-es-direct': { build: async (k) => ({ jwe: await k.encrypt(await k.sign(k.claims()), k.jweHeader({ alg: 'ECDH-ES' })) }) },
  'pr-jwe-enc-a128gcm': { build: async (k) => ({ jwe: await k.encrypt(await k.sign(k.claims()), k.jweHeader({ enc: 'A128GCM' })) }) },
  'pr-jwe-missing-cty': { build: async (k) => ({ jwe: await k.encrypt(await k.sign(k.claims()), k.jweHeader({ cty: undefined })) }) },
  'pr-jwe-epk-extra-member': {
    note: 'epk member added after sealing (jose writes epk itself)',
    build: async (k) => {
      const jwe = await k.sealed();
      const header = headerOf(jwe);
      // jose always writes epk itself, so the extra member is added to the sealed header: the tag no longer covers it, and a
      // service that checks the allow-list first (step 4) refuses it before it would try to decrypt.
      return {
        jwe: replaceSegment(jwe, 0, b64uJson({ ...header, epk: { ...(header.epk as object), kid: 'e1' } })),
      };
    },
  },
  'pr-jwe-embedded-jwk': {
    build: async (k) => ({
      jwe: await k.encrypt(await k.sign(k.claims()), k.jweHeader({ jwk: { kty: 'EC', crv: 'P-256', x: k.ctx.serviceKey.x, y: k.ctx.serviceKey.y } })),
    }),
  },
  'pr-jwe-json-serialization': {
    build: async (k) => {
      const [p, key, iv, c, t] = (await k.sealed()).split('.');
      return { jwe: JSON.stringify({ protected: p, encrypted_key: key, iv, ciphertext: c, tag: t }) };
    },
  },
  'pr-signed-not-encrypted': { build: async (k) => ({ jwe: await k.sign(k.claims()) }) },
  'pr-jwe-unknown-kid': {
    build: async (k) => {
      const stranger = await generateEncryptionKey({ kid: `conformance-unknown-${randomHex(6)}` });
      return { jwe: await k.encrypt(await k.sign(k.claims()), k.jweHeader({ kid: stranger.publicJwk.kid }), stranger.publicJwk) };
    },
  },

  // ------------------------------------------------------------------ decryption (step 5)
  'pr-tampered-protected-header': {
    build: async (k) => {
      const jwe = await k.sealed();
      return { jwe: replaceSegment(jwe, 0, b64uJson(Object.fromEntries(Object.entries(headerOf(jwe)).reverse()))) };
    },
  },
  'pr-tampered-encrypted-key': { build: async (k) => ({ jwe: flipFirstBit(await k.sealed(), 1) }) },
  'pr-tampered-iv': { build: async (k) => ({ jwe: flipFirstBit(await k.sealed(), 2) }) },
  'pr-tampered-ciphertext': { build: async (k) => ({ jwe: flipFirstBit(await k.sealed(), 3) }) },
  'pr-tampered-tag': { build: async (k) => ({ jwe: flipFirstBit(await k.sealed(), 4) }) },
  'pr-wrong-service-key': {
    note: 'encrypted to another key under the service kid',
    // The vector's service holds another private key under the kid the request names; against a live service, the
    // runner encrypts to a key of its own and names the service's kid: the same mismatch, seen from the other side.
    build: async (k) => {
      const impostor = await generateEncryptionKey({ kid: k.ctx.serviceKey.kid });
      return { jwe: await k.encrypt(await k.sign(k.claims()), k.jweHeader(), impostor.publicJwk) };
    },
  },

  // ------------------------------------------------------------------ inner JWS header (step 6)
  'pr-encrypted-not-signed': { build: async (k) => ({ jwe: await k.encrypt(JSON.stringify(k.claims())) }) },
  'pr-jws-alg-none': { build: async (k) => ({ jwe: await k.encrypt(unsecuredJws(k.jwsHeader({ alg: 'none' }), JSON.stringify(k.claims()))) }) },
  'pr-jws-alg-none-mixed-case': {
    build: async (k) => ({ jwe: await k.encrypt(unsecuredJws(k.jwsHeader({ alg: 'nOnE' }), JSON.stringify(k.claims()), 'c2lnbmF0dXJl')) }),
  },
  'pr-jws-hs256-public-key': {
    build: async (k) => {
      const secret = new TextEncoder().encode(JSON.stringify(toPublicJwk(k.profile.issuer.signingKey as KeyJwk)));
      return { jwe: await k.encrypt(await k.sign(k.claims(), k.jwsHeader({ alg: 'HS256' }), secret)) };
    },
  },
  'pr-jws-wrong-typ': { build: async (k) => ({ jwe: await k.encrypt(await k.sign(k.claims(), k.jwsHeader({ typ: 'JWT' }))) }) },
  'pr-jws-invocation-typ': { build: async (k) => ({ jwe: await k.encrypt(await k.sign(k.claims(), k.jwsHeader({ typ: 'pushprov-invocation+jwt' }))) }) },
  'pr-jws-embedded-jwk': {
    build: async (k) => {
      const attacker = await k.attackerKey();
      return { jwe: await k.encrypt(await k.sign(k.claims(), k.jwsHeader({ jwk: attacker.publicJwk }), attacker.privateJwk)) };
    },
  },

  // ------------------------------------------------------------------ issuer key and signature (steps 7, 8)
  'pr-untrusted-issuer': {
    build: async (k) => {
      const iss = k.profile.issuer.id === 'conformance-unregistered-issuer' ? 'conformance-unregistered-issuer-2' : 'conformance-unregistered-issuer';
      return { jwe: await k.encrypt(await k.sign(k.claims({ iss }))) };
    },
  },
  'pr-unknown-issuer-kid': { build: async (k) => ({ jwe: await k.encrypt(await k.sign(k.claims(), k.jwsHeader({ kid: `conformance-unknown-${randomHex(6)}` }))) }) },
  'pr-signature-forged': {
    build: async (k) => {
      const attacker = await k.attackerKey();
      return { jwe: await k.encrypt(await k.sign(k.claims(), k.jwsHeader(), attacker.privateJwk)) };
    },
  },
  'pr-claims-altered-after-signing': {
    build: async (k) => {
      const claims = k.claims();
      const jws = replaceSegment(await k.sign(claims), 1, b64uJson({ ...claims, deviceId: `${claims.deviceId}-x` }));
      return { jwe: await k.encrypt(jws) };
    },
  },

  // ------------------------------------------------------------------ claims schema (step 9)
  'pr-claims-missing-nonce': { build: async (k) => ({ jwe: await k.encrypt(await k.sign(k.claims({ nonce: undefined }))) }) },
  'pr-claims-unknown-claim': { build: async (k) => ({ jwe: await k.encrypt(await k.sign(k.claims({ nbf: k.now }))) }) },
  'pr-pan-arabic-indic-digits': {
    build: async (k) => ({ jwe: await k.encrypt(await k.sign(k.claims({ card: { ...k.profile.card, pan: digitsIn(k.profile.card.pan, 0x660) } }))) }),
  },
  'pr-pan-fullwidth-digits': {
    build: async (k) => ({ jwe: await k.encrypt(await k.sign(k.claims({ card: { ...k.profile.card, pan: digitsIn(k.profile.card.pan, 0xff10) } }))) }),
  },
  'pr-pan-bad-luhn': {
    build: async (k) => {
      const pan = k.profile.card.pan;
      const bad = pan.slice(0, -1) + String((Number(pan.at(-1)) + 1) % 10);
      return { jwe: await k.encrypt(await k.sign(k.claims({ card: { ...k.profile.card, pan: bad } }))) };
    },
  },
  'pr-expiry-month-13': {
    build: async (k) => ({ jwe: await k.encrypt(await k.sign(k.claims({ card: { ...k.profile.card, expiry: { month: 13, year: k.profile.card.expiry.year } } }))) }),
  },
  'pr-claims-cnf-extra-member': {
    build: async (k) => {
      const device = await k.device(1);
      return { jwe: await k.encrypt(await k.sign(k.claims({ cnf: { jkt: device.jkt, jwk: device.publicKey } }))), devicePublicKey: device.publicKey };
    },
  },

  // ------------------------------------------------------------------ audience and time (steps 10, 11)
  'pr-audience-mismatch': {
    build: async (k) => {
      const aud = k.profile.serviceId === 'conformance-other-service' ? 'conformance-other-service-2' : 'conformance-other-service';
      return { jwe: await k.sealed(k.claims({ aud })) };
    },
  },
  'pr-lifetime-exceeded': {
    note: 'exp - iat = maxRequestSeconds + 1',
    build: async (k) => ({ jwe: await k.encrypt(await k.sign(k.claims({ iat: k.now, exp: k.now + k.profile.maxRequestSeconds + 1 }))) }),
  },
  'pr-not-yet-valid': {
    note: 'iat = now + skew + 120 s (the vector’s 1 s boundary needs the service’s clock)',
    // The vector sits exactly one second past the skew, which needs the service's clock; the runner goes 120 s past it.
    build: async (k) => {
      const iat = k.now + k.profile.clockSkewSeconds + 120;
      return { jwe: await k.sealed(k.claims({ iat, exp: iat + k.ctx.lifetime })) };
    },
  },
  'pr-expired': {
    note: 'now = exp + skew + 120 s (the vector’s exact boundary needs the service’s clock)',
    build: async (k) => {
      const exp = k.now - k.profile.clockSkewSeconds - 120;
      return { jwe: await k.sealed(k.claims({ iat: exp - k.ctx.lifetime, exp })) };
    },
  },

  // ------------------------------------------------------------------ replay (step 12)
  'pr-replayed': {
    note: 'first submitted once and accepted (it issues a token), then again under a new idempotency key',
    build: async (k) => {
      const jwe = await k.sealed();
      return {
        jwe,
        before: async () => {
          const first = await k.ctx.submit({ jwe, ids: k.ids });
          if (first.status !== 201) throw new Error(`the first copy of the request was not accepted (${first.status} ${first.text.slice(0, 200)})`);
        },
      };
    },
  },

  'pr-several-accounts-shared-jti': {
    note: 'the first request of a two-card session submitted and accepted, then the second card’s request of the same session carrying the first one’s jti',
    build: async (k) => {
      const first = k.claims({ accountId: 'conformance-account-1' });
      const firstJwe = await k.sealed(first);
      return {
        jwe: await k.sealed(k.claims({ accountId: 'conformance-account-2', jti: first.jti })),
        before: async () => {
          const accepted = await k.ctx.submit({ jwe: firstJwe, ids: k.ids });
          if (accepted.status !== 201) throw new Error(`the session's first request was not accepted (${accepted.status} ${accepted.text.slice(0, 200)})`);
        },
      };
    },
  },

  // ------------------------------------------------------------------ binding (step 13)
  'pr-binding-session': { build: async (k) => ({ jwe: await k.sealed(), submitted: k.with('sessionId', k.ctx.freshIds().sessionId) }) },
  'pr-binding-wallet-provider': {
    note: 'the claims name another wallet provider than the authenticated caller',
    build: async (k) => {
      const walletProviderId = k.profile.walletProvider.id === 'conformance-other-wallet' ? 'conformance-other-wallet-2' : 'conformance-other-wallet';
      return { jwe: await k.sealed(k.claims({ walletProviderId })) };
    },
  },
  'pr-binding-wallet-account': { build: async (k) => ({ jwe: await k.sealed(), submitted: k.with('walletAccountId', `${k.ids.walletAccountId}-x`) }) },
  'pr-binding-device': { build: async (k) => ({ jwe: await k.sealed(), submitted: k.with('deviceId', `${k.ids.deviceId}-x`) }) },
  'pr-binding-nonce': { build: async (k) => ({ jwe: await k.sealed(), submitted: k.with('nonce', k.ctx.freshIds().nonce) }) },
  'pr-device-key-other': {
    build: async (k) => ({ jwe: await k.sealed(k.claims({ cnf: { jkt: (await k.device(1)).jkt } })), devicePublicKey: (await k.device(2)).publicKey }),
  },
  'pr-device-key-missing': { build: async (k) => ({ jwe: await k.sealed(k.claims({ cnf: { jkt: (await k.device(1)).jkt } })) }) },
  'pr-device-key-unbound': { build: async (k) => ({ jwe: await k.sealed(), devicePublicKey: (await k.device(1)).publicKey }) },
  'pr-device-key-thumbprint-whole-jwk': {
    build: async (k) => {
      const device = await k.device(1);
      const whole = { ...device.publicKey, alg: 'ECDH-ES+A256KW', use: 'enc' } as Record<string, unknown>;
      const sorted = JSON.stringify(Object.fromEntries(Object.keys(whole).sort().map((key) => [key, whole[key]])));
      const jkt = createHash('sha256').update(sorted).digest('base64url');
      return { jwe: await k.sealed(k.claims({ cnf: { jkt } })), devicePublicKey: device.publicKey };
    },
  },
  'pr-wallet-provider-not-allowed': {
    notApplicable: otherNotAccepted,
    build: async (k) => ({ jwe: await k.sealed(k.claims({ walletProviderId: k.profile.otherWalletProvider!.id })), provider: 'other' }),
  },
  'pr-wallet-provider-not-allowed-after-device-key': {
    notApplicable: otherNotAccepted,
    build: async (k) => ({
      jwe: await k.sealed(k.claims({ walletProviderId: k.profile.otherWalletProvider!.id, cnf: { jkt: (await k.device(1)).jkt } })),
      devicePublicKey: (await k.device(2)).publicKey,
      provider: 'other',
    }),
  },
  'pr-device-key-after-nonce': {
    build: async (k) => ({
      jwe: await k.sealed(k.claims({ cnf: { jkt: (await k.device(1)).jkt } })),
      submitted: k.with('nonce', k.ctx.freshIds().nonce),
      devicePublicKey: (await k.device(2)).publicKey,
    }),
  },

  // ------------------------------------------------------------------ card and decision (steps 14, 15)
  'pr-card-expired': {
    note: 'expiry = last month',
    build: async (k) => ({ jwe: await k.sealed(k.claims({ card: { ...k.profile.card, expiry: lastMonth(k.now) } })) }),
  },
  'pr-card-not-eligible': { build: async (k) => ({ jwe: await k.sealed(k.claims({ card: { ...k.profile.card, pan: ineligiblePan(k.profile) } })) }) },
  'pr-account-ref-unknown': { build: async (k) => ({ jwe: await k.sealed(k.claims({ card: undefined, accountRef: `conformance-unknown-${randomHex(8)}` })) }) },
  'pr-declined': {
    notApplicable: (p) => (p.decliningCard === undefined ? 'needs a card the service’s issuer decision declines (profile decliningCard)' : undefined),
    build: async (k) => ({ jwe: await k.sealed(k.claims({ card: { ...k.profile.decliningCard! } })) }),
  },
};

/** Vectors that cannot be re-sealed against a live service at all, with the reason (none today: every negative case has a recipe or a profile-dependent reason). */
export const NOT_RESEALABLE: Record<string, string> = {};

/** Builds the kit of one case. */
export async function createKit(ctx: TokenServiceContext): Promise<RecipeKit> {
  const profile = ctx.profile;
  const ids = ctx.freshIds();
  const issuerKey = profile.issuer.signingKey as KeyJwk;
  const devices = new Map<number, Promise<{ pair: JwkPair; publicKey: PublicEcJwk; jkt: string }>>();
  const kit: RecipeKit = {
    ctx,
    profile,
    ids,
    now: ctx.now(),
    claims: (overrides = {}) => ctx.claims(ids, overrides),
    jwsHeader: (overrides = {}) => dropUndefined({ alg: issuerKey.alg, kid: issuerKey.kid, typ: 'pushprov-request+jwt', ...overrides }),
    jweHeader: (overrides = {}) => dropUndefined({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: ctx.serviceKey.kid, cty: 'JWT', ...overrides }),
    sign: (claims, header, key) => signJws(header ?? kit.jwsHeader(), typeof claims === 'string' ? claims : JSON.stringify(claims), key ?? issuerKey),
    encrypt: (plaintext, header, recipient, crit) => encryptJwe(plaintext, header ?? kit.jweHeader(), recipient ?? ctx.serviceKey, crit ? { crit } : {}),
    sealed: (claims) => ctx.seal(claims ?? kit.claims()),
    device(n) {
      let found = devices.get(n);
      if (!found) {
        found = (async () => {
          const pair = await generateEncryptionKey({ kid: `conformance-device-key-${n}` });
          const publicKey: PublicEcJwk = { kty: 'EC', crv: 'P-256', x: pair.publicJwk.x!, y: pair.publicJwk.y!, kid: pair.publicJwk.kid };
          return { pair, publicKey, jkt: await deviceKeyThumbprint(publicKey) };
        })();
        devices.set(n, found);
      }
      return found;
    },
    attackerKey: () => generateSigningKey({ alg: issuerKey.alg as 'ES256' | 'EdDSA', kid: issuerKey.kid }),
    with: (member, value) => ({ ...ids, [member]: value }),
  };
  return kit;
}

function dropUndefined(header: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(header).filter(([, v]) => v !== undefined));
}
