import { CryptoError, type ErrorCode } from '../errors.js';
import { fromBase64Url, fromUtf8 } from '../lib/base64url.js';
import { parseStrictJson } from '../lib/strict-json.js';
import { zKid } from '../schemas/primitives.js';

/** A decoded JOSE protected header. */
export type ProtectedHeader = Record<string, unknown>;

/**
 * Decodes the protected header (first segment) of a compact JWS or JWE
 * strictly: base64url, UTF-8, strict JSON (duplicate members refused), an
 * object of at most 16 members. Failures throw `code`.
 */
export function decodeHeaderStrict(compact: string, code: ErrorCode): ProtectedHeader {
  const dot = compact.indexOf('.');
  const segment = dot < 0 ? compact : compact.slice(0, dot);
  if (segment.length === 0 || segment.length > 4096) throw new CryptoError(code, 'Malformed protected header');
  let header: unknown;
  try {
    header = parseStrictJson(fromUtf8(fromBase64Url(segment)), { maxLength: 4096, maxDepth: 3 });
  } catch (cause) {
    throw new CryptoError(code, 'Malformed protected header', { cause });
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new CryptoError(code, 'Protected header must be a JSON object');
  }
  if (Object.keys(header).length > 16) throw new CryptoError(code, 'Protected header has too many members');
  return header as ProtectedHeader;
}

/** The rules of {@link checkHeader}. */
export interface HeaderRules {
  /** The members allowed. Anything else (zip, crit, jku, jwk, x5u, x5c, …) is refused. */
  allowed: readonly string[];
  /** Exact values required for some members. */
  equals?: Readonly<Record<string, string>>;
  /** Members that must be present. */
  required?: readonly string[];
  /** Allowed values for `alg`. */
  algorithms?: readonly string[];
}

/**
 * Checks a protected header against an allow-list of members and values.
 * Unknown members are refused, not ignored: this is how `zip`, `crit`, `jku`,
 * `jwk`, `x5u` and `x5c` are refused. Failures throw `code`.
 */
export function checkHeader(header: ProtectedHeader, rules: HeaderRules, code: ErrorCode): void {
  for (const name of Object.keys(header)) {
    if (!rules.allowed.includes(name)) throw new CryptoError(code, `Header member "${name.slice(0, 32)}" is not allowed`);
  }
  for (const name of rules.required ?? []) {
    if (!(name in header)) throw new CryptoError(code, `Header member "${name}" is required`);
  }
  for (const [name, value] of Object.entries(rules.equals ?? {})) {
    if (header[name] !== value) throw new CryptoError(code, `Header member "${name}" must be "${value}"`);
  }
  if (rules.algorithms && !rules.algorithms.includes(header.alg as string)) {
    throw new CryptoError(code, 'Header "alg" is not allowed');
  }
  if ('kid' in header && !zKid.safeParse(header.kid).success) {
    throw new CryptoError(code, 'Header "kid" is malformed');
  }
}

/** Checks that an `epk` is exactly a public EC P-256 key (no other members, no private part). */
export function checkEpk(epk: unknown, code: ErrorCode): void {
  if (epk === null || typeof epk !== 'object' || Array.isArray(epk)) throw new CryptoError(code, 'Header "epk" must be a JWK');
  const e = epk as Record<string, unknown>;
  const keys = Object.keys(e).sort().join(',');
  if (keys !== 'crv,kty,x,y') throw new CryptoError(code, 'Header "epk" must hold exactly kty, crv, x and y');
  if (e.kty !== 'EC' || e.crv !== 'P-256') throw new CryptoError(code, 'Header "epk" must be an EC P-256 key');
  const coord = /^[A-Za-z0-9_-]{43}$/;
  if (typeof e.x !== 'string' || typeof e.y !== 'string' || !coord.test(e.x) || !coord.test(e.y)) {
    throw new CryptoError(code, 'Header "epk" coordinates are malformed');
  }
}
