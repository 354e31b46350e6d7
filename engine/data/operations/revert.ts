/** Revert: puts a record back as it was at an earlier version — an audited update, under the same permissions. */
import { sql } from 'drizzle-orm';
import { badRequest, notFound } from '../../errors.js';
import type { OperationContext } from '../context.js';
import type { DataService } from '../service.js';
import { get } from './get.js';
import { update } from './update.js';

export async function revert(data: DataService, ctx: OperationContext, entityName: string, id: string, body: unknown) {
  const entity = data.entity(entityName);
  const target = (body as { version?: unknown })?.version;
  if (!Number.isInteger(target) || (target as number) < 1 || (target as number) > 2147483647)
    throw badRequest('invalid_request', 'Send { "version": n }: the version to go back to', [
      { path: '/version', message: 'a positive integer' },
    ]);
  const current = await get(data, ctx, entityName, id);
  const [entry] = await data.database.rows<{ snapshot: Record<string, unknown> | string | null }>(sql`
    select snapshot from audit.log where entity = ${entity.name} and record_id = ${id} and version = ${target as number} and snapshot is not null order by id desc limit 1`);
  if (!entry) throw notFound('version_not_found', `Version ${target} of this ${entity.name} is not in its history`);
  const snapshot = typeof entry.snapshot === 'string' ? JSON.parse(entry.snapshot) : entry.snapshot!;
  const changes: Record<string, unknown> = {};
  for (const f of entity.fields) {
    if (f.readOnly || !(f.name in current)) continue;
    if (JSON.stringify(snapshot[f.name] ?? null) !== JSON.stringify(current[f.name] ?? null))
      changes[f.name] = snapshot[f.name] ?? null;
  }
  return update(data, ctx, entityName, id, { ...changes, version: current.version }, undefined, `revert to version ${target}`);
}
