// Bundles the two page scripts for the browser with esbuild, in memory, at
// server start. Workspace packages resolve to their TypeScript source (the
// `source` export condition), so no build step is needed.
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The bundled page scripts, by file name (`issuer-page.js`, `wallet-page.js`, `bank-share-page.js`, `bank-b-page.js`). */
export type PageBundles = ReadonlyMap<string, string>;

/** Bundles the page scripts of `pages/`: the bank's page and its window for the wallet, the wallet's page, Bank B's page. */
export async function bundlePages(): Promise<PageBundles> {
  const pages = ['issuer-page', 'wallet-page', 'bank-share-page', 'bank-b-page'];
  const result = await build({
    entryPoints: pages.map((name) => fileURLToPath(new URL(`./pages/${name}.ts`, import.meta.url))),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['source', 'browser', 'import', 'module'],
    sourcemap: 'inline',
    write: false,
    outdir: 'out',
    logLevel: 'silent',
  });
  return new Map(result.outputFiles.map((file) => [file.path.split('/').pop()!, file.text]));
}
