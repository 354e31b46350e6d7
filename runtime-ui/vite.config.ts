/**
 * Build and dev server of the runtime UI. The built files land in runtime-ui/dist, which the product's
 * server serves at / (engine/http/static.ts); `npm run dev` runs this config's dev server with hot reload
 * and forwards /api to the API server.
 */
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const apiPort = Number(process.env.PORT ?? 3000);

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
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
