/**
 * Aggregate: the operation behind reports (and anything else that counts records in SQL). It resolves
 * the entity, authorizes the caller (read — or export — granted; the scope goes into the statement) and
 * hands the builder an AggregateSource: the FROM clause as the caller — the entity's live records in
 * scope and one LEFT JOIN per reference path used (`account.industry` joins only the accounts the caller
 * may read: one outside their scope groups as empty, it never lends its values). Every field the
 * statement touches passes the caller's field permissions here: an unreadable one is a 403 naming the
 * field and the place (a JSON pointer) in the definition that uses it. Then it runs the ONE statement
 * the builder made. What to aggregate is the builder's business (engine/reports compiles report
 * documents); this operation only guarantees that it happens as the caller.
 */
import { sql, type SQL } from 'drizzle-orm';
import { AppError } from '../../errors.js';
import type { Guard } from '../../access/guard.js';
import type { AppModel, CompiledEntity } from '../../model/compile.js';
import type { ValueKind } from '../../registry/value-kind.js';
import { columnRef, deletedCondition, tableText } from '../query.js';
import type { OperationContext } from '../context.js';
import { resolve } from '../pipeline.js';
import type { DataService } from '../service.js';

/** System columns that hold a user: paths continue through them like through references. */
export const USER_COLUMNS: ReadonlySet<string> = new Set(['owner_id', 'created_by', 'updated_by']);

export interface Column {
  sql: SQL;
  kind: ValueKind;
  /** The entity and field the value comes from (the last step of the path). */
  entity: CompiledEntity;
  field: string;
  /** For references: the entity pointed at. */
  to?: string;
}

export const notReadable = (path: string, what: string, lang: 'en' | 'zh-CN') =>
  new AppError(
    403,
    'field_not_readable',
    lang === 'zh-CN' ? `您无权读取 ${what}，不能运行此报表` : `You may not read ${what}, so you can't run this report`,
    [{ path, code: 'field_not_readable', message: lang === 'zh-CN' ? `${what} 不可读` : `${what} is not readable` }],
  );

export class AggregateSource {
  private readonly joins = new Map<string, { alias: string; entity: CompiledEntity; sql: SQL }>();

  constructor(
    readonly model: AppModel,
    readonly guard: Guard,
    readonly root: CompiledEntity,
    readonly lang: 'en' | 'zh-CN',
    readonly action: 'read' | 'export' = 'read',
  ) {}

  /** The root's scope for the action (403 when the viewer may not read — or export — the entity at all). */
  scope(): SQL | undefined {
    return this.guard.condition(this.root, this.action);
  }

  /**
   * A column for a path. `at` is the JSON pointer of the path in the report document, used in the 403
   * when a step is unreadable. `quiet` returns undefined instead of throwing (optional label columns).
   */
  column(path: string, at: string, quiet = false): Column | undefined {
    const segments = path.split('.');
    let entity = this.root;
    let ref = (field: string) => columnRef(this.root, field);
    for (const [i, name] of segments.entries()) {
      const kind = entity.columnKinds.get(name);
      if (!kind) {
        if (quiet) return undefined;
        throw new AppError(400, 'unknown_field', `"${name}" is not a field of ${entity.name}`, [
          { path: at, code: 'unknown_field', message: `Unknown field ${name}` },
        ]);
      }
      if (!this.guard.readable(entity)(name)) {
        if (quiet) return undefined;
        throw notReadable(at, `${entity.name}.${name}`, this.lang);
      }
      const to = entity.field(name)?.reference?.to ?? (USER_COLUMNS.has(name) ? 'user' : undefined);
      if (i === segments.length - 1) return { sql: ref(name), kind, entity, field: name, to };
      const target = to ? this.model.entity(to) : undefined;
      if (!target) return undefined;
      const prefix = segments.slice(0, i + 1).join('.');
      let join = this.joins.get(prefix);
      if (!join) {
        const scope = this.guard.optionalCondition(target, 'read');
        if (scope === false) {
          if (quiet) return undefined;
          throw notReadable(at, target.name, this.lang);
        }
        const alias = `j${this.joins.size + 1}`;
        // A sub-select: the scope's column references name the target table, which stays unaliased inside.
        const inner = sql`select * from ${sql.raw(tableText(target))} where ${deletedCondition(target, 'exclude')}${scope ? sql` and (${scope})` : sql``}`;
        const on = ref(name);
        join = { alias, entity: target, sql: sql` left join (${inner}) ${sql.raw(alias)} on ${sql.raw(alias)}."id" = ${on}` };
        this.joins.set(prefix, join);
      }
      const alias = join.alias;
      entity = target;
      ref = (field: string) => sql.raw(`${alias}."${target.columns[field].name}"`);
    }
    return undefined;
  }

  /** A display label column for a reference column: the target's title field, when the viewer may read it. */
  label(path: string, column: Column): SQL | undefined {
    if (!column.to) return undefined;
    const target = this.model.entity(column.to);
    if (!target?.titleField) return undefined;
    return this.column(`${path}.${target.titleField}`, '', true)?.sql;
  }

  /** `from <root> <joins>`; call after every column was asked for. */
  from(): SQL {
    return sql`from ${sql.raw(tableText(this.root))}${sql.join([...this.joins.values()].map((j) => j.sql))}`;
  }

  live(): SQL {
    return deletedCondition(this.root, 'exclude');
  }
}

/** The caller's source over an entity, authorized for the action (403 when not granted at all). */
export function aggregateSource(
  data: DataService,
  ctx: OperationContext,
  entityName: string,
  action: 'read' | 'export' = 'read',
): AggregateSource {
  const { entity, guard } = resolve(data, ctx, entityName);
  const source = new AggregateSource(data.model(), guard, entity, ctx.lang, action);
  source.scope();
  return source;
}

/** Builds one statement over the caller's source and runs it: the rows, and what the builder made. */
export async function aggregate<T extends { sql: SQL }>(
  data: DataService,
  ctx: OperationContext,
  entityName: string,
  action: 'read' | 'export',
  build: (source: AggregateSource) => T,
) {
  const plan = build(aggregateSource(data, ctx, entityName, action));
  return { plan, rows: await data.database.rows<Record<string, unknown>>(plan.sql) };
}
