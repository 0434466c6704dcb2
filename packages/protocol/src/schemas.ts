/**
 * The message schemas (zod/mini) and their `parse…` functions, strict JSON,
 * and the primitive schemas they are built from: every message of the
 * protocol, checked as the specification says.
 *
 * @packageDocumentation
 * @module @pushprov/protocol/schemas
 */
export * from './schemas/index.js';
export { parseStrictJson, type StrictJsonOptions } from './lib/strict-json.js';
