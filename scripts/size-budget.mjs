#!/usr/bin/env node
// Size budget of what ships into apps: each entry bundled for the browser with
// everything it pulls in, minified, gzipped.
//
// BUDGET_BYTES is the target of issue 8 (20 kB gz per entry). An entry that
// misses it is reported as OVER TARGET with the gap. CI fails when an entry
// grows past its ceiling: the target where it is met, otherwise a ratchet at
// today's size rounded up to the next half kB, so a miss stays visible and
// cannot quietly grow. Lower a ceiling whenever an entry gets smaller; never
// raise one without a note.
//
// APPS are informative lines without a ceiling: what a typical app ships when
// it imports an entry together with the subpaths it needs, so moving code to a
// subpath cannot hide its cost.
// Usage: node scripts/size-budget.mjs [--json]   (also used by `pnpm bench`)
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export const BUDGET_BYTES = 20_000;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

export const ENTRIES = [
  // Target missed: 24.5 kB gz on 2026-11-28, after the transports moved to /http and /browser (29.7 before).
  // jose's verify + decrypt (8.3 kB) and zod/mini with the schemas the wallet checks (~7 kB) leave ~4.7 kB,
  // less than createWallet's session code, the errors and strict JSON take. Ratchet: rounded up to the next half kB.
  // Raised 24.5 -> 25.0 kB the same day: the pooled CSPRNG (one getRandomValues per 2 KiB instead of per id,
  // about 2 us saved per id) added 46 bytes, 7 past 24.5 after strict JSON's escapes shrank by 9.
  // Raised 25.0 -> 25.5 kB on 2026-12-02 (issue 19, one correlation id): zCorrelationId in the four app messages and
  // problem details, withCorrelationId on every error, the X-Correlation-Id header: about 110 bytes, at 25.1 kB.
  // Raised 25.0 -> 26.0 kB on 2026-12-02 (issue 14, the yellow path): the provisioning response the wallet must
  // check now carries `verification` (zVerification: methods, masked destinations, phone numbers; +0.9 kB from the
  // protocol, 25.9 kB at 9d187cf), and the session stores it with the token (+0.1 kB). The activations themselves
  // (choose a method, codes, resume) are in the separate `@pushprov/wallet-sdk/activation` entry, outside this one.
  // Both on one main (2026-12-02): 26.1 kB measured after the merge, ceiling 26.5 kB.
  // Lowered 26.5 -> 21.0 kB on 2026-12-02 (issue 18 item 14, target 21 kB): 20.6 kB measured. Device keys (JWE
  // decryption, jose's key management and content encryption: -3.9 kB) moved to `@pushprov/wallet-sdk/device-key`;
  // the invocation signature is verified with the JWK handed to jose, without importJWK and its algorithm tables
  // (-0.9 kB); error titles left the error classes' table (ERROR_TITLES, -0.65 kB). A wallet with a device key
  // ships that part again: see the 'wallet-device-key-app' line below.
  // Issue 16 (2026-12-02): one outcome model in the main entry (accounts on every outcome, account events,
  // subscribe), several accounts in `/accounts`, status answers in `/status`, wallet-initiated in `/initiate`:
  // 21.4 kB at the merge, 20.7 kB after one stray-message reporter, parsePublicJwks without zod's union and
  // `zInteger` for the protocol's integers. Ceiling unchanged.
  { id: 'wallet-sdk', name: '@pushprov/wallet-sdk', entry: 'packages/wallet-sdk/src/index.ts', ceiling: 21_000 },
  // Issuer app entry: 19.4 kB until 2026-12-02, ceiling the 20 kB target. Lowered to 16.5 kB (issue 18 item 14, target
  // 18 kB): 16.1 kB measured, after the popup channel moved to `@pushprov/issuer-sdk/browser` (-1.1 kB) and the error
  // titles left the error classes (-0.65 kB).
  // Raised 16.5 -> 18.0 kB on 2026-12-02 (issue 16, several accounts and one outcome model): the protocol's new
  // invocation/request/result forms (+1.0 kB at multi-proto 9a2684e, 17.1 kB), the outcome model (per-account
  // outcomes and events, +1.0 kB) and the several-account backend calls; 18.1 kB won back to 17.99 kB by folding
  // the session's account checks and shortening messages. 18.0 kB is issue 18's hard target: no more room.
  // Lowered 18.0 -> 17.7 kB the same day: 17.6 kB measured once the protocol's integers (`zInteger`,
  // `Number.isInteger`) stopped pulling in zod's number format tables (-0.4 kB here and in the wallet).
  { id: 'issuer-sdk-app', name: '@pushprov/issuer-sdk (app entry)', entry: 'packages/issuer-sdk/src/index.ts', ceiling: 17_700 },
];

