/**
 * The demo organisation of the sample apps on a test engine: departments, heads and users from each
 * app's data/organisation.json (without the administrator, whom the test engine has already), each
 * logged in with a password of the test's own.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { mergeOrganisations, seedOrganisation } from '../../engine/auth/demo.js';
import type { TestEngine } from './engine.js';

export async function seedDemoOrganisation(e: TestEngine, appFolders: string[]) {
  const org = mergeOrganisations(
    await Promise.all(appFolders.map(async (a) => JSON.parse(await readFile(join(a, 'data', 'organisation.json'), 'utf8')))),
  );
  const file = join(await mkdtemp(join(tmpdir(), 'metacrm-org-')), 'organisation.json');
  await writeFile(file, JSON.stringify({ ...org, users: org.users.filter((u) => u.username !== 'admin') }));
  await seedOrganisation(e.data, e.auth, [file]);
  const users = await e.database.rows<{ id: string; username: string }>(
    sql`select id, username from "user" where username <> 'admin'`,
  );
  const ids: Record<string, string> = {};
  const tokens: Record<string, string> = {};
  for (const u of users) {
    ids[u.username] = u.id;
    await e.auth.setPassword(u.id, `${u.username}-test-password`);
    tokens[u.username] = await e.login(u.username, `${u.username}-test-password`);
  }
  return { ids, tokens };
}
