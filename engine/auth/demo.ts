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
  /** Fields every user gets unless they set their own (the organisation's time zone, say). */
  userDefaults?: Record<string, unknown>;
  departments: { code: string; name: string; parent?: string; head?: string }[];
  users: {
    username: string;
    display_name: string;
    department?: string;
    manager?: string;
    roles: string[];
    [field: string]: unknown;
  }[];
}

/**
 * Several sample apps may each describe part of the organisation: departments merge by code (later
 * files may name a head), users by username (roles add up, other fields fill in), user defaults by
 * field (the first file's stand).
 */
export function mergeOrganisations(orgs: Organisation[]): Organisation {
  const departments = new Map<string, Organisation['departments'][number]>();
  const users = new Map<string, Organisation['users'][number]>();
  let userDefaults: Record<string, unknown> = {};
  for (const org of orgs) {
    userDefaults = { ...org.userDefaults, ...userDefaults };
    for (const d of org.departments)
      departments.set(d.code, { ...d, ...departments.get(d.code), ...(d.head ? { head: d.head } : {}) });
    for (const u of org.users) {
      const known = users.get(u.username);
      users.set(u.username, known ? { ...u, ...known, roles: [...new Set([...known.roles, ...u.roles])] } : u);
    }
  }
  return {
    ...(Object.keys(userDefaults).length ? { userDefaults } : {}),
    departments: [...departments.values()],
    users: [...users.values()].map((u) => ({ ...userDefaults, ...u })),
  };
}

export async function seedOrganisation(data: DataService, auth: AuthService, files: string[]) {
  const org = mergeOrganisations(
    await Promise.all(files.map(async (f) => JSON.parse(await readFile(f, 'utf8')) as Organisation)),
  );
  const ctx = engineContext();
  const departments = new Map<string, string>();
  for (const d of org.departments) {
    const created = (await data.create(ctx, 'department', {
      name: d.name,
      code: d.code,
      parent: d.parent ? departments.get(d.parent) : null,
    })) as Record<string, unknown>;
    departments.set(d.code, created.id as string);
  }
  const users = new Map<string, string>();
  const credentials: { username: string; password: string; roles: string[] }[] = [];
  for (const { department, manager, ...u } of org.users) {
    const password = randomBytes(9).toString('base64url');
    const created = await createUser(data, auth, {
      ...u,
      department: department ? departments.get(department) : null,
      manager: manager ? users.get(manager) : null,
      password,
    });
    users.set(u.username, created.id);
    credentials.push({ username: u.username, password, roles: u.roles });
  }
  // Department heads (部门负责人) once their users exist: approvals route to them.
  for (const d of org.departments.filter((x) => x.head && users.has(x.head))) {
    await data.update(ctx, 'department', departments.get(d.code)!, { head: users.get(d.head!) }, '1');
  }
  return credentials;
}
