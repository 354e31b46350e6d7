/**
 * Wires the parts together: database → registry → metadata service (compiled model) → data service
 * → HTTP app. Used by the server entry point, the tests and the benchmark alike.
 */
import { openDatabase, type Database, type OpenOptions } from './db/database.js';
import { Registry } from './registry/registry.js';
import type { Plugin } from './registry/types.js';
import { corePlugin } from './core/index.js';
import { MetadataService } from '../metadata/service.js';
import { DataService } from './data/service.js';
import { createApp } from './http/app.js';

export interface EngineOptions extends OpenOptions {
  plugins?: Plugin[];
  /** An already open database (tests share one). */
  database?: Database;
}

export async function createEngine(options: EngineOptions = {}) {
  const database = options.database ?? (await openDatabase(options));
  const registry = new Registry().use(corePlugin);
  for (const plugin of options.plugins ?? []) registry.use(plugin);
  const metadata = new MetadataService(database, registry);
  await metadata.start();
  const data = new DataService(database, () => metadata.model);
  const app = createApp({ data, metadata, driver: database.driver });
  return {
    database,
    registry,
    metadata,
    data,
    app,
    async close() {
      await metadata.stop();
      if (!options.database) await database.close();
    },
  };
}

export type Engine = Awaited<ReturnType<typeof createEngine>>;
