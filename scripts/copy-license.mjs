#!/usr/bin/env node
// Puts the repository's LICENSE into the package being packed, so every
// published tarball carries the licence text (npm and pnpm include a LICENSE
// at the package root whatever `files` says, and ours list it too).
// Run from a package folder: `prepack` copies, `postpack` (`--remove`)
// deletes the copy again, so no untracked file stays behind in the tree.
// Usage: node ../../scripts/copy-license.mjs [--remove]
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('../LICENSE', import.meta.url));
const target = join(process.cwd(), 'LICENSE');

if (target === source) throw new Error('copy-license: run it from a package folder, not the repository root');
if (!existsSync(join(process.cwd(), 'package.json'))) throw new Error(`copy-license: ${process.cwd()} is not a package folder`);

if (process.argv.includes('--remove')) {
  // Only ever remove our own copy: a file that differs is someone's edit.
  if (existsSync(target) && readFileSync(target, 'utf8') === readFileSync(source, 'utf8')) rmSync(target);
} else {
  copyFileSync(source, target);
}
