/**
 * Loads plugins named in configuration: a folder name under plugins/ or a module path. A plugin module's
 * default export is a Plugin object, or a function of the configuration that returns one.
 */
import { readdir } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Plugin } from './types.js';

export type PluginModule = Plugin | ((config: Record<string, unknown>) => Plugin | Promise<Plugin>);

export async function shippedPlugins(pluginsFolder: string): Promise<string[]> {
  const entries = await readdir(pluginsFolder, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

export async function loadPlugins(
  names: string[],
  pluginsFolder: string,
  config: Record<string, unknown> = {},
): Promise<Plugin[]> {
  const plugins: Plugin[] = [];
  for (const name of names) {
    const path = name.startsWith('.') || isAbsolute(name) ? resolve(name) : join(pluginsFolder, name, 'index.ts');
    const mod = (await import(pathToFileURL(path).href)) as { default?: PluginModule };
    if (!mod.default) throw new Error(`Plugin ${name} (${path}) has no default export`);
    plugins.push(typeof mod.default === 'function' ? await mod.default(config) : mod.default);
  }
  return plugins;
}
