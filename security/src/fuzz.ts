/**
 * Fuzzing helpers on fast-check: bounded, seeded runs; mutations of valid
 * text, JSON and compact JOSE; the hostile strings every parser should meet;
 * the "only typed errors" assertion; and a guard that records unhandled
 * rejections and uncaught exceptions while a file runs.
 */
import { inspect } from 'node:util';
import fc from 'fast-check';
import { ProvisioningError, isErrorCode } from '@pushprov/protocol';
import { CANARY_PAN, findCanary } from './canary.js';

/**
 * Parameters of every `fc.assert` in the suite: a fixed seed (reproducible in
 * CI; set `PUSHPROV_FUZZ_SEED` to explore others), `runs` runs (scaled by
 * `PUSHPROV_FUZZ_SCALE`), and a per-run time limit so a hang fails the run.
 */
export function fuzzParameters(runs: number, timeoutMs = 5_000): fc.Parameters<unknown> {
  const scale = Number(process.env.PUSHPROV_FUZZ_SCALE ?? '1');
  return {
    seed: Number(process.env.PUSHPROV_FUZZ_SEED ?? '20270314'),
    numRuns: Math.max(1, Math.round(runs * (Number.isFinite(scale) && scale > 0 ? scale : 1))),
    timeout: timeoutMs,
    endOnFailure: true,
  };
}

/**
 * Throws (failing the property) unless `error` is a `ProvisioningError` whose
 * code is in the catalog and which carries no canary PAN in its message,
 * JSON or inspected form.
 */
export function assertTypedError(error: unknown): ProvisioningError {
  if (!(error instanceof ProvisioningError)) {
    throw new Error(`not a typed error: ${error instanceof Error ? `${error.name}: ${error.message}` : typeof error}`);
  }
  if (!isErrorCode(error.code)) throw new Error(`unknown code ${String(error.code)}`);
  const leaked = findCanary(`${error.message}\n${JSON.stringify(error)}\n${inspect(error)}`);
  if (leaked.length > 0) throw new Error(`the error carries a canary form: ${leaked.join(', ')}`);
  return error;
}

/** Runs `fn`; returns its value, or asserts a typed error and returns it. */
export function typedOutcome<T>(fn: () => T): { ok: true; value: T } | { ok: false; error: ProvisioningError } {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error: assertTypedError(error) };
  }
}

/** Async {@link typedOutcome}. */
export async function typedOutcomeAsync<T>(fn: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: ProvisioningError }> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error: assertTypedError(error) };
  }
}

/** Records unhandled rejections and uncaught exceptions from `install()` until `uninstall()`. */
export function guardUnhandled() {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown) => seen.push(reason);
  const onException = (error: unknown) => seen.push(error);
  return {
    seen,
    install() {
      process.on('unhandledRejection', onRejection);
      process.on('uncaughtException', onException);
    },
    uninstall() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}

/** Strings every parser should meet: prototype keys, controls, bidi, lone surrogates, digits of other scripts, the canary, huge numbers. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    '',
    ' ',
    'null',
    '\u0000',
    '\u202e',
    '\u2066',
    '\ufeff',
    '\ud800',
    '\udfff',
    'é',
    'e\u0301',
    '١٢٣٤',
    '１２３４',
    CANARY_PAN,
    `${CANARY_PAN.slice(0, 4)} ${CANARY_PAN.slice(4, 8)} ${CANARY_PAN.slice(8, 12)} ${CANARY_PAN.slice(12)}`,
    '9'.repeat(400),
    'A'.repeat(5000),
    '../../etc/passwd',
    'https://evil.test/',
    '{"a":1}',
  ),
);

/** Any JSON-ish value, hostile strings included, bounded in depth. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    fc.integer(),
    fc.double(),
    fc.constantFrom(null, true, false, 0, -0, 1e308, 2 ** 53 + 1, -1),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileString, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** One edit of a text. */
type TextEdit =
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'replace'; at: number; text: string }
  | { kind: 'duplicate'; at: number; length: number }
  | { kind: 'truncate'; at: number };

const textEdit: fc.Arbitrary<TextEdit> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(hostileString, fc.constantFrom('.', '"', '{', '}', ',', ':', '\\', '=', '%', '#', '&')) }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), text: fc.string({ minLength: 1, maxLength: 2 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

/** Applies edits to a text (positions wrap around its length). */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  let out = text;
  for (const edit of edits) {
    const at = out.length === 0 ? 0 : edit.at % (out.length + 1);
    switch (edit.kind) {
      case 'delete':
        out = out.slice(0, at) + out.slice(at + edit.length);
        break;
      case 'insert':
        out = out.slice(0, at) + edit.text + out.slice(at);
        break;
      case 'replace':
        out = out.slice(0, at) + edit.text + out.slice(at + edit.text.length);
        break;
      case 'duplicate':
        out = out.slice(0, at + edit.length) + out.slice(at, at + edit.length) + out.slice(at + edit.length);
        break;
      case 'truncate':
        out = out.slice(0, at);
        break;
    }
  }
  return out;
}

/** A text derived from `valid` by 1 to 4 random edits. */
export const mutatedText = (valid: string): fc.Arbitrary<string> => fc.array(textEdit, { minLength: 1, maxLength: 4 }).map((edits) => applyEdits(valid, edits));

/** The paths of every member and element of a JSON value. */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...pathsOf(v, [...prefix, i])));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...prefix, k]));
  return out;
}

