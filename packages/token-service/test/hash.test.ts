// The token service's native sha256Hex must give exactly what the protocol's
// portable one gives: request hashes and replay keys are stored.
import { replayKey, sha256Hex as protocolSha256Hex } from '@pushprov/protocol';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/lib/hash.js';

/** Deterministic pseudo-random strings over the whole UTF-16 range, lone surrogates included. */
function* strings(count: number, seed = 7): Generator<string> {
  let state = seed;
  const next = () => (state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0);
  for (let i = 0; i < count; i++) {
    const length = next() % 80;
    let text = '';
    for (let j = 0; j < length; j++) text += String.fromCharCode(next() % 3 === 0 ? next() % 0x80 : next() % 0x10000);
    yield text;
  }
}

describe('native hashes', () => {
  it('sha256Hex matches the protocol for fixed and generated text, Unicode and lone surrogates included', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    for (const text of ['', 'abc', 'é', '\u0000', '😀', '\ud800', 'x'.repeat(5000), ...strings(500)]) {
      expect(sha256Hex(text)).toBe(protocolSha256Hex(text));
    }
  });

  it('replayKey with the native hash matches the protocol default', () => {
    const texts = [...strings(400, 11)];
    for (let i = 0; i < texts.length; i += 2) expect(replayKey(texts[i]!, texts[i + 1]!, sha256Hex)).toBe(replayKey(texts[i]!, texts[i + 1]!));
    expect(replayKey('bank-a', 'jti-1', sha256Hex)).toBe(replayKey('bank-a', 'jti-1'));
  });
});
