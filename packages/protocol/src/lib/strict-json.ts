import { SchemaError } from '../errors.js';

/** Limits applied by {@link parseStrictJson}. */
export interface StrictJsonOptions {
  /** Maximum length of the text in UTF-16 code units. Default 65 536. */
  maxLength?: number;
  /** Maximum nesting depth. Default 16. */
  maxDepth?: number;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** A run of string characters that need no further look: no quote, backslash, control character or surrogate. */
const PLAIN_RUN = /[^"\\\u0000-\u001f\ud800-\udfff]*/y;
const hasOwn = Object.prototype.hasOwnProperty;
/** The one-character escapes after a backslash, and what each stands for. */
const ESCAPED = '"\\/bfnrt';
const UNESCAPED = '"\\/\b\f\n\r\t';

/**
 * Parses JSON strictly: duplicate keys, `__proto__` / `constructor` /
 * `prototype` keys, lone surrogates, excessive nesting and oversize text are
 * refused with a {@link SchemaError} (`invalid_json` or `payload_too_large`).
 * Objects come back with a null prototype replaced by plain objects built key
 * by key, so no prototype can be reached through the input.
 *
 * @example
 * ```ts
 * parseStrictJson('{"a":1}'); // { a: 1 }
 * parseStrictJson('{"a":1,"a":2}'); // throws SchemaError (invalid_json)
 * ```
 */
export function parseStrictJson(text: string, options: StrictJsonOptions = {}): unknown {
  const maxLength = options.maxLength ?? 65_536;
  const maxDepth = options.maxDepth ?? 16;
  if (typeof text !== 'string') throw new SchemaError('invalid_json', 'JSON input must be a string');
  if (text.length > maxLength) throw new SchemaError('payload_too_large', `JSON text is longer than ${maxLength}`);
  let pos = 0;

  const fail = (what: string): never => {
    throw new SchemaError('invalid_json', `Invalid JSON at offset ${pos}: ${what}`);
  };
  const skipWs = () => {
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else break;
    }
  };
  const parseString = (): string => {
    // text[pos] === '"'
    pos++;
    let out = '';
    let start = pos;
    for (;;) {
      // Skip plain characters in one step; what stops the run is handled below, one character at a time.
      PLAIN_RUN.lastIndex = pos;
      PLAIN_RUN.test(text);
      pos = PLAIN_RUN.lastIndex;
      if (pos >= text.length) fail('unterminated string');
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        out += text.slice(start, pos);
        pos++;
        break;
      }
      if (c < 0x20) fail('control character in string');
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = text.charCodeAt(pos + 1);
        if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) fail('lone surrogate');
        pos += 2;
        continue;
      }
      if (c === 0x5c) {
        out += text.slice(start, pos);
        const e = text[pos + 1];
        pos += 2;
        const simple = e === undefined ? -1 : ESCAPED.indexOf(e);
        if (simple >= 0) {
          out += UNESCAPED[simple];
        } else if (e === 'u') {
          const hex = text.slice(pos, pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad unicode escape');
          const code = parseInt(hex, 16);
          pos += 4;
          if (code >= 0xd800 && code <= 0xdbff) {
            const low = text.slice(pos, pos + 6);
            if (!/^\\u[dD][c-fC-F][0-9a-fA-F]{2}$/.test(low)) fail('lone surrogate');
            out += String.fromCharCode(code, parseInt(low.slice(2), 16));
            pos += 6;
          } else if (code >= 0xdc00 && code <= 0xdfff) {
            fail('lone surrogate');
          } else {
            out += String.fromCharCode(code);
          }
        } else {
          fail('bad escape');
        }
        start = pos;
        continue;
      }
      pos++;
    }
    return out;
  };
  const parseNumber = (): number => {
    const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(text.slice(pos, pos + 64));
    if (!m) return fail('bad number');
    pos += m[0].length;
    const value = Number(m[0]);
    if (!Number.isFinite(value)) fail('number out of range');
    return value;
  };
  const parseValue = (depth: number): unknown => {
    if (depth > maxDepth) fail('nesting too deep');
    skipWs();
    const c = text[pos];
    if (c === '{') {
      pos++;
      const obj: Record<string, unknown> = {};
      skipWs();
      if (text[pos] === '}') {
        pos++;
        return obj;
      }
      for (;;) {
        skipWs();
        if (text[pos] !== '"') fail('expected key');
        const key = parseString();
        // Every own member of obj came from a key parsed here, so an own member is a duplicate.
        if (hasOwn.call(obj, key)) fail('duplicate key');
        if (FORBIDDEN_KEYS.has(key)) fail('forbidden key');
        skipWs();
        if (text[pos] !== ':') fail('expected colon');
        pos++;
        const value = parseValue(depth + 1);
        // Plain assignment creates exactly the own data property defineProperty would, unless the
        // key is inherited (a setter or read-only member on Object.prototype): then define it.
        if (key in Object.prototype) Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
        else obj[key] = value;
        skipWs();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === '}') {
          pos++;
          return obj;
        }
        fail('expected , or }');
      }
    }
    if (c === '[') {
      pos++;
      const arr: unknown[] = [];
      skipWs();
      if (text[pos] === ']') {
        pos++;
        return arr;
      }
      for (;;) {
        arr.push(parseValue(depth + 1));
        skipWs();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === ']') {
          pos++;
          return arr;
        }
        fail('expected , or ]');
      }
    }
    if (c === '"') return parseString();
    if (c === 't' && text.startsWith('true', pos)) {
      pos += 4;
      return true;
    }
    if (c === 'f' && text.startsWith('false', pos)) {
      pos += 5;
      return false;
    }
    if (c === 'n' && text.startsWith('null', pos)) {
      pos += 4;
      return null;
    }
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return parseNumber();
    return fail('unexpected token');
  };

  const value = parseValue(0);
  skipWs();
  if (pos !== text.length) fail('trailing characters');
  return value;
}
