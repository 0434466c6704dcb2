/**
 * Renders the error code table of `docs/protocol.md` from `ERROR_CATALOG`.
 * `scripts/update-docs.ts` writes it between the markers; a test keeps the
 * committed table equal to this rendering.
 */
import { ERROR_CATALOG, ERROR_CODES } from '../../src/index.js';

export const ERROR_TABLE_START = '<!-- error-table:start (generated from ERROR_CATALOG by packages/protocol/scripts/update-docs.ts; do not edit) -->';
export const ERROR_TABLE_END = '<!-- error-table:end -->';

/** The Markdown table: code, family, HTTP status, retryable, meaning. */
export function renderErrorTable(): string {
  const rows = ERROR_CODES.map((code) => {
    const info = ERROR_CATALOG[code];
    return `| \`${code}\` | ${info.family} | ${info.status} | ${info.retryable ? 'yes' : 'no'} | ${info.title} |`;
  });
  return ['| code | family | HTTP status | retryable | meaning |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

/** Replaces the text between the markers of `doc` with the rendered table. */
export function replaceErrorTable(doc: string): string {
  const start = doc.indexOf(ERROR_TABLE_START);
  const end = doc.indexOf(ERROR_TABLE_END);
  if (start < 0 || end < start) throw new Error('error table markers not found');
  return `${doc.slice(0, start + ERROR_TABLE_START.length)}\n${renderErrorTable()}\n${doc.slice(end)}`;
}
