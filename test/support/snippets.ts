// The ```ts blocks of the README and the guides, shared by the tests that
// compile them (docs.test.ts against the workspace, consumer.test.ts against
// the packed packages in an app of its own).
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

/** The specification and the conformance page have their own checks. */
const SKIP = new Set(['protocol.md', 'conformance.md']);

/** README.md and every guide of docs/ whose code is compiled. */
export const GUIDES: readonly string[] = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md') && !SKIP.has(f)).map((f) => `docs/${f}`)];

export interface Snippet {
  file: string;
  /** The line of the opening fence. */
  line: number;
  code: string;
  /** The `<!-- ts-context … -->` comment right before the block: declarations it relies on, compiled with it. */
  context: string;
}

/** The ```ts blocks of a markdown file (relative to the repository), each with the `ts-context` comment right before it. */
export function extractSnippets(file: string): Snippet[] {
  const text = readFileSync(join(root, file), 'utf8');
  const snippets: Snippet[] = [];
  const fence = /(?:<!--\s*ts-context\n([\s\S]*?)-->\s*\n)?^```(?:ts|typescript)\n([\s\S]*?)^```$/gm;
  for (const match of text.matchAll(fence)) {
    const line = text.slice(0, match.index + match[0].indexOf('```')).split('\n').length;
    snippets.push({ file, line, context: match[1] ?? '', code: match[2]! });
  }
  return snippets;
}

/** A file name for a snippet, unique by its position. */
export const snippetFileName = (snippet: Snippet, i: number, ext = 'ts'): string => `${snippet.file.replace(/[/.]/g, '_')}_${snippet.line}_${i}.${ext}`;
