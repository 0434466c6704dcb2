import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/accounts.ts', 'src/activation.ts', 'src/browser.ts', 'src/device-key.ts', 'src/http.ts', 'src/initiate.ts', 'src/notifications.ts', 'src/status.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  platform: 'neutral',
});
