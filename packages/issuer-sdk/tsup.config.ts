import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/activation.ts', 'src/browser.ts', 'src/local.ts', 'src/offer.ts', 'src/server.ts', 'src/status.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  platform: 'neutral',
});
