// The body reader is the protocol's, shared with the issuer backend handler;
// re-exported here so existing imports of the token service keep working.
export { readBodyWithLimit } from '@pushprov/protocol';
