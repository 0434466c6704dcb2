#!/usr/bin/env node
// Size budget of what ships into apps: each entry bundled for the browser with
// everything it pulls in, minified, gzipped. Fails when an entry is over budget.
// Usage: node scripts/size-budget.mjs [--json]
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export const BUDGET_BYTES = 20_000;
export const ENTRIES = [
  { name: '@pushprov/wallet-sdk', entry: 'packages/wallet-sdk/src/index.ts' },
  { name: '@pushprov/issuer-sdk (app entry)', entry: 'packages/issuer-sdk/src/index.ts' },
];

/** Bundles one entry and returns its minified and gzipped sizes in bytes. */
export async function measureEntry(entry) {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['source', 'browser', 'import', 'module'],
    write: false,
    logLevel: 'silent',
    metafile: false,
  });
  const code = result.outputFiles[0].contents;
  return { minified: code.length, gzipped: gzipSync(code, { level: 9 }).length };
}

export async function measureAll() {
  const rows = [];
  for (const { name, entry } of ENTRIES) rows.push({ name, entry, ...(await measureEntry(entry)), budget: BUDGET_BYTES });
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await measureAll();
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(rows, null, 2));
  } else {
    for (const r of rows) {
      const status = r.gzipped <= r.budget ? 'ok  ' : 'OVER';
      console.log(`${status} ${r.name.padEnd(36)} ${(r.minified / 1000).toFixed(1).padStart(6)} kB min  ${(r.gzipped / 1000).toFixed(1).padStart(5)} kB gz  (budget ${(r.budget / 1000).toFixed(0)} kB gz)`);
    }
  }
  if (rows.some((r) => r.gzipped > r.budget)) {
    console.error('size budget exceeded');
    process.exit(1);
  }
}
