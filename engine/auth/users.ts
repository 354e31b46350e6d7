/**
 * Creating users: the engine's own, explicitly privileged path (first administrator, demo users,
 * tests). Users created through the API go through the same data pipeline with permissions.
 */
import { randomBytes } from 'node:crypto';
import { engineContext, type DataService } from '../data/service.js';
import type { AuthService } from './service.js';

export interface NewUser {
  username: string;
  display_name: string;
  roles: string[];
  department?: string | null;
  manager?: string | null;
  password?: string;
  [field: string]: unknown;
}

export async function createUser(
  data: DataService,
  auth: AuthService,
  spec: NewUser,
): Promise<{ id: string; username: string; password: string }> {
  const { password = randomBytes(9).toString('base64url'), ...fields } = spec;
  const user = (await data.create(engineContext(), 'user', fields)) as Record<string, unknown>;
  await auth.setPassword(user.id as string, password);
  return { id: user.id as string, username: spec.username, password };
}
