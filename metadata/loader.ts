/**
 * Loads a metadata package from a folder: every *.json file below it holds one document or an array
 * of documents — except under `data/`, which holds sample records, not metadata. Files are read in path
 * order so a package deploys the same way everywhere.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

export async function loadPackage(folder: string): Promise<unknown[]> {
  const files = (await readdir(folder, { recursive: true })).filter((f) => f.endsWith('.json') && !/^data[\\/]/.test(f)).sort();
  const documents: unknown[] = [];
  for (const file of files) {
    const text = await readFile(join(folder, file), 'utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new Error(`${relative(process.cwd(), join(folder, file))}: not valid JSON (${(e as Error).message})`);
    }
    documents.push(...(Array.isArray(parsed) ? parsed : [parsed]));
  }
  return documents;
}