/** Typical apps: an entry with the subpaths it needs, measured together. Informative, no ceiling. */
export const APPS = [
  {
    id: 'wallet-browser-app',
    name: 'browser wallet: wallet-sdk + /http + /browser',
    entries: ['packages/wallet-sdk/src/index.ts', 'packages/wallet-sdk/src/http.ts', 'packages/wallet-sdk/src/browser.ts'],
  },
  {
    id: 'wallet-device-key-app',
    name: 'wallet with a device key: wallet-sdk + /http + /device-key',
    entries: ['packages/wallet-sdk/src/index.ts', 'packages/wallet-sdk/src/http.ts', 'packages/wallet-sdk/src/device-key.ts'],
  },
  {
    id: 'issuer-browser-app',
    name: 'bank web page: issuer-sdk + /browser',
    entries: ['packages/issuer-sdk/src/index.ts', 'packages/issuer-sdk/src/browser.ts'],
  },
  {
    id: 'wallet-yellow-app',
    name: 'wallet with the yellow path: wallet-sdk + /http + /activation',
    entries: ['packages/wallet-sdk/src/index.ts', 'packages/wallet-sdk/src/http.ts', 'packages/wallet-sdk/src/activation.ts'],
  },
  {
    id: 'wallet-status-initiate-app',
    name: 'wallet with several cards, status answers, wallet-initiated: wallet-sdk + /http + /accounts + /status + /initiate',
    entries: [
      'packages/wallet-sdk/src/index.ts',
      'packages/wallet-sdk/src/http.ts',
      'packages/wallet-sdk/src/accounts.ts',
      'packages/wallet-sdk/src/status.ts',
      'packages/wallet-sdk/src/initiate.ts',
    ],
  },
];

/** The jose code a wallet cannot do without (verify an issuer signature, decrypt access data): the size floor. */
export const FLOOR = { id: 'floor', name: 'jose compactVerify + compactDecrypt + importJWK', source: "export { compactDecrypt, compactVerify, importJWK } from 'jose';" };

const OPTIONS = {
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  conditions: ['source', 'browser', 'import', 'module'],
  write: false,
  logLevel: 'silent',
  absWorkingDir: ROOT,
};

const sizes = (result) => {
  const code = result.outputFiles[0].contents;
  return { minified: code.length, gzipped: gzipSync(code, { level: 9 }).length };
};

/** Bundles one entry (a path relative to the repository root) and returns its minified and gzipped sizes in bytes. */
export async function measureEntry(entry) {
  return sizes(await build({ ...OPTIONS, entryPoints: [entry] }));
}

/** Bundles several entries together, every export of each kept, as an app importing all of them does. */
export async function measureTogether(entries) {
  const contents = entries.map((entry) => `export * from ${JSON.stringify(`./${entry}`)};`).join('\n');
  return sizes(await build({ ...OPTIONS, stdin: { contents, resolveDir: ROOT, loader: 'ts' } }));
}

/**
 * Measures every entry of {@link ENTRIES} against the budget, then every app
 * of {@link APPS} (informative: no budget, no ceiling).
 */
export async function measureAll() {
  const rows = [];
  for (const { id, name, entry, ceiling } of ENTRIES) rows.push({ id, name, entry, ...(await measureEntry(entry)), budget: BUDGET_BYTES, ceiling });
  for (const { id, name, entries } of APPS) rows.push({ id, name, entry: entries.join(' + '), ...(await measureTogether(entries)) });
  return rows;
}

/** Measures the floor bundle (resolved from the protocol package, which depends on jose). */
export async function measureFloor() {
  const result = await build({ ...OPTIONS, stdin: { contents: FLOOR.source, resolveDir: `${ROOT}packages/protocol`, loader: 'js' } });
  return { id: FLOOR.id, name: FLOOR.name, ...sizes(result) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rows = await measureAll();
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(rows, null, 2));
  } else {
    for (const r of rows) {
      const figures = `${r.name.padEnd(46)} ${(r.minified / 1000).toFixed(1).padStart(6)} kB min  ${(r.gzipped / 1000).toFixed(1).padStart(5)} kB gz`;
      if (r.budget === undefined) {
        console.log(`${'info'.padEnd(11)} ${figures}  (a typical app, for information: no ceiling)`);
        continue;
      }
      const status = r.gzipped > r.ceiling ? 'FAIL' : r.gzipped > r.budget ? 'OVER TARGET' : 'ok';
      const gap = r.gzipped > r.budget ? `, ${((r.gzipped - r.budget) / 1000).toFixed(1)} kB over target; CI ceiling ${(r.ceiling / 1000).toFixed(1)} kB` : '';
      console.log(`${status.padEnd(11)} ${figures}  (target ${(r.budget / 1000).toFixed(0)} kB gz${gap})`);
    }
  }
  if (rows.some((r) => r.ceiling !== undefined && r.gzipped > r.ceiling)) {
    console.error('size ceiling exceeded: an entry grew past its CI ceiling');
    process.exit(1);
  }
}
