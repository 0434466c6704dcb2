// Keeps the guides honest:
// - every ```ts block of README.md and docs/*.md (the specification and the
//   conformance page have their own checks) type-checks against the real
//   packages, strict, as an app would compile it;
// - troubleshooting.md explains every error code of ERROR_CATALOG;
// - the README's two commands are the ones CI runs, demo first;
// - every relative link points to a file that exists.
//
// A block may be preceded by an HTML comment `<!-- ts-context … -->` holding
// declarations it relies on (`declare const user: …`): invisible on the
// rendered page, compiled with the block.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GUIDES, type Snippet, extractSnippets, snippetFileName } from './support/snippets.js';

const root = resolve(import.meta.dirname, '..');

/**
 * Imports a workspace package's source entry, resolved the way an app that
 * depends on it would resolve it (the root package depends on none; the demo
 * depends on all of them).
 */
async function importWorkspacePackage<T>(name: string): Promise<T> {
  const dir = dirname(createRequire(join(root, 'examples/demo/package.json')).resolve(`${name}/package.json`));
  const { exports } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { exports: Record<string, { source: string }> };
  return (await import(pathToFileURL(join(dir, exports['.']!.source)).href)) as T;
}

const { ERROR_CODES } = await importWorkspacePackage<{ ERROR_CODES: readonly string[] }>('@pushprov/protocol');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

describe('the code in the guides', () => {
  const snippets = GUIDES.flatMap(extractSnippets);

  it('has code to check in the README and the guides', () => {
    expect(snippets.filter((s) => s.file === 'README.md').length).toBeGreaterThanOrEqual(3);
    for (const guide of ['docs/getting-started.md', 'docs/issuer-guide.md', 'docs/wallet-guide.md', 'docs/token-service-guide.md']) {
      expect(snippets.filter((s) => s.file === guide).length, guide).toBeGreaterThan(0);
    }
  });

  it('type-checks every ts block against the packages (strict)', () => {
    // examples/demo depends on every package (and @hono/node-server, Express, Fastify, Hono), so files
    // placed there resolve imports exactly as an app that installed them would.
    const dir = mkdtempSync(join(root, 'examples/demo/.docs-snippets-'));
    try {
      const names = new Map<string, Snippet>();
      snippets.forEach((snippet, i) => {
        const name = snippetFileName(snippet, i);
        names.set(name, snippet);
        writeFileSync(join(dir, name), `// ${snippet.file}:${snippet.line}\n${snippet.context}\n${snippet.code}\nexport {};\n`);
      });
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          extends: relative(dir, join(root, 'tsconfig.base.json')),
          compilerOptions: { noEmit: true, declaration: false, noUnusedLocals: false, noUnusedParameters: false },
          include: ['*.ts'],
        }),
      );
      const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
      const run = spawnSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], { encoding: 'utf8', timeout: 90_000 });
      // Point each error at the guide and line it comes from.
      const report = `${run.stdout}${run.stderr}`.replace(/^(\S+\.ts)\((\d+),(\d+)\)/gm, (whole, path: string, line: string) => {
        const snippet = names.get(path.split('/').pop()!);
        return snippet ? `${snippet.file} (block at line ${snippet.line}), line ${Number(line) - 1} of the file` : whole;
      });
      expect(report, report).toBe('');
      expect(run.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe('troubleshooting', () => {
  it('explains every error code of ERROR_CATALOG: meaning, likely cause and fix', () => {
    const text = read('docs/troubleshooting.md');
    const sections = new Map<string, string>();
    for (const part of text.split(/^### /m).slice(1)) {
      const code = /^`([a-z_]+)`/.exec(part)?.[1];
      if (code) sections.set(code, part);
    }
    const missing = ERROR_CODES.filter((code) => !sections.has(code));
    expect(missing, `missing codes: ${missing.join(', ')}`).toEqual([]);
    const unknown = [...sections.keys()].filter((code) => !ERROR_CODES.includes(code));
    expect(unknown, `codes that do not exist: ${unknown.join(', ')}`).toEqual([]);
    for (const [code, section] of sections) {
      for (const part of ['**Meaning.**', '**Likely cause.**', '**Fix.**']) expect(section, `${code} lacks ${part}`).toContain(part);
    }
  });
});

describe('the README', () => {
  it('starts with the demo command, then the test command CI runs', () => {
    const readme = read('README.md');
    const commands = [...readme.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!.trim());
    expect(commands.slice(0, 2)).toEqual([
      'npx -y pnpm@10.34.8 install --frozen-lockfile && npx -y pnpm@10.34.8 demo',
      'npx -y pnpm@10.34.8 install --frozen-lockfile && npx -y pnpm@10.34.8 test',
    ]);
    expect(read('.ci/run')).toContain(commands[1]);
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.demo).toContain('examples/demo/bin/demo.mjs');
    expect(readme).toContain('```mermaid\nsequenceDiagram');
  });
});

describe('links', () => {
  it('every relative link of the README and the guides points to an existing file', () => {
    const broken: string[] = [];
    for (const file of GUIDES) {
      const text = read(file).replace(/^```[\s\S]*?^```$/gm, '');
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1]!;
        if (/^[a-z]+:/i.test(target) || target.startsWith('#')) continue;
        const path = resolve(join(root, dirname(file)), target.split('#')[0]!);
        if (path.startsWith(join(root, 'docs/api'))) continue; // generated by `pnpm api-docs`
        if (!existsSync(path)) broken.push(`${file}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe('the API reference', () => {
  it('builds with typedoc (`pnpm api-docs`) without errors', () => {
    const out = mkdtempSync(join(tmpdir(), 'pushprov-api-docs-'));
    try {
      const typedoc = join(root, 'node_modules/typedoc/bin/typedoc');
      const run = spawnSync(process.execPath, [typedoc, '--out', out, '--logLevel', 'Error'], { cwd: root, encoding: 'utf8', timeout: 90_000 });
      expect(`${run.stdout}${run.stderr}`).not.toMatch(/\[error\]/i);
      expect(run.status).toBe(0);
      expect(existsSync(join(out, 'index.html'))).toBe(true);
      // One page per entry point of typedoc.json, e.g. modules/issuer-sdk_src_server.html.
      const modules = readdirSync(join(out, 'modules'));
      expect(modules.length).toBeGreaterThanOrEqual(6);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 90_000);
});
