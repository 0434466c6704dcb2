// A new user's first hour, from the packed packages (issue 18, item 10).
//
// Every public package is packed (`pnpm -r pack`, after `pnpm build`) and
// installed with npm into a temporary app outside the workspace, as the
// getting-started guide sets one up (its commands, run as written, with the
// tarballs in place of the @pushprov/* names). The app already has its own,
// slightly different jose and zod: the packages must share them (one copy
// each) and work with them. Third-party packages are the versions our
// lockfile pins (the ones the guide names are installed at them, the others
// are npm `overrides`), so the run is reproducible. Then, on that one app:
// - every ```ts block of the README and the guides, and a file importing
//   every public entry, compile under the strict settings apps use
//   (`strict`, `exactOptionalPropertyTypes`, `skipLibCheck: false`), with
//   `moduleResolution` `node16` and `bundler`, and a CommonJS `.cts` file
//   under node16 imports every entry;
// - `require()` loads every CommonJS entry;
// - the token service library works with neither storage driver installed,
//   and says which package to install when a store needs it;
// - the getting-started flow runs as written: sandbox, `npx token-service
//   start` from the tarball, the bank's backend, the bank's app and a test
//   wallet, twice (the second run gets the same token).
//
// better-sqlite3 is installed with the others, but its install script (a
// 1.5-minute native build where no prebuilt binary can be downloaded) is
// skipped: the binary the workspace built for this Node (same version,
// checked) is copied in. Nothing is cached in the repository.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GUIDES, type Snippet, extractSnippets, snippetFileName } from './support/snippets.js';

const root = resolve(import.meta.dirname, '..');
const PNPM = ['-y', 'pnpm@10.34.8'];
/** The neighbouring versions the app already has: not the lockfile's (jose 6.2.x, zod 4.6.x), inside our ranges. */
const NEIGHBOURS = { jose: '6.1.3', zod: '4.5.4' } as const;
/** Packages this test needs in the app besides what the guide installs (lockfile versions). */
const TEST_EXTRAS = ['pg', 'express', '@types/express', 'fastify', 'hono'];
const NPM_FLAGS = ['--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'];

