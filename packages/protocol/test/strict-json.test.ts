import { describe, expect, it } from 'vitest';
import { SchemaError, parseStrictJson } from '../src/index.js';

function codeOf(text: unknown, options?: Parameters<typeof parseStrictJson>[1]): string | undefined {
  try {
    parseStrictJson(text as string, options);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(SchemaError);
    return (error as SchemaError).code;
  }
}

const nest = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

describe('parseStrictJson accepts JSON', () => {
  it('parses every value type like JSON.parse', () => {
    for (const text of [
      '{}',
      '[]',
      '0',
      '-0',
      '1.5',
      '-12.5e-3',
      '1E3',
      '1e+2',
      'true',
      'false',
      'null',
      '""',
      '"plain"',
      ' \t\r\n{ "a" : [ 1 , 2 , { "b" : null } ] , "c" : "d" } \n',
      '{"nested":{"deep":{"deeper":[true,false]}}}',
    ]) {
      expect(parseStrictJson(text)).toEqual(JSON.parse(text));
    }
  });

  it('decodes every escape', () => {
    expect(parseStrictJson('"\\"\\\\\\/\\b\\f\\n\\r\\t"')).toBe('"\\/\b\f\n\r\t');
    expect(parseStrictJson('"\\u0041\\u00e9\\u4e2d"')).toBe('Aé中');
    expect(parseStrictJson('"\\uD83D\\uDE00"')).toBe('😀');
    expect(parseStrictJson('"\\ud83d\\ude00"')).toBe('😀');
    expect(parseStrictJson('"😀 raw pair"')).toBe('😀 raw pair');
    expect(parseStrictJson('"\\u0000"')).toBe('\u0000');
  });

  it('returns plain objects whose prototype no input can reach', () => {
    const value = parseStrictJson('{"a":{"b":1}}') as Record<string, Record<string, number>>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(value.a)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['a']);
    expect(({} as Record<string, unknown>).b).toBeUndefined();
  });

  it('makes members named like inherited ones (toString, hasOwnProperty) own data members', () => {
    const value = parseStrictJson('{"toString":1,"hasOwnProperty":"x","valueOf":null}') as Record<string, unknown>;
    expect(Object.getOwnPropertyDescriptor(value, 'toString')).toEqual({ value: 1, writable: true, enumerable: true, configurable: true });
    expect(Object.keys(value)).toEqual(['toString', 'hasOwnProperty', 'valueOf']);
    expect(value.hasOwnProperty).toBe('x');
  });

  it('defines members even when Object.prototype carries a setter or a read-only member of that name', () => {
    const calls: unknown[] = [];
    Object.defineProperty(Object.prototype, 'trap', { set: (v: unknown) => calls.push(v), configurable: true });
    Object.defineProperty(Object.prototype, 'frozenMember', { value: 'inherited', writable: false, configurable: true });
    try {
      const value = parseStrictJson('{"trap":1,"frozenMember":2}') as Record<string, unknown>;
      expect(calls).toEqual([]);
      expect(Object.getOwnPropertyDescriptor(value, 'trap')).toEqual({ value: 1, writable: true, enumerable: true, configurable: true });
      expect(Object.getOwnPropertyDescriptor(value, 'frozenMember')).toEqual({ value: 2, writable: true, enumerable: true, configurable: true });
      expect(codeOf('{"trap":1,"trap":2}')).toBe('invalid_json');
    } finally {
      delete (Object.prototype as Record<string, unknown>).trap;
      delete (Object.prototype as Record<string, unknown>).frozenMember;
    }
  });

  it('keeps member order and allows the same key in different objects', () => {
    expect(Object.keys(parseStrictJson('{"z":1,"a":{"z":2},"m":3}') as object)).toEqual(['z', 'a', 'm']);
  });
});

