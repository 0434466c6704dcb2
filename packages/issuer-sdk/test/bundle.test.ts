import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { expectNoPan, TEST_PAN } from './support/pan-guard.js';

async function bundle(entry: string) {
  const result = await build({
    entryPoints: [new URL(entry, import.meta.url).pathname],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['source', 'browser', 'import', 'module'],
    write: false,
    logLevel: 'silent',
    metafile: true,
  });
  const code = result.outputFiles[0]!.contents;
  // The modules that contribute code to the bundle (parsed but tree-shaken ones do not count).
  const output = Object.values(result.metafile.outputs)[0]!;
  const inputs = Object.entries(output.inputs).flatMap(([path, info]) => (info.bytesInOutput > 0 ? [path] : []));
  return { gzipped: gzipSync(code, { level: 9 }).length, inputs };
}

describe('what ships into apps', () => {
  it('the main entry, with everything it pulls in, stays within 18 kB gzipped (issue 18) and uses no Node built-ins', async () => {
    const { gzipped, inputs } = await bundle('../src/index.ts');
    expect(gzipped).toBeLessThanOrEqual(18_000);
    expect(inputs.some((i) => i.startsWith('node:'))).toBe(false);
    // The server side and JOSE encryption stay out of the app entry.
    expect(inputs.some((i) => i.includes('/src/server/'))).toBe(false);
    expect(inputs.some((i) => i.includes('jwe/compact/encrypt'))).toBe(false);
    // The browser popup channel is its own entry, @pushprov/issuer-sdk/browser.
    expect(inputs.some((i) => i.includes('popup-wallet-channel'))).toBe(false);
    // Status queries and wallet-initiated answers are their own entries, /status and /offer.
    expect(inputs.some((i) => i.includes('/src/status/') || i.includes('/src/offer/'))).toBe(false);
  });

  it.each(['local', 'browser', 'status', 'offer'])('the %s entry bundles for the browser too', async (entry) => {
    const { inputs } = await bundle(`../src/${entry}.ts`);
    expect(inputs.some((i) => i.startsWith('node:'))).toBe(false);
  });
});

describe('the PAN guard used by these tests', () => {
  it('catches a PAN in an event, an error detail, or spaced', () => {
    expect(() => expectNoPan([{ deep: { value: `x${TEST_PAN}` } }])).toThrow();
    expect(() => expectNoPan(Object.assign(new Error('x'), { details: { card: TEST_PAN } }))).toThrow();
    expect(() => expectNoPan('card 4111 1111 1111 1111')).toThrow();
    expect(() => expectNoPan({ last4: '1111' })).not.toThrow();
  });
});
