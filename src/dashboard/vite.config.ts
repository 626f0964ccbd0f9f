/** The dashboard build: `npm run build:dashboard` writes dist/dashboard, which the server serves at /. */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  build: { outDir: fileURLToPath(new URL('../../dist/dashboard', import.meta.url)), emptyOutDir: true, chunkSizeWarningLimit: 400 },
});
