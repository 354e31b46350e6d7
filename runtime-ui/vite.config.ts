/**
 * Build and dev server of the runtime UI. The built files land in runtime-ui/dist, which the product's
 * server serves at / (engine/http/static.ts); `npm run dev` runs this config's dev server with hot reload
 * and forwards /api to the API server.
 */
import { defineConfig } from 'vite';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import react from '@vitejs/plugin-react';

const require = createRequire(import.meta.url);
const routerDist = join(dirname(require.resolve('react-router/package.json')), 'dist');

const apiPort = Number(process.env.PORT ?? 3000);

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  resolve: {
    alias: [
      // Code every page loads, cut where it is dead weight here (see docs/benchmark.md, the UI's JavaScript):
      // the browsers React 19 runs in all have ResizeObserver, so antd's polyfill is the native one;
      // React Router's package points at its development build (dev warnings included) whatever the mode.
      { find: /^resize-observer-polyfill$/, replacement: join(import.meta.dirname, 'src', 'resize-observer.ts') },
      ...(process.env.NODE_ENV === 'production'
        ? [{ find: /^react-router$/, replacement: join(routerDist, 'production', 'index.mjs') }]
        : []),
    ],
  },
  server: {
    port: Number(process.env.UI_PORT ?? 5173),
    proxy: { '/api': `http://127.0.0.1:${apiPort}` },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      output: {
        // React changes less often than the pages: its own long-lived chunk. Everything else (antd, the form
        // engine) is split by Rollup along the pages' lazy imports, so the list never loads rjsf or ajv.
        manualChunks(id) {
          if (/node_modules\/(react|react-dom|scheduler|react-router)\//.test(id)) return 'react';
          return undefined;
        },
      },
    },
  },
});
