import { defineConfig } from 'tsup';

// The library (ESM and CommonJS, with types) and the two commands (ESM only:
// the committed launchers in bin/ import dist/cli.js and dist/adapter-js.js).
// The workspace packages, jose and zod stay external.
export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'es2022',
    platform: 'node',
    // import.meta.url (the vectors' path) in the CommonJS build.
    shims: true,
  },
  {
    entry: ['src/cli.ts', 'src/adapter-js.ts'],
    format: ['esm'],
    dts: false,
    clean: false,
    sourcemap: true,
    target: 'es2022',
    platform: 'node',
  },
]);
