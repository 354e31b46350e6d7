/**
 * Starts the product: `npm start`.
 *   DATABASE_URL        PostgreSQL to use; without it, the embedded database in DATA_DIR (default .data/)
 *   PORT                HTTP port (default 3000)
 *   SAMPLE_APPS         comma-separated folders of sample-apps/ to deploy on first start (default: sales,finance,service)
 *   PLUGINS             comma-separated plugin folders of plugins/ or module paths (default: every shipped plugin)
 *   SEED_DEMO_USERS     1 to seed the demo organisation on PostgreSQL too (always done on the embedded database)
 *   SEED_DEMO_DATA      1 to load the sample apps' demo data on PostgreSQL (once; needs the demo users); 0 to skip it on
 *                       the first start of the embedded database, where it is loaded by default
 *   INIT_ADMIN_USERNAME, INIT_ADMIN_PASSWORD   the first administrator, when there are no users yet
 *                       (without them, an administrator "admin" with a random password printed once)
 *   FILES_DIR           where uploaded files are kept (import files under imports/; default .files/)
 *   TRUST_PROXY         X-Forwarded-For names the client: true, or the number of proxies in front (default: no)
 */
import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { count } from 'drizzle-orm';
import { serve } from '@hono/node-server';
import { createEngine } from './engine.js';
import { loadPackage } from '../metadata/loader.js';
import { loadPlugins, shippedPlugins } from './registry/load-plugins.js';
import { seedOrganisation } from './auth/demo.js';
import { withUi } from './http/static.js';
import { ensureBuilt } from '../runtime-ui/build.js';
import { createFirstAdministrator } from './auth/first-admin.js';
import { parseTrustProxy } from './http/client.js';
import { storageFromEnv } from './files/storage.js';
import { loadDemoData } from './seed/load.js';
import { DataDirBusy } from './db/data-dir-lock.js';

const root = resolve(import.meta.dirname, '..');
const url = process.env.DATABASE_URL || undefined;
const dataDir = url ? undefined : resolve(process.env.DATA_DIR ?? join(root, '.data'));
const port = Number(process.env.PORT ?? 3000);

// The web UI is built (when missing or stale: runtime-ui/build.ts) in a process of its own while the
// database starts, the sample apps deploy and the demo data loads — a first start keeps both cores busy
// instead of building first. The server listens once both are done.
const uiBuild = ensureBuilt();

if (dataDir) await mkdir(dataDir, { recursive: true });
const pluginsFolder = join(root, 'plugins');
const pluginNames =
  process.env.PLUGINS !== undefined
    ? process.env.PLUGINS.split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : await shippedPlugins(pluginsFolder);
const engine = await createEngine({
  url,
  dataDir,
  trustProxy: parseTrustProxy(process.env.TRUST_PROXY),
  importDir: join(resolve(process.env.FILES_DIR ?? join(root, '.files')), 'imports'),
  // Uploaded files: FILE_STORAGE=s3 (S3_BUCKET …), FILES_DIR, else the files folder beside the database's.
  files: storageFromEnv(process.env, join(dataDir ?? join(root, '.data'), 'files')),
  plugins: await loadPlugins(pluginNames, pluginsFolder, { env: process.env }),
}).catch((e) => {
  // A second start on the same embedded database would damage it: said plainly, without a stack.
  if (!(e instanceof DataDirBusy)) throw e;
  console.error(e.message);
  process.exit(1);
});

// First start: deploy the sample apps so the product has something to show.
const sampleApps = (process.env.SAMPLE_APPS ?? 'sales,finance,service')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
if (!engine.metadata.model.apps.some((a) => a.name !== 'system')) {
  const available = await readdir(join(root, 'sample-apps'));
  for (const name of sampleApps.filter((s) => available.includes(s))) {
    const result = await engine.metadata.deploy({ documents: await loadPackage(join(root, 'sample-apps', name)) });
    console.log(`Deployed sample app "${name}": ${result.changes.length} documents, metadata version ${result.version}`);
  }
}

// Users: demo users on the embedded database; on PostgreSQL only what is explicitly asked for.
const users = engine.metadata.model.entity('user')!;
const [{ n: userCount }] = await engine.database.db.select({ n: count() }).from(users.table);
const credentialsFile = dataDir ? join(dataDir, 'demo-users.txt') : undefined;
let firstStart = false;
if (Number(userCount) === 0) {
  if (!url || process.env.SEED_DEMO_USERS === '1') {
    const organisations = sampleApps.map((s) => join(root, 'sample-apps', s, 'data', 'organisation.json')).filter(existsSync);
    if (organisations.length) {
      const credentials = await seedOrganisation(engine.data, engine.auth, organisations);
      firstStart = true;
      const table = credentials.map((c) => `${c.username.padEnd(14)} ${c.password.padEnd(14)} ${c.roles.join(', ')}`).join('\n');
      console.log(`Demo users (username, password, roles):\n${table}`);
      if (credentialsFile) {
        await writeFile(credentialsFile, `# Demo users of this embedded database: username, password, roles\n${table}\n`);
        await chmod(credentialsFile, 0o600);
      }
    }
  } else if (process.env.INIT_ADMIN_USERNAME && process.env.INIT_ADMIN_PASSWORD) {
    await engine.createUser({
      username: process.env.INIT_ADMIN_USERNAME,
      display_name: 'Administrator',
      roles: ['admin'],
      password: process.env.INIT_ADMIN_PASSWORD,
    });
    console.log(`Created the administrator "${process.env.INIT_ADMIN_USERNAME}"`);
  } else {
    const created = await createFirstAdministrator(engine);
    if (created) console.log(created.message);
  }
} else if (credentialsFile && existsSync(credentialsFile)) {
  console.log(`Demo users and their passwords: ${credentialsFile}`);
}

// Demo data: on the embedded database's first start (unless SEED_DEMO_DATA=0), on PostgreSQL when asked; never twice.
if ((!url && firstStart && process.env.SEED_DEMO_DATA !== '0') || (url && process.env.SEED_DEMO_DATA === '1')) {
  console.log('Loading the demo data (once, on the first start)…');
  const result = await loadDemoData(engine, {
    folders: sampleApps.map((s) => join(root, 'sample-apps', s)).filter(existsSync),
    progress: ({ set, records, done, total, ms }) => {
      const line = `  ${String(done).padStart(2)}/${total} ${set} (${records}) — ${(ms / 1000).toFixed(0)} s`;
      // One line that moves on a terminal; one line per set in a log.
      if (process.stdout.isTTY)
        process.stdout.write(`\r${line.padEnd(process.stdout.columns - 1 || 60)}${done === total ? '\n' : ''}`);
      else console.log(line);
    },
  });
  if (result.loaded)
    console.log(
      `Loaded demo data in ${(result.ms / 1000).toFixed(1)} s: ${Object.entries(result.counts)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ')}`,
    );
}

await uiBuild.catch((e) => {
  console.error((e as Error).message);
  process.exit(1);
});
const server = serve({ fetch: withUi(engine.app).fetch, port }, (info) => {
  console.log(
    `metacrm listening on http://localhost:${info.port} (${engine.database.driver}${dataDir ? `, data in ${dataDir}` : ''})`,
  );
  console.log(`Web UI: http://localhost:${info.port}/`);
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
