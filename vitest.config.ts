import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript source through the `source`
// export condition, so tests never need a build. `ssr.resolve.conditions`
// replaces Vite's defaults, so they are listed again after ours.
export default defineConfig({
  resolve: { conditions: ['source', 'module', 'browser', 'development|production'] },
  // No 'import' here: Vite adds import/require itself, and vitest also hands
  // these to its workers as node --conditions, where 'import' would make a
  // CommonJS require() pick a package's ESM build (pg's require('pg-pool') breaks).
  ssr: { resolve: { conditions: ['source', 'node', 'module', 'development|production'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'test/**/*.test.ts', 'security/test/**/*.test.ts', 'bench/test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    globalSetup: ['test/setup/postgres.global.ts'],
  },
});
