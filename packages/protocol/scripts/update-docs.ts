/**
 * Rewrites the generated parts of `docs/protocol.md` (the error code table).
 *
 *   npx tsx packages/protocol/scripts/update-docs.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { replaceErrorTable } from './lib/error-table.js';

const path = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docs', 'protocol.md');
const before = readFileSync(path, 'utf8');
const after = replaceErrorTable(before);
if (after !== before) writeFileSync(path, after);
console.log(after === before ? 'docs/protocol.md is up to date' : 'updated docs/protocol.md');
