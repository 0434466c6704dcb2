import type * as z from 'zod/mini';
import { type ErrorCode, SchemaError, createError, isErrorCode } from '../errors.js';
import { parseStrictJson } from '../lib/strict-json.js';
import { PROTOCOL_VERSION } from './primitives.js';

/** Options of {@link parseWith}. */
export interface ParseOptions {
  /** The code for a schema failure. Default `invalid_message`. */
  code?: ErrorCode;
  /** Maximum length of a JSON string input. Default 65 536. */
  maxLength?: number;
  /** The message name used in error messages. */
  name?: string;
}

/** The first issues of a failed parse, as safe `path: message` strings. */
function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.slice(0, 8).map((issue) => {
    const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
    return `${path}: ${issue.message}`;
  });
}

function codeFromIssues(issues: readonly z.core.$ZodIssue[]): ErrorCode | undefined {
  for (const issue of issues) {
    const params = (issue as { params?: { ppCode?: unknown } }).params;
    if (issue.code === 'custom' && isErrorCode(params?.ppCode)) return params.ppCode;
  }
  return undefined;
}

const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * True when a value (not text: text goes through the strict JSON parser)
 * holds an own `__proto__` / `constructor` / `prototype` member at any depth,
 * as `JSON.parse` produces, or nests deeper than 32 levels.
 */
function hasUnsafeKey(value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (depth > 32) return true;
  for (const key of Object.keys(value)) {
    if (UNSAFE_KEYS.has(key) || hasUnsafeKey((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}

/**
 * Parses `input` (a JSON string or a value) with `schema`. Refuses strict-JSON
 * violations (`invalid_json`), values with own `__proto__` / `constructor` /
 * `prototype` members (the schema failure code), versions other than {@link PROTOCOL_VERSION}
 * (`unsupported_version`), and schema failures (`invalid_message` or the
 * given code) with a {@link SchemaError} that names paths, never values.
 *
 * @example
 * ```ts
 * const invocation = parseWith(zInvocation, json, { name: 'invocation' });
 * ```
 */
export function parseWith<S extends z.ZodMiniType>(schema: S, input: unknown, options: ParseOptions = {}): z.infer<S> {
  const name = options.name ?? 'message';
  const value = typeof input === 'string' ? parseStrictJson(input, { maxLength: options.maxLength ?? 65_536 }) : input;
  if (typeof input !== 'string' && hasUnsafeKey(value)) {
    throw createError(options.code ?? 'invalid_message', `Invalid ${name}: a member name is not allowed`);
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'version' in value) {
    const version = (value as { version: unknown }).version;
    if (version !== PROTOCOL_VERSION) {
      throw new SchemaError('unsupported_version', `Unsupported ${name} version; this implementation speaks version ${PROTOCOL_VERSION}`);
    }
  }
  const result = schema.safeParse(value, { reportInput: false });
  if (result.success) return result.data as z.infer<S>;
  const issues = describeIssues(result.error.issues);
  const code = codeFromIssues(result.error.issues) ?? options.code ?? 'invalid_message';
  throw createError(code, `Invalid ${name}: ${issues[0] ?? 'schema mismatch'}`, { details: { issues } });
}
