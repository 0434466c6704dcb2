import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// The load and crash tests (`pnpm test:load` at the root): the same source
// resolution as the root configuration, one file at a time (they measure and
// kill processes), bounded by generous but finite timeouts.
export default defineConfig({
  root: resolve(import.meta.dirname, '..'),
  resolve: { conditions: ['source', 'module', 'browser', 'development|production'] },
  // No 'import' here: Vite adds import/require itself, and vitest also hands
  // these to its workers as node --conditions, where 'import' would make a
  // CommonJS require() pick a package's ESM build (pg's require('pg-pool') breaks).
  ssr: { resolve: { conditions: ['source', 'node', 'module', 'development|production'] } },
  test: {
    include: ['security/load/**/*.load.test.ts'],
    testTimeout: 150_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/setup/postgres.global.ts'],
    fileParallelism: false,
  },
});