describe('parseStrictJson refuses', () => {
  it.each([
    ['duplicate keys', '{"a":1,"a":2}'],
    ['nested duplicate keys', '{"x":{"a":1,"b":2,"a":3}}'],
    ['duplicate keys spelled with escapes', '{"a":1,"\\u0061":2}'],
    ['a __proto__ key', '{"__proto__":{"polluted":true}}'],
    ['an escaped __proto__ key', '{"\\u005f_proto__":{}}'],
    ['a nested __proto__ key', '{"a":[{"__proto__":1}]}'],
    ['a constructor key', '{"constructor":{"prototype":{}}}'],
    ['a prototype key', '{"prototype":1}'],
  ])('%s', (_name, text) => {
    expect(codeOf(text)).toBe('invalid_json');
  });

  it('refuses lone surrogates, escaped or raw', () => {
    for (const text of ['"\\uD800"', '"\\uDC00"', '"\\uD800\\u0041"', '"\\uD800x"', '"\\uDBFF\\uDBFF"', '"\uD800"', '"\uDC00\uD800"', '"a\uDFFF"']) {
      expect(codeOf(text), text).toBe('invalid_json');
    }
  });

  it('refuses bad escapes and raw control characters', () => {
    for (const text of ['"\\x41"', '"\\u12"', '"\\u12G4"', '"\\', '"\\a"', '"\\U0041"', '"tab\there"', '"line\nbreak"', '"nul\u0000"', '"\u001f"']) {
      expect(codeOf(text), JSON.stringify(text)).toBe('invalid_json');
    }
  });

  it('refuses numbers outside the JSON grammar or range', () => {
    for (const text of ['01', '-01', '1.', '.5', '+1', '-', '1e', '1e+', '0x10', 'NaN', 'Infinity', '-Infinity', '1e400', '-1e400', '1_000']) {
      expect(codeOf(text), text).toBe('invalid_json');
    }
  });

  it('refuses literals that are not exactly true, false or null', () => {
    for (const text of ['tru', 'True', 'nul', 'NULL', 'falsey', 'undefined']) expect(codeOf(text), text).toBe('invalid_json');
  });

  it('refuses trailing data', () => {
    for (const text of ['{} x', '{}{}', '1 2', '"a""b"', '[] ]', 'null,', '{"a":1}}']) expect(codeOf(text), text).toBe('invalid_json');
  });

  it('refuses what lenient parsers accept', () => {
    for (const text of [
      '[1,]',
      '{"a":1,}',
      "{'a':1}",
      '{a:1}',
      '{"a" 1}',
      '{"a":}',
      '[1 2]',
      '// c\n{}',
      '{} // c',
      '/* c */ 1',
      '\uFEFF{}',
      '\u00a0{}',
      '{"a":1\u2028}',
      '',
      '   ',
      '[',
      '{',
      '"unterminated',
    ]) {
      expect(codeOf(text), JSON.stringify(text)).toBe('invalid_json');
    }
  });

  it('refuses input that is not a string', () => {
    for (const value of [undefined, null, 1, {}, [], new Uint8Array(2)]) expect(codeOf(value)).toBe('invalid_json');
  });

  it('limits nesting depth exactly', () => {
    expect(parseStrictJson(nest(3), { maxDepth: 2 })).toEqual([[[]]]);
    expect(codeOf(nest(4), { maxDepth: 2 })).toBe('invalid_json');
    expect(codeOf('{"a":{"b":{"c":1}}}', { maxDepth: 2 })).toBe('invalid_json');
    expect(parseStrictJson('{"a":{"b":1}}', { maxDepth: 2 })).toEqual({ a: { b: 1 } });
    // The default depth is 16.
    expect(() => parseStrictJson(nest(17))).not.toThrow();
    expect(codeOf(nest(18))).toBe('invalid_json');
  });

  it('stops a very deep document at the depth limit, not the stack limit', () => {
    expect(codeOf('['.repeat(200_000), { maxLength: 1_000_000 })).toBe('invalid_json');
    expect(codeOf('{"a":'.repeat(100_000), { maxLength: 1_000_000 })).toBe('invalid_json');
  });

  it('limits the length exactly, before parsing', () => {
    const text = `"${'a'.repeat(98)}"`;
    expect(text).toHaveLength(100);
    expect(parseStrictJson(text, { maxLength: 100 })).toBe('a'.repeat(98));
    expect(codeOf(`${text} `, { maxLength: 100 })).toBe('payload_too_large');
    expect(codeOf(`{{{{${'x'.repeat(70_000)}`)).toBe('payload_too_large');
  });

  it('says where, never what', () => {
    try {
      parseStrictJson('{"pan":"4111111111111111",}');
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toMatch(/^Invalid JSON at offset \d+: /);
      expect((error as Error).message).not.toContain('4111');
    }
  });
});
