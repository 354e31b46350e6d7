/**
 * Starts the product: `npm start`.
 *   DATABASE_URL  PostgreSQL to use; without it, the embedded database in DATA_DIR (default .data/)
 *   PORT          HTTP port (default 3000)
 *   SAMPLE_APPS   comma-separated folders of sample-apps/ to deploy on first start (default: sales)
 *   PLUGINS       comma-separated plugin folders of plugins/ or module paths (default: every shipped plugin)
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { serve } from '@hono/node-server';
import { createEngine } from './engine.js';
import { loadPackage } from '../metadata/loader.js';
import { loadPlugins, shippedPlugins } from './registry/load-plugins.js';

const root = resolve(import.meta.dirname, '..');
const url = process.env.DATABASE_URL || undefined;
const dataDir = url ? undefined : resolve(process.env.DATA_DIR ?? join(root, '.data'));
const port = Number(process.env.PORT ?? 3000);

if (dataDir) await mkdir(dataDir, { recursive: true });
const pluginsFolder = join(root, 'plugins');
const pluginNames = process.env.PLUGINS !== undefined ? process.env.PLUGINS.split(',').map((s) => s.trim()).filter(Boolean) : await shippedPlugins(pluginsFolder);
const engine = await createEngine({ url, dataDir, plugins: await loadPlugins(pluginNames, pluginsFolder, { env: process.env }) });

// First start: deploy the sample apps so the product has something to show.
if (engine.metadata.model.version === 0) {
  const available = await readdir(join(root, 'sample-apps'));
  const wanted = (process.env.SAMPLE_APPS ?? 'sales').split(',').map((s) => s.trim()).filter((s) => available.includes(s));
  for (const name of wanted) {
    const result = await engine.metadata.deploy({ documents: await loadPackage(join(root, 'sample-apps', name)) });
    console.log(`Deployed sample app "${name}": ${result.changes.length} documents, metadata version ${result.version}`);
  }
}

const server = serve({ fetch: engine.app.fetch, port }, (info) => {
  console.log(`metacrm listening on http://localhost:${info.port} (${engine.database.driver}${dataDir ? `, data in ${dataDir}` : ''})`);
  console.log(`API description: http://localhost:${info.port}/api/openapi.json`);
  if (pluginNames.length) console.log(`Plugins: ${pluginNames.join(', ')}`);
});

const shutdown = async () => {
  server.close();
  await engine.close();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
