import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createOpenApiDocument } from './openapi-document.js';

const FILE = fileURLToPath(new URL('../openapi.json', import.meta.url));

describe('openapi.json', () => {
  it('equals the document generated from the protocol schemas', () => {
    const generated = createOpenApiDocument();
    if (process.env.UPDATE_OPENAPI === '1') writeFileSync(FILE, `${JSON.stringify(generated, null, 2)}\n`);
    expect(JSON.parse(readFileSync(FILE, 'utf8'))).toEqual(generated);
  });
});