/** One structural change of a JSON value at some path. */
type JsonEdit = { path: number; kind: 'set'; value: unknown } | { path: number; kind: 'delete' } | { path: number; kind: 'add'; key: string; value: unknown };

const jsonEdit: fc.Arbitrary<JsonEdit> = fc.oneof(
  fc.record({ path: fc.nat(), kind: fc.constant('set' as const), value: hostileJson }),
  fc.record({ path: fc.nat(), kind: fc.constant('delete' as const) }),
  fc.record({ path: fc.nat(), kind: fc.constant('add' as const), key: hostileString, value: hostileJson }),
);

/** Applies structural edits to a deep copy of `valid`. */
export function applyJsonEdits(valid: unknown, edits: readonly JsonEdit[]): unknown {
  let root: unknown = structuredClone(valid);
  for (const edit of edits) {
    const paths = pathsOf(root);
    const path = paths[edit.path % paths.length]!;
    if (path.length === 0) {
      if (edit.kind === 'set') root = edit.value;
      else if (edit.kind === 'add' && root !== null && typeof root === 'object' && !Array.isArray(root)) {
        Object.defineProperty(root, edit.key, { value: edit.value, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    const parent = path.slice(0, -1).reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], root) as Record<string | number, unknown>;
    const key = path.at(-1)!;
    if (edit.kind === 'set') parent[key] = edit.value;
    else if (edit.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
    } else {
      const target = parent[key];
      if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
        Object.defineProperty(target, edit.key, { value: edit.value, enumerable: true, writable: true, configurable: true });
      } else parent[key] = { [edit.key]: edit.value };
    }
  }
  return root;
}

/** A JSON value derived from `valid` by 1 to 3 structural edits. */
export const mutatedJson = (valid: unknown): fc.Arbitrary<unknown> => fc.array(jsonEdit, { minLength: 1, maxLength: 3 }).map((edits) => applyJsonEdits(valid, edits));

/** One byte-level change of a compact JOSE serialisation (segments decoded, changed, re-encoded). */
type JoseEdit =
  | { kind: 'flip'; segment: number; at: number; bit: number }
  | { kind: 'truncate'; segment: number; at: number }
  | { kind: 'swap'; a: number; b: number }
  | { kind: 'drop'; segment: number }
  | { kind: 'random'; segment: number; bytes: Uint8Array }
  | { kind: 'text'; edits: TextEdit[] };

const joseEdit: fc.Arbitrary<JoseEdit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), segment: fc.nat(), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), segment: fc.nat(), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ kind: fc.constant('drop' as const), segment: fc.nat() }),
  fc.record({ kind: fc.constant('random' as const), segment: fc.nat(), bytes: fc.uint8Array({ maxLength: 64 }) }),
  fc.record({ kind: fc.constant('text' as const), edits: fc.array(textEdit, { minLength: 1, maxLength: 2 }) }),
);

/** Applies byte-level edits to a compact JWS or JWE. */
export function applyJoseEdits(compact: string, edits: readonly JoseEdit[]): string {
  let out = compact;
  for (const edit of edits) {
    const parts = out.split('.');
    const pick = (n: number) => n % parts.length;
    switch (edit.kind) {
      case 'flip': {
        const i = pick(edit.segment);
        const bytes = Buffer.from(parts[i]!, 'base64url');
        if (bytes.length > 0) {
          const at = edit.at % bytes.length;
          bytes[at] = bytes[at]! ^ (1 << edit.bit);
        }
        parts[i] = bytes.toString('base64url');
        break;
      }
      case 'truncate': {
        const i = pick(edit.segment);
        const bytes = Buffer.from(parts[i]!, 'base64url');
        parts[i] = bytes.subarray(0, edit.at % (bytes.length + 1)).toString('base64url');
        break;
      }
      case 'swap': {
        const a = pick(edit.a);
        const b = pick(edit.b);
        [parts[a], parts[b]] = [parts[b]!, parts[a]!];
        break;
      }
      case 'drop':
        parts.splice(pick(edit.segment), 1);
        break;
      case 'random':
        parts[pick(edit.segment)] = Buffer.from(edit.bytes).toString('base64url');
        break;
      case 'text':
        out = applyEdits(parts.join('.'), edit.edits);
        continue;
    }
    out = parts.join('.');
  }
  return out;
}

/** A compact serialisation derived from `valid` by 1 to 3 byte-level edits. */
export const mutatedCompact = (valid: string): fc.Arbitrary<string> => fc.array(joseEdit, { minLength: 1, maxLength: 3 }).map((edits) => applyJoseEdits(valid, edits));

/** A protected header decoded, changed structurally, re-encoded (the rest kept). */
export const mutatedHeader = (compact: string): fc.Arbitrary<string> => {
  const [head, ...rest] = compact.split('.');
  const header = JSON.parse(Buffer.from(head!, 'base64url').toString('utf8')) as unknown;
  return mutatedJson(header).map((changed) => [Buffer.from(JSON.stringify(changed) ?? 'null', 'utf8').toString('base64url'), ...rest].join('.'));
};
