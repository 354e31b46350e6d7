/**
 * Demo organisation: departments and one user per sample role, from an app's data/organisation.json,
 * each with a fresh random password. Only for the embedded database (or when explicitly asked):
 * no known password ever reaches a real database silently.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { engineContext, type DataService } from '../data/service.js';
import type { AuthService } from './service.js';
import { createUser } from './users.js';

interface Organisation {
  departments: { code: string; name: string; parent?: string }[];
  users: { username: string; display_name: string; department?: string; manager?: string; roles: string[]; [field: string]: unknown }[];
}

export async function seedOrganisation(data: DataService, auth: AuthService, file: string) {
  const org = JSON.parse(await readFile(file, 'utf8')) as Organisation;
  const ctx = engineContext();
  const departments = new Map<string, string>();
  for (const d of org.departments) {
    const created = (await data.create(ctx, 'department', { name: d.name, code: d.code, parent: d.parent ? departments.get(d.parent) : null })) as Record<string, unknown>;
    departments.set(d.code, created.id as string);
  }
  const users = new Map<string, string>();
  const credentials: { username: string; password: string; roles: string[] }[] = [];
  for (const { department, manager, ...u } of org.users) {
    const password = randomBytes(9).toString('base64url');
    const created = await createUser(data, auth, { ...u, department: department ? departments.get(department) : null, manager: manager ? users.get(manager) : null, password });
    users.set(u.username, created.id);
    credentials.push({ username: u.username, password, roles: u.roles });
  }
  return credentials;
}
