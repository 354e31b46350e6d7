/** Get: one live record the caller may read, with `fields` and `expand`. */
import { badRequest } from '../../errors.js';
import type { OperationContext } from '../context.js';
import { findActive, selectionNames } from '../find.js';
import { resolve } from '../pipeline.js';
import { parseListParams } from '../query.js';
import type { DataService } from '../service.js';
import { expand } from './list.js';
import { readChildren } from './children.js';

export async function get(
  data: DataService,
  ctx: OperationContext,
  entityName: string,
  id: string,
  query: Record<string, string | undefined> = {},
) {
  const { entity, guard } = resolve(data, ctx, entityName);
  const scope = guard.condition(entity, 'read', 'few');
  for (const key of Object.keys(query))
    if (key !== 'fields' && key !== 'expand')
      throw badRequest('unknown_parameter', `Unknown query parameter "${key}"`, [
        { path: `/query/${key}`, message: 'Unknown query parameter' },
      ]);
  const { fields, expand: expanded } = parseListParams(entity, { fields: query.fields, expand: query.expand });
  const checkReadable = guard.checkReadable(entity);
  for (const f of fields ?? []) checkReadable(f, 'fields');
  for (const f of expanded) checkReadable(f, 'expand');
  const record = await findActive(data.database, data.database.db, entity, id, scope, selectionNames(entity, fields));
  await expand(data, guard, entity, [record], expanded);
  const [shaped] = guard.strip(entity, [record]);
  // Child collections come inline with the record (not with a `fields` selection).
  if (!fields) await readChildren(data, ctx, entity, [shaped]);
  return shaped;
}
