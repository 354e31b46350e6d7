/**
 * Serves the runtime UI (runtime-ui/dist, built by Vite) beside the API: /api/* goes to the API app
 * untouched, other paths are files of the build, and any other GET falls back to index.html so the
 * browser's router can resolve deep links (/r/account/…). Kept apart from the route table: the API
 * knows nothing of the UI.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Hono } from 'hono';
import { serveStatic } from '@hono/node-server/serve-static';

export const UI_DIST = join(resolve(import.meta.dirname, '..', '..'), 'runtime-ui', 'dist');

interface FetchApp {
  fetch(request: Request, env?: unknown): Response | Promise<Response>;
}

/** The API app with the built UI around it; without a build the API alone answers (and / says how to build). */
export function withUi(api: FetchApp, dist = UI_DIST) {
  const web = new Hono();
  web.all('/api/*', (c) => api.fetch(c.req.raw, c.env));
  if (!existsSync(join(dist, 'index.html'))) {
    web.get('*', (c) => c.text('The web UI is not built: run `npm run build:ui` (npm start does it when needed).', 503));
    return web;
  }
  // Hashed file names never change content: cache them for a year. index.html must always be fresh.
  web.use('/assets/*', async (c, next) => {
    await next();
    if (c.res.status === 200) c.header('cache-control', 'public, max-age=31536000, immutable');
  });
  web.use('/*', serveStatic({ root: dist, precompressed: true }));
  web.get('*', (c) => {
    if (/\.[a-z0-9]+$/i.test(c.req.path)) return c.text('Not found', 404);
    c.header('cache-control', 'no-cache');
    // Read per request: a rebuild while the server runs is picked up (the file is small).
    return c.html(readFileSync(join(dist, 'index.html'), 'utf8'));
  });
  return web;
}
