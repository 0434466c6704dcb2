/**
 * Not public API: helpers pushprov's own packages share (the issuer and
 * wallet SDKs, the token service). No compatibility promise: names and
 * behaviour change without notice and without a changeset. Apps and other
 * implementations use the other entries.
 *
 * @internal
 * @packageDocumentation
 * @module @pushprov/protocol/internal
 */
export { importKeyCached } from './crypto/import-key-cached.js';
export { type HeaderRules, type ProtectedHeader, checkEpk, checkHeader, decodeHeaderStrict } from './crypto/headers.js';
export { isKeyHandle, toDecryptionKeyHandle, toSigningKeyHandle } from './crypto/key-handles.js';
export { peekClientAssertionIssuer } from './crypto/client-assertion.js';
export { abortError } from './channel/app-channel.js';
export { type ParseOptions, parseWith } from './schemas/parse.js';
export { type DeadlineOptions, withDeadline } from './lib/deadline.js';