interface Manifest {
  name: string;
  version?: string;
  private?: boolean;
  exports?: Record<string, unknown>;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const published = readdirSync(join(root, 'packages'))
  .filter((dir) => existsSync(join(root, 'packages', dir, 'package.json')))
  .map((dir) => readJson<Manifest>(join(root, 'packages', dir, 'package.json')))
  .filter((m) => m.private !== true);

/** name -> versions, from the `packages:` section of pnpm-lock.yaml. */
function lockfileVersions(): Map<string, Set<string>> {
  const text = readFileSync(join(root, 'pnpm-lock.yaml'), 'utf8');
  const section = text.slice(text.indexOf('\npackages:\n'), text.indexOf('\nsnapshots:\n'));
  const versions = new Map<string, Set<string>>();
  for (const match of section.matchAll(/^ {2}'?((?:@[^@/\s]+\/)?[^@\s']+)@([0-9][^(':\s]*)'?:$/gm)) {
    const set = versions.get(match[1]!) ?? new Set<string>();
    set.add(match[2]!);
    versions.set(match[1]!, set);
  }
  return versions;
}
const LOCKED = lockfileVersions();
/** name -> versions our own packages depend on directly, from the `importers:` section. */
function importerVersions(): Map<string, Set<string>> {
  const text = readFileSync(join(root, 'pnpm-lock.yaml'), 'utf8');
  const section = text.slice(text.indexOf('\nimporters:\n'), text.indexOf('\npackages:\n'));
  const versions = new Map<string, Set<string>>();
  for (const match of section.matchAll(/^ {6}'?([^\s':]+)'?:\n {8}specifier: .*\n {8}version: ([0-9][^(\s]*)/gm)) {
    versions.set(match[1]!, (versions.get(match[1]!) ?? new Set<string>()).add(match[2]!));
  }
  return versions;
}
const DIRECT = importerVersions();
/** The version the lockfile pins for a package: its one version, or the one our packages use directly. */
const locked = (name: string): string => {
  const all = [...(LOCKED.get(name) ?? [])];
  const versions = all.length === 1 ? all : [...(DIRECT.get(name) ?? [])];
  if (versions.length !== 1) throw new Error(`pnpm-lock.yaml pins ${all.length} versions of ${name}; the consumer test needs exactly one`);
  return versions[0]!;
};

/** The `## 3.` part of the getting-started guide: the project the test builds. */
const guide = readFileSync(join(root, 'docs/getting-started.md'), 'utf8');
const ownProject = guide.slice(guide.indexOf('## 3. '), guide.indexOf('\n## ', guide.indexOf('## 3. ') + 1));
/** Its shell commands, in order (one per line). */
const guideCommands = [...ownProject.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].flatMap((m) => m[1]!.split('\n').filter((line) => line.trim() !== ''));
/** Its files: each ```ts block the text says to save as `path`. */
const guideFiles = [...ownProject.matchAll(/Save this as `([^`]+)`[\s\S]*?^```ts\n([\s\S]*?)^```$/gm)].map((m) => ({ path: m[1]!, code: m[2]! }));
/** The output the guide shows for the try-it script. */
const guideOutput = /^```text\n(bank app:[\s\S]*?)^```$/m.exec(ownProject)?.[1]?.trim().split('\n') ?? [];

const work = mkdtempSync(join(tmpdir(), 'pushprov-consumer-'));
const app = join(work, 'my-bank');
const packs = join(work, 'packs');
const running: ChildProcess[] = [];

/** Runs a command in the app; fails the test with its output when it fails. */
function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}) {
  const result = spawnSync(command, args, { cwd: options.cwd ?? app, env: options.env ?? process.env, encoding: 'utf8', timeout: options.timeout ?? 120_000 });
  expect(result.status, `${command} ${args.join(' ')}\n${result.stdout}${result.stderr}${result.error ?? ''}`).toBe(0);
  return result;
}

/** The tarball of a published package. */
const tarball = (name: string): string => {
  const manifest = published.find((m) => m.name === name);
  if (!manifest) throw new Error(`the guide installs ${name}, which is not a published package`);
  return join(packs, `${name.slice(1).replace('/', '-')}-${manifest.version}.tgz`);
};

/** A package spec of an install line as the test installs it: our tarballs, the lockfile's versions. */
const specOf = (name: string): string => (name.startsWith('@pushprov/') ? tarball(name) : `${name}@${locked(name)}`);

/** The package names of an `npm install` line. */
const installedBy = (line: string): string[] =>
  line
    .replace(/^npm (?:install|i)\s+/, '')
    .split(/\s+/)
    .filter((word) => word !== '' && !word.startsWith('-'));

/** A free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** Starts a long-running command of the guide; resolves once its output matches `ready`. */
function startInBackground(command: string, env: NodeJS.ProcessEnv, ready: RegExp): Promise<ChildProcess> {
  // A process group of its own: npx starts the command as a child, which the group's end stops too.
  const child = spawn('sh', ['-c', `exec ${command}`], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  running.push(child);
  let output = '';
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} did not start in 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (ready.test(output)) {
        clearTimeout(timer);
        resolveStart(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code}:\n${output}`));
    });
  });
}

