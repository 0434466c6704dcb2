import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? sourceFiles(join(dir, d.name)) : [join(dir, d.name)]));
}

/** Bundles one entry of src/ for the browser, minified, with its metafile. */
const bundleForBrowser = (entry: string) =>
  build({
    entryPoints: [join(src, entry)],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['source'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });

describe('runtime-agnostic browser bundle', () => {
  it.each(['browser.ts', 'http.ts', 'device-key.ts'])('bundles the %s entry for the browser with no Node built-ins', async (entry) => {
    const result = await bundleForBrowser(entry);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((i) => i.startsWith('node:') || /node_modules\/@types\/node/.test(i))).toBe(false);
  });

  it('bundles the main entry for the browser with no Node built-ins and no transport', async () => {
    const result = await bundleForBrowser('index.ts');
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((i) => i.startsWith('node:') || /node_modules\/@types\/node/.test(i))).toBe(false);
    // The HTTP client and the popup channel live in their own entries.
    const shipped = Object.entries(Object.values(result.metafile.outputs)[0]!.inputs).flatMap(([path, info]) => (info.bytesInOutput > 0 ? [path] : []));
    expect(shipped.some((i) => i.includes('create-http-token-service-client') || i.includes('create-opener-issuer-channel'))).toBe(false);
    // JWE decryption (jose's largest part) ships only with @pushprov/wallet-sdk/device-key.
    expect(shipped.filter((i) => /jwe_decrypt|key_management|device-keys\.ts|generate-device-key/.test(i))).toEqual([]);
    // The wallet SDK's own code stays small; the rest is the protocol, zod/mini and jose.
    const own = Object.entries(result.metafile.outputs)[0]![1].inputs;
    const ownBytes = Object.entries(own)
      .filter(([path]) => path.includes('packages/wallet-sdk/src'))
      .reduce((sum, [, info]) => sum + info.bytesInOutput, 0);
    expect(ownBytes).toBeGreaterThan(0);
    expect(ownBytes).toBeLessThan(16_000);
  });

  it('uses no Node globals or modules in its source', () => {
    for (const file of sourceFiles(src)) {
      // Code only: doc comments may show host code such as `process.env`.
      const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
      expect(text, file).not.toMatch(/from 'node:|require\(|\bBuffer\b|\bprocess\.|\bglobal\./);
      expect(text, file).not.toMatch(/from 'zod'|from 'jose'/);
    }
  });
});
