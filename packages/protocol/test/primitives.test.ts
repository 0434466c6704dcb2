import { describe, expect, it, vi } from 'vitest';
import {
  ID_ENTROPY_BYTES,
  canonicalJson,
  createId,
  createJti,
  createNonce,
  createSessionId,
  epochSeconds,
  fingerprintPan,
  fromBase64Url,
  manualClock,
  replayKey,
  secureRandom,
  sequenceRandom,
  sha256Hex,
  systemClock,
  timingSafeEqual,
  toBase64Url,
} from '../src/index.js';
import { PAN } from './helpers/fixture.js';

describe('hashing', () => {
  it('sha256Hex matches the FIPS 180-2 vectors', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('replayKey is a fixed-size hash, distinct per issuer and jti, holding neither', () => {
    const key = replayKey('bank-a', 'jti-1');
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(replayKey('bank-a', 'jti-1')).toBe(key);
    expect(replayKey('bank-b', 'jti-1')).not.toBe(key);
    expect(replayKey('bank-a', 'jti-2')).not.toBe(key);
    // the separator keeps ("a", "bc") and ("ab", "c") apart
    expect(replayKey('a', 'bc')).not.toBe(replayKey('ab', 'c'));
    expect(key).toBe(sha256Hex('pushprov/replay/v1\u0000bank-a\u0000jti-1'));
  });

  it('fingerprintPan is keyed, stable, and reveals nothing of the PAN', () => {
    const key = new Uint8Array(32).fill(1);
    const fp = fingerprintPan(PAN, key);
    expect(fp).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(fingerprintPan(PAN, key)).toBe(fp);
    expect(fingerprintPan(PAN, new Uint8Array(32).fill(2))).not.toBe(fp);
    expect(fingerprintPan('5555555555554444', key)).not.toBe(fp);
    expect(fp).not.toContain('1111');
    expect(() => fingerprintPan(PAN, new Uint8Array(31))).toThrow(TypeError);
  });

  it('timingSafeEqual compares strings', () => {
    expect(timingSafeEqual('abc', 'abc')).toBe(true);
    expect(timingSafeEqual('abc', 'abd')).toBe(false);
    expect(timingSafeEqual('abc', 'ab')).toBe(false);
    expect(timingSafeEqual('', '')).toBe(true);
    expect(timingSafeEqual('é', 'e\u0301')).toBe(false);
    // Two different lone surrogates: UTF-8 encoding would turn both into U+FFFD and call them equal.
    expect(timingSafeEqual('\ud800', '\udbff')).toBe(false);
    expect(timingSafeEqual('a\ud800', 'a\ud800')).toBe(true);
  });
});

describe('random ids', () => {
  it('are 128 bits of base64url from the injected source', () => {
    expect(ID_ENTROPY_BYTES).toBe(16);
    const random = sequenceRandom(new Uint8Array([0xff]));
    expect(createSessionId(random)).toBe('_____________________w');
    expect(createNonce(sequenceRandom(new Uint8Array(16).fill(7)))).toBe('BwcHBwcHBwcHBwcHBwcHBw');
    expect(createJti(sequenceRandom(new Uint8Array([0])))).toBe('AAAAAAAAAAAAAAAAAAAAAA');
    expect(createId('tok', sequenceRandom(new Uint8Array([0])))).toBe('tok_AAAAAAAAAAAAAAAAAAAAAA');
  });

  it('sequenceRandom cycles through its seed across calls', () => {
    const random = sequenceRandom(new Uint8Array([1, 2, 3]));
    expect([...random.bytes(4)]).toEqual([1, 2, 3, 1]);
    expect([...random.bytes(3)]).toEqual([2, 3, 1]);
    expect(() => sequenceRandom(new Uint8Array(0))).toThrow(TypeError);
  });

  it('the secure default gives distinct 22-character ids', () => {
    const ids = new Set(Array.from({ length: 200 }, () => createSessionId()));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(secureRandom.bytes(32)).toHaveLength(32);
  });

  it('the secure default cuts small requests from a CSPRNG pool, each byte handed out once', () => {
    const spy = vi.spyOn(globalThis.crypto, 'getRandomValues');
    try {
      const chunks = Array.from({ length: 1000 }, () => secureRandom.bytes(16));
      // 16 000 bytes from 2 KiB draws: at most 9 calls, not 1000.
      expect(spy.mock.calls.length).toBeGreaterThanOrEqual(7);
      expect(spy.mock.calls.length).toBeLessThanOrEqual(9);
      for (const [buffer] of spy.mock.calls) expect((buffer as Uint8Array).length).toBe(2048);
      expect(new Set(chunks.map((c) => Buffer.from(c).toString('hex'))).size).toBe(1000);
      // Copies, not views into the pool: changing one changes nothing that is handed out later.
      chunks[0]!.fill(0xff);
      const next = secureRandom.bytes(64);
      expect(next.buffer).not.toBe(chunks[0]!.buffer);
      expect(next.byteOffset).toBe(0);
      expect(next).toHaveLength(64);
      // A request larger than the pool is drawn on its own, whole.
      spy.mockClear();
      const large = secureRandom.bytes(4096);
      expect(large).toHaveLength(4096);
      expect(spy).toHaveBeenCalledTimes(1);
      expect((spy.mock.calls[0]![0] as Uint8Array).length).toBe(4096);
      expect(large.some((b) => b !== 0)).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('clocks', () => {
  it('manualClock stands still until moved', () => {
    const clock = manualClock(1_000);
    expect(clock.now()).toBe(1_000);
    clock.advance(500);
    expect(clock.now()).toBe(1_500);
    clock.set(42);
    expect(clock.now()).toBe(42);
  });

  it('epochSeconds floors milliseconds', () => {
    expect(epochSeconds(manualClock(1_999))).toBe(1);
    expect(epochSeconds(manualClock(2_000))).toBe(2);
    const before = Date.now();
    const now = systemClock.now();
    expect(now).toBeGreaterThanOrEqual(before);
  });
});

describe('encodings', () => {
  it('base64url round-trips and refuses other alphabets', () => {
    const bytes = new Uint8Array([0xfb, 0xff, 0x00, 0x10]);
    expect(toBase64Url(bytes)).toBe('-_8AEA');
    expect([...fromBase64Url('-_8AEA')]).toEqual([...bytes]);
    for (const text of ['+/8AEA', '-_8AEA==', '-_8A EA', 'é']) expect(() => fromBase64Url(text), text).toThrow();
  });

  it('canonicalJson sorts members recursively and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined }, e: null })).toBe('{"a":{"d":[3,{"y":2,"z":1}]},"b":1,"e":null}');
    expect(canonicalJson('x')).toBe('"x"');
    expect(canonicalJson({ b: 1, a: 2 })).toBe(canonicalJson({ a: 2, b: 1 }));
  });
});
