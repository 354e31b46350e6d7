/**
 * The first start of a server with no users at all (PostgreSQL without INIT_ADMIN_*): without someone
 * to log in as, nobody could ever create anyone. So the engine creates an administrator with a random
 * password, which the server prints once — it is stored only as a hash — with how to change it.
 */
import { randomBytes } from 'node:crypto';
import { count } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import type { AppModel } from '../model/compile.js';
import type { NewUser } from './users.js';

/** What it needs of the engine (engine/engine.ts hands itself over). */
interface EngineParts {
  metadata: { model: AppModel };
  database: Database;
  createUser(spec: NewUser): Promise<unknown>;
}

export interface FirstAdministrator {
  username: string;
  password: string;
  /** What the server prints, once. */
  message: string;
}

/** Creates the administrator when there are no users yet; undefined when there are. */
export async function createFirstAdministrator(engine: EngineParts, username = 'admin'): Promise<FirstAdministrator | undefined> {
  const users = engine.metadata.model.entity('user')!;
  const [{ n }] = await engine.database.db.select({ n: count() }).from(users.table);
  if (Number(n) > 0) return undefined;
  // 144 random bits, printable: strong enough to keep until it is changed.
  const password = randomBytes(18).toString('base64url');
  await engine.createUser({ username, display_name: 'Administrator', roles: ['admin'], password });
  const message = [
    'No users yet: created the administrator. Its password is shown only this once:',
    `  username: ${username}`,
    `  password: ${password}`,
    'Log in and change it at once: POST /api/auth/password { "currentPassword", "newPassword" } (or in the web UI).',
  ].join('\n');
  return { username, password, message };
}
