/**
 * The conformance vectors: the file shipped as
 * `@pushprov/protocol/vectors.json`, or another one given by path.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The expected outcome of a case (docs/conformance.md, "A case"). */
export type Expected = ({ outcome: 'ok' } & Record<string, unknown>) | { outcome: 'error'; code: string };

/** A case of the file, as the runner reads it (the `input` is kind-specific). */
export interface VectorCase {
  id: string;
  title: string;
  description: string;
  kind: string;
  input: Record<string, unknown>;
  expected: Expected;
}

/** The vector file. */
export interface VectorFile {
  format: 'pushprov-conformance-vectors';
  formatVersion: number;
  protocolVersion: number;
  cases: VectorCase[];
}

/** The kinds of formatVersion 1. */
export const VECTOR_KINDS = [
  'provisioning-request',
  'message',
  'message-url',
  'access-data',
  'invocation-signature',
  'status-query-signature',
  'account-state',
  'status-answer',
  'client-assertion',
  'problem-details',
] as const;
export type VectorKind = (typeof VECTOR_KINDS)[number];

/** The path of the vectors shipped with @pushprov/protocol. */
export function defaultVectorsPath(): string {
  return createRequire(import.meta.url).resolve('@pushprov/protocol/vectors.json');
}

/** Reads and checks a vector file. */
export function loadVectors(path: string = defaultVectorsPath()): VectorFile {
  const file = JSON.parse(readFileSync(path, 'utf8')) as Partial<VectorFile>;
  if (file.format !== 'pushprov-conformance-vectors' || file.formatVersion !== 1 || !Array.isArray(file.cases)) {
    throw new Error(`${path} is not a pushprov conformance vector file of formatVersion 1`);
  }
  return file as VectorFile;
}
