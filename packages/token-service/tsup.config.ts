import { defineConfig } from 'tsup';

// better-sqlite3 (native), hono and the workspace packages stay external
// (tsup externalises every dependency). `src/cli.ts` starts with
// `#!/usr/bin/env node`, which esbuild keeps at the top of that entry only.
export default defineConfig({
  entry: ['src/index.ts', 'src/server.ts', 'src/cli.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: ['src/index.ts', 'src/server.ts'] },
  clean: true,
  sourcemap: true,
  target: 'es2022',
  platform: 'node',
});