/** The entries of the packed packages: `{ specifier, require }` for every subpath with code. */
function entriesOf(manifest: Manifest): { specifier: string; require: boolean }[] {
  return Object.entries(manifest.exports ?? {})
    .filter(([subpath, target]) => !subpath.endsWith('.json') && typeof target === 'object')
    .map(([subpath, target]) => ({
      specifier: subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`,
      require: 'require' in (target as Record<string, unknown>),
    }));
}

let installedManifests: Manifest[] = [];
let env: NodeJS.ProcessEnv = {};

beforeAll(() => {
  const pack = spawnSync('npx', [...PNPM, '-r', 'pack', '--pack-destination', packs], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  expect(pack.status, `${pack.stdout}${pack.stderr}`).toBe(0);
  mkdirSync(app);
  // npm and npx as a user runs them: no npm or pnpm settings of our run, no NODE_PATH (npx and pnpm point it into our workspace).
  env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(npm_|PNPM_|pnpm_)/i.test(key) && key !== 'NODE_OPTIONS' && key !== 'NODE_PATH'));
  env.npm_config_update_notifier = 'false';
  const installs = guideCommands.filter((line) => /^npm (?:install|i) /.test(line));
  expect(installs.length, 'the guide installs packages').toBeGreaterThan(0);
  // Every published package is installed: those the guide does not name last (they depend on the others).
  const ours = published.map((m) => m.name).filter((name) => !installs.flatMap(installedBy).includes(name));
  const direct = new Set([...installs.flatMap(installedBy), ...ours, ...TEST_EXTRAS, ...Object.keys(NEIGHBOURS)]);
  for (const line of guideCommands) {
    if (/^npx /.test(line)) continue; // the flow, below
    if (line === installs[0]) {
      // Pin every other third-party package our lockfile has one version of; then the app's own jose, zod and the test's extras.
      const manifest = readJson<Record<string, unknown>>(join(app, 'package.json'));
      manifest.overrides = Object.fromEntries([...LOCKED].filter(([name, versions]) => versions.size === 1 && !direct.has(name) && !name.startsWith('@pushprov/')).map(([name, versions]) => [name, [...versions][0]!]));
      writeFileSync(join(app, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      run('npm', ['install', ...NPM_FLAGS, ...Object.entries(NEIGHBOURS).map(([name, version]) => `${name}@${version}`), ...TEST_EXTRAS.map(specOf)], { env, timeout: 180_000 });
    }
    if (installs.includes(line)) {
      const [, dev] = /^npm (?:install|i) ((?:--save-dev|-D)\s)?/.exec(line)!;
      run('npm', ['install', ...NPM_FLAGS, ...(dev ? ['--save-dev'] : []), ...installedBy(line).map(specOf)], { env, timeout: 180_000 });
    } else run('sh', ['-c', line], { env });
  }
  if (ours.length > 0) run('npm', ['install', ...NPM_FLAGS, ...ours.map(specOf)], { env, timeout: 180_000 });
  // The native SQLite binding the workspace built (see the top of this file).
  const workspaceSqlite = dirname(createRequire(join(root, 'packages/token-service/package.json')).resolve('better-sqlite3/package.json'));
  const appSqlite = join(app, 'node_modules/better-sqlite3');
  expect(readJson<Manifest>(join(appSqlite, 'package.json')).version).toBe(readJson<Manifest>(join(workspaceSqlite, 'package.json')).version);
  mkdirSync(join(appSqlite, 'build/Release'), { recursive: true });
  copyFileSync(join(workspaceSqlite, 'build/Release/better_sqlite3.node'), join(appSqlite, 'build/Release/better_sqlite3.node'));
  installedManifests = published.map((m) => readJson<Manifest>(join(app, 'node_modules', m.name, 'package.json')));
}, 300_000);

/** True while any process of the group `pid` lives. */
const groupAlive = (pid: number): boolean => {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
};

afterAll(async () => {
  // Every process the flow started (npx, the token service, tsx and its node), then the folder.
  const groups = running.map((child) => child.pid).filter((pid): pid is number => pid !== undefined && groupAlive(pid));
  for (const pid of groups) process.kill(-pid, 'SIGTERM');
  const deadline = Date.now() + 5000;
  while (groups.some(groupAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const pid of groups.filter(groupAlive)) process.kill(-pid, 'SIGKILL');
  while (groups.some(groupAlive) && Date.now() < deadline + 2000) await new Promise((r) => setTimeout(r, 50));
  expect(groups.filter(groupAlive), 'no process of the flow is left').toEqual([]);
  rmSync(work, { recursive: true, force: true });
}, 15_000);

describe('the packed packages in a new app', () => {
  it('are installed from the tarballs, sharing the app\'s own jose and zod (one copy each)', () => {
    expect(installedManifests.map((m) => m.name).sort()).toEqual(published.map((m) => m.name).sort());
    for (const [name, version] of Object.entries(NEIGHBOURS)) {
      const copies = spawnSync('find', ['node_modules', '-path', `*node_modules/${name}/package.json`], { cwd: app, encoding: 'utf8' }).stdout.trim().split('\n');
      expect(copies, name).toEqual([`node_modules/${name}/package.json`]);
      expect(readJson<Manifest>(join(app, copies[0]!)).version).toBe(version);
    }
  });

  it('compile under strict settings, node16 and bundler, ESM and CommonJS: the guides\' code and every entry', () => {
    const dir = join(app, 'typecheck');
    mkdirSync(dir);
    const names = new Map<string, Snippet>();
    GUIDES.flatMap(extractSnippets).forEach((snippet, i) => {
      const name = snippetFileName(snippet, i);
      names.set(name, snippet);
      writeFileSync(join(dir, name), `// ${snippet.file}:${snippet.line}\n${snippet.context}\n${snippet.code}\nexport {};\n`);
    });
    expect(names.size).toBeGreaterThan(20);
    const entries = installedManifests.flatMap(entriesOf);
    writeFileSync(join(dir, 'entries.ts'), `${entries.map((e, i) => `import * as entry${i} from '${e.specifier}';`).join('\n')}\nexport const all = [${entries.map((_, i) => `entry${i}`).join(', ')}];\n`);
    const cjs = entries.filter((e) => e.require);
    writeFileSync(join(dir, 'entries.cts'), `${cjs.map((e, i) => `import entry${i} = require('${e.specifier}');`).join('\n')}\nexport const all = [${cjs.map((_, i) => `entry${i}`).join(', ')}];\n`);
    const strict = {
      strict: true,
      exactOptionalPropertyTypes: true,
      skipLibCheck: false,
      noEmit: true,
      target: 'ES2022',
      lib: ['ES2022', 'DOM', 'DOM.Iterable'],
      types: ['node'],
      resolveJsonModule: true,
      noUnusedLocals: false,
    };
    const configs = {
      node16: { compilerOptions: { ...strict, module: 'node16', moduleResolution: 'node16' }, include: ['*.ts', '*.cts'] },
      bundler: { compilerOptions: { ...strict, module: 'preserve', moduleResolution: 'bundler' }, include: ['*.ts'] },
    };
    const tsc = join(app, 'node_modules/typescript/bin/tsc');
    const reports: string[] = [];
    for (const [mode, config] of Object.entries(configs)) {
      writeFileSync(join(dir, `tsconfig.${mode}.json`), JSON.stringify(config, null, 2));
      const result = spawnSync(process.execPath, [tsc, '-p', `tsconfig.${mode}.json`, '--pretty', 'false'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
      const report = `${result.stdout}${result.stderr}`.replace(/^(\S+\.c?ts)\((\d+),(\d+)\)/gm, (whole, path: string, line: string) => {
        const snippet = names.get(path.split('/').pop()!);
        return snippet ? `${snippet.file} (block at line ${snippet.line}), line ${Number(line) - 1} of the block` : whole;
      });
      if (result.status !== 0 || report.trim() !== '') reports.push(`--- moduleResolution ${mode}:\n${report}`);
    }
    expect(reports.join('\n'), reports.join('\n')).toBe('');
  }, 180_000);

  it('require() every CommonJS entry (and import every ESM one) from the app', { timeout: 60_000 }, () => {
    const entries = installedManifests.flatMap(entriesOf);
    expect(entries.filter((e) => !e.require)).toEqual([]);
    const script = `
      const entries = ${JSON.stringify(entries.map((e) => e.specifier))};
      const out = {};
      for (const specifier of entries) out[specifier] = Object.keys(require(specifier)).length;
      Promise.all(entries.map(async (s) => [s, Object.keys(await import(s)).length])).then((esm) => {
        process.stdout.write(JSON.stringify({ cjs: out, esm: Object.fromEntries(esm) }));
      });`;
    const result = run(process.execPath, ['-e', script], { env });
    const { cjs, esm } = JSON.parse(result.stdout) as { cjs: Record<string, number>; esm: Record<string, number> };
    for (const e of entries) {
      expect(cjs[e.specifier], e.specifier).toBeGreaterThan(0);
      expect(esm[e.specifier], e.specifier).toBeGreaterThan(0);
    }
    // The CLI's launcher is CommonJS too.
    expect(run(join(app, 'node_modules/.bin/token-service'), ['--version'], { env }).stdout.trim()).toBe(installedManifests.find((m) => m.name === '@pushprov/token-service')!.version);
  });

  it('the token service needs neither storage driver until a store of its kind is opened, then names the package to install', { timeout: 60_000 }, () => {
    const ts = installedManifests.find((m) => m.name === '@pushprov/token-service')!;
    for (const driver of ['better-sqlite3', 'pg']) {
      expect(ts.dependencies?.[driver], `${driver} is not a dependency`).toBeUndefined();
      expect(ts.optionalDependencies?.[driver], `${driver} is not an optional dependency (npm would install it)`).toBeUndefined();
      expect(ts.peerDependencies?.[driver], `${driver} is a peer dependency`).toBeDefined();
      expect(ts.peerDependenciesMeta?.[driver]?.optional, `${driver} is an optional peer`).toBe(true);
    }
    const copies = spawnSync('find', ['node_modules', '-path', '*node_modules/better-sqlite3/package.json', '-o', '-path', '*node_modules/pg/package.json'], { cwd: app, encoding: 'utf8' }).stdout.trim().split('\n').sort();
    expect(copies, 'one copy of each driver, the app\'s').toEqual(['node_modules/better-sqlite3/package.json', 'node_modules/pg/package.json']);
    const hidden = ['better-sqlite3', 'pg'].map((name) => [join(app, 'node_modules', name), join(work, `hidden-${name}`)] as const);
    for (const [from, to] of hidden) renameSync(from, to);
    try {
      const script = `
        const ts = await import('@pushprov/token-service');
        await import('@pushprov/token-service/server');
        const store = ts.createMemoryStore();
        await store.close();
        const named = async (open) => { try { await open(); return 'opened'; } catch (e) { return [e instanceof ts.StoreDriverMissingError, e.code, e.packageName, e.message].join('|'); } };
        process.stdout.write(JSON.stringify({
          sqlite: await named(() => ts.openSqliteStore('${join(work, 'never.db')}')),
          postgres: await named(() => ts.openPostgresStore('postgres://127.0.0.1:1/none')),
        }));`;
      const result = run(process.execPath, ['--input-type=module', '-e', script], { env });
      expect(JSON.parse(result.stdout)).toEqual({
        sqlite: 'true|configuration_invalid|better-sqlite3|The SQLite store needs the package better-sqlite3, which is not installed: npm install better-sqlite3',
        postgres: 'true|configuration_invalid|pg|The PostgreSQL store needs the package pg, which is not installed: npm install pg',
      });
      expect(existsSync(join(work, 'never.db')), 'nothing created').toBe(false);
      // The CLI says the same.
      const migrate = spawnSync(join(app, 'node_modules/.bin/token-service'), ['migrate', '--store', join(work, 'never.db')], { cwd: app, env, encoding: 'utf8' });
      expect(migrate.stderr).toContain('npm install better-sqlite3');
      expect(migrate.status).toBe(2);
    } finally {
      for (const [from, to] of hidden) renameSync(to, from);
    }
  });

  it('runs the getting-started flow as written: sandbox, `npx token-service start`, backend, bank app and wallet', async () => {
    expect(guideFiles.map((f) => f.path)).toEqual(['src/setup-sandbox.ts', 'src/backend.ts', 'src/try-it.ts']);
    // Every package the guide's code imports is installed by the guide's own commands.
    const installed = new Set(guideCommands.filter((line) => /^npm (?:install|i) /.test(line)).flatMap(installedBy));
    const imported = new Set(guideFiles.flatMap((f) => [...f.code.matchAll(/from '(?!node:)((?:@[^/']+\/)?[^/']+)/g)].map((m) => m[1]!)));
    expect([...imported].filter((name) => !installed.has(name))).toEqual([]);
    expect(installed.has('tsx'), 'the guide installs tsx, which runs its files').toBe(true);
    // The guide's fixed ports, replaced by free ones (the machine runs other tests at the same time).
    const ports = { '8080': String(await freePort()), '3000': String(await freePort()) };
    const withPorts = (text: string) => text.replace(/\b(8080|3000)\b/g, (port) => ports[port as keyof typeof ports]);
    for (const file of guideFiles) {
      mkdirSync(dirname(join(app, file.path)), { recursive: true });
      writeFileSync(join(app, file.path), withPorts(file.code));
    }
    const flow = guideCommands.filter((line) => /^npx /.test(line)).map(withPorts);
    expect(flow).toEqual([
      'npx tsx src/setup-sandbox.ts',
      `npx token-service start --config sandbox/token-service.json --db sandbox/tokens.db --port ${ports['8080']}`,
      'npx tsx src/backend.ts',
      'npx tsx src/try-it.ts',
    ]);
    const offline = { ...env, npm_config_offline: 'true' }; // npx runs what the app installed, never a download
    expect(run('sh', ['-c', flow[0]!], { env: offline }).stdout).toContain('Sandbox written to');
    await startInBackground(flow[1]!, offline, /"msg":"listening"/);
    await startInBackground(flow[2]!, offline, /Bank backend on http:\/\/127\.0\.0\.1:\d+\/api\/push-provisioning/);
    const shape = (line: string) => line.replace(/•••• \d{4}/g, '•••• NNNN').replace(/tok_[A-Za-z0-9_-]+/g, 'tok_…');
    const first = run('sh', ['-c', flow[3]!], { env: offline }).stdout.trim().split('\n');
    expect(first.map(shape)).toEqual(guideOutput.map(shape));
    // "Run it a second time": the same token, not a second one.
    const second = run('sh', ['-c', flow[3]!], { env: offline }).stdout.trim().split('\n');
    expect(second.at(-1)).toBe(first.at(-1));
    expect(existsSync(join(app, 'sandbox/tokens.db'))).toBe(true);
  }, 120_000);
});
