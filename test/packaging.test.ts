// What each published package puts in front of an app, checked on the tarball
// `pnpm pack` makes (pnpm applies publishConfig there, as at publish time):
// - the licence and a README are in it;
// - its exports carry no `source` condition and point at nothing under src/
//   (that condition serves our workspace only: an app running
//   `node --conditions=source`, or type-checking with customConditions
//   ["source"], must get our build, not our TypeScript);
// - repository, homepage, bugs and an author are set;
// - runtime dependencies are ranges, not exact versions, and workspace
//   protocols are replaced;
// - every file the exports name is in the tarball (after `pnpm build`).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const PNPM = ['-y', 'pnpm@10.34.8'];

interface Manifest {
  name: string;
  private?: boolean;
  exports?: unknown;
  files?: string[];
  repository?: { type?: string; url?: string; directory?: string };
  homepage?: string;
  bugs?: { url?: string } | string;
  author?: unknown;
  contributors?: unknown;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  publishConfig?: Record<string, unknown>;
}

const published = readdirSync(join(root, 'packages'))
  .filter((dir) => existsSync(join(root, 'packages', dir, 'package.json')))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as Manifest }))
  .filter(({ manifest }) => manifest.private !== true);

const work = mkdtempSync(join(tmpdir(), 'pushprov-packaging-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Packs packages/<dir> with pnpm and returns the folder it was unpacked into. */
function pack(dir: string): string {
  const out = join(work, dir);
  const run = spawnSync('npx', [...PNPM, 'pack', '--pack-destination', out], { cwd: join(root, 'packages', dir), encoding: 'utf8', timeout: 120_000 });
  expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
  const tarball = readdirSync(out).find((f) => f.endsWith('.tgz'));
  expect(tarball, `no tarball for packages/${dir}`).toBeDefined();
  const untar = spawnSync('tar', ['-xzf', join(out, tarball!), '-C', out], { encoding: 'utf8' });
  expect(untar.status, untar.stderr).toBe(0);
  return join(out, 'package');
}

/** Every condition key and every target path of an exports field. */
function walkExports(value: unknown, path: string[] = [], found: { conditions: string[]; targets: string[] } = { conditions: [], targets: [] }) {
  if (typeof value === 'string') found.targets.push(value);
  else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (!key.startsWith('.')) found.conditions.push([...path, key].join(' > '));
      walkExports(inner, [...path, key], found);
    }
  }
  return found;
}

const EXACT = /^v?\d+\.\d+\.\d+(?:[-+].*)?$/;

describe.each(published.map(({ dir, manifest }) => [manifest.name, dir] as const))('the packed %s', (_name, dir) => {
  let unpacked: string | undefined;
  const packed = () => (unpacked ??= pack(dir));
  const manifest = () => JSON.parse(readFileSync(join(packed(), 'package.json'), 'utf8')) as Manifest;

  it('holds the licence and a README', () => {
    expect(existsSync(join(packed(), 'LICENSE')), 'LICENSE').toBe(true);
    expect(readFileSync(join(packed(), 'LICENSE'), 'utf8')).toBe(readFileSync(join(root, 'LICENSE'), 'utf8'));
    expect(existsSync(join(packed(), 'README.md')), 'README.md').toBe(true);
    // The prepack copy is removed again after packing.
    expect(existsSync(join(root, 'packages', dir, 'LICENSE')), `packages/${dir}/LICENSE left behind`).toBe(false);
  }, 180_000);

  it('exports no `source` condition and nothing under src/', () => {
    const { conditions, targets } = walkExports(manifest().exports);
    expect(targets.length).toBeGreaterThan(0);
    expect(conditions.filter((c) => c.split(' > ').includes('source'))).toEqual([]);
    expect(targets.filter((t) => t.startsWith('./src/') || /(?<!\.d)\.[cm]?ts$/.test(t))).toEqual([]);
    expect(existsSync(join(packed(), 'src')), 'src/ is not published').toBe(false);
  }, 180_000);

  it('says where it comes from: repository, homepage, bugs, author', () => {
    const m = manifest();
    expect(m.repository).toEqual({ type: 'git', url: 'git+https://github.com/pushprov/pushprov.git', directory: `packages/${dir}` });
    expect(m.homepage).toMatch(/^https:\/\/github\.com\/pushprov\/pushprov\b/);
    expect(typeof m.bugs === 'string' ? m.bugs : m.bugs?.url).toMatch(/^https:\/\/github\.com\/pushprov\/pushprov\/issues/);
    expect(m.author ?? m.contributors).toBeTruthy();
  }, 180_000);

  it('depends on ranges, not exact versions or workspace protocols', () => {
    const m = manifest();
    const deps = { ...m.dependencies, ...m.optionalDependencies, ...m.peerDependencies };
    expect(Object.entries(deps).filter(([, range]) => EXACT.test(range) || range.startsWith('workspace:'))).toEqual([]);
  }, 180_000);

  it('holds every file its exports name (after `pnpm build`)', () => {
    const { targets } = walkExports(manifest().exports);
    const missing = targets.filter((t) => !t.includes('*') && !existsSync(join(packed(), t)));
    expect(missing).toEqual([]);
  }, 180_000);
});

describe('the published packages', () => {
  it('are the packages under packages/', () => {
    expect(published.map((p) => p.dir)).toEqual(expect.arrayContaining(['protocol', 'issuer-sdk', 'wallet-sdk', 'token-service']));
  });

  // pnpm 10.34.8's `pnpm -r pack` packs every project with a name and a
  // version, private or not: the private workspace packages have no version
  // (changesets links the published ones by name in .changeset/config.json).
  it('`pnpm -r pack` packs exactly the published packages, none of the private ones', () => {
    const out = mkdtempSync(join(tmpdir(), 'pushprov-rpack-'));
    try {
      const run = spawnSync('npx', [...PNPM, '-r', 'pack', '--pack-destination', out], { cwd: root, encoding: 'utf8', timeout: 170_000 });
      expect(run.status, run.stderr).toBe(0);
      const tarballs = readdirSync(out).sort();
      expect(tarballs).toEqual(published.map(({ manifest: m }) => `${m.name.replace("@", "").replace("/", "-")}-${(m as { version?: string }).version}.tgz`).sort());
      expect(tarballs.some((t) => /example|bench|security/.test(t))).toBe(false);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 180_000);
});
