/**
 * Build and dev server of the runtime UI. The built files land in runtime-ui/dist, which the product's
 * server serves at / (engine/http/static.ts); `npm run dev` runs this config's dev server with hot reload
 * and forwards /api to the API server.
 */
import { defineConfig, type Plugin } from 'vite';
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import react from '@vitejs/plugin-react';

const require = createRequire(import.meta.url);
const routerDist = join(dirname(require.resolve('react-router/package.json')), 'dist');

const apiPort = Number(process.env.PORT ?? 3000);

/** Where a build writes the list of files it bundled (outside dist/, which is served; read by build.ts). */
const INPUTS_FILE = join(import.meta.dirname, '.inputs.json');

/**
 * Records every source file the bundle was made from — runtime-ui/src, and what it reaches outside it:
 * plugins' ui.tsx and operations.ts (import.meta.glob), the rules shared with the engine — so that
 * build.ts's isStale() watches exactly the bundle's inputs, not a hand-kept list. Packages are left out:
 * package-lock.json stands for them.
 */
function recordInputs(): Plugin {
  const repo = resolve(import.meta.dirname, '..');
  return {
    name: 'metacrm-record-inputs',
    apply: 'build',
    generateBundle() {
      const files = new Set<string>();
      for (const id of this.getModuleIds()) {
        const file = id.split('?')[0];
        if (file.startsWith('\0') || file.includes('/node_modules/') || !file.startsWith(repo)) continue;
        files.add(relative(repo, file));
      }
      writeFileSync(INPUTS_FILE, `${JSON.stringify([...files].sort(), null, 1)}\n`);
    },
  };
}

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react(), recordInputs()],
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
