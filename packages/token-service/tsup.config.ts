import { copyFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

// better-sqlite3 (native), hono and the workspace packages stay external
// (tsup externalises every dependency). `src/cli.ts` starts with
// `#!/usr/bin/env node`, which esbuild keeps at the top of that entry only.
// The SQLite writer thread's module is plain JavaScript, loaded by URL next
// to the code that starts it: copied as it is into dist (beside every chunk).
// `shims` gives the CommonJS build the `import.meta.url` that URL needs.
export default defineConfig({
  entry: ['src/index.ts', 'src/server.ts', 'src/cli.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: ['src/index.ts', 'src/server.ts'] },
  clean: true,
  sourcemap: true,
  target: 'es2022',
  platform: 'node',
  shims: true,
  onSuccess: async () => {
    copyFileSync('src/store/sqlite/sqlite-writer.worker.mjs', 'dist/sqlite-writer.worker.mjs');
    copyFileSync('src/store/sqlite/sqlite-deliveries-writer.mjs', 'dist/sqlite-deliveries-writer.mjs');
  },
});
