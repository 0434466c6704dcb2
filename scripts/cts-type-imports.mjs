#!/usr/bin/env node
// Makes the CommonJS declarations (dist/*.d.cts) usable from a CommonJS
// TypeScript file under `moduleResolution: node16`: an import of an
// ESM-only package there (jose, whose exports have no `require` target) is
// an error (TS1479), since a CommonJS file cannot `require()` it. Our
// declarations only need that package's types, so such an import becomes a
// type-only import resolved as ESM:
//   import { JWK } from 'jose';
//   import type { JWK } from 'jose' with { 'resolution-mode': 'import' };
// and a bare `import 'jose';` is dropped.
// Run from a package folder after tsup: `node ../../scripts/cts-type-imports.mjs`.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const dist = join(process.cwd(), 'dist');
const requireHere = createRequire(join(process.cwd(), 'package.json'));
const esmOnly = new Map();

/** True when a package cannot be `require()`d by TypeScript's node16 rules: `type: module` and no `require` export of its root. */
function isEsmOnly(name) {
  if (!esmOnly.has(name)) {
    let manifest;
    try {
      manifest = JSON.parse(readFileSync(requireHere.resolve(`${name}/package.json`), 'utf8'));
    } catch {
      // Exports without ./package.json: find it by walking up from the entry is not needed for ours; treat as CommonJS-capable.
      esmOnly.set(name, false);
      return false;
    }
    const root = typeof manifest.exports === 'object' && manifest.exports !== null ? (manifest.exports['.'] ?? manifest.exports) : undefined;
    const hasRequire = typeof root === 'object' && root !== null && JSON.stringify(root).includes('"require"');
    esmOnly.set(name, manifest.type === 'module' && !hasRequire);
  }
  return esmOnly.get(name);
}

const packageOf = (specifier) => (specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]);

let changed = 0;
for (const file of readdirSync(dist).filter((f) => f.endsWith('.d.cts'))) {
  const path = join(dist, file);
  const text = readFileSync(path, 'utf8');
  const next = text.replace(/^import (type )?(\{[^}]*\}|\* as \w+) from '([^'.][^']*)';$/gm, (line, _type, names, specifier) => {
    if (specifier.startsWith('node:') || !isEsmOnly(packageOf(specifier))) return line;
    changed++;
    return `import type ${names} from '${specifier}' with { 'resolution-mode': 'import' };`;
  });
  // A bare `import 'jose';` (the declaration bundler leaves one where a chunk's types came from it) carries no
  // types, and is the same error under node16: dropped.
  const bare = next.replace(/^import '([^'.][^']*)';\n/gm, (line, specifier) => {
    if (specifier.startsWith('node:') || !isEsmOnly(packageOf(specifier))) return line;
    changed++;
    return '';
  });
  if (bare !== text) writeFileSync(path, bare);
}
process.stdout.write(`cts-type-imports: ${changed} import(s) of ESM-only packages made type-only in dist/*.d.cts\n`);
