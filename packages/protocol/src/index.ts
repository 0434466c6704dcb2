/**
 * The device push provisioning protocol: message schemas, the JOSE crypto
 * profile, claim and binding checks, typed errors, and helpers for ids,
 * clocks and hashing. No I/O: every other package builds on this one.
 *
 * The root re-exports every public entry: `@pushprov/protocol/errors`,
 * `/schemas`, `/jose`, `/channels` and `/http`, and the helpers below.
 * Import a subpath to say which part you use; either way a bundler keeps
 * only what you call. `@pushprov/protocol/internal` is not public API.
 *
 * @packageDocumentation
 * @module @pushprov/protocol
 */
export * from './errors.js';
export * from './schemas.js';
export * from './jose.js';
export * from './channels.js';
export * from './http.js';
export { canonicalJson } from './lib/canonical-json.js';
export { toBase64Url, fromBase64Url } from './lib/base64url.js';
export * from './random.js';
export * from './clock.js';
export * from './hash.js';
export * from './card/luhn.js';
export * from './card/check-card.js';
