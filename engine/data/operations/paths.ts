/**
 * Filters on fields of referenced records — `account.region`, `owner_id.department`, `opportunity.account.industry`
 * — for the list (and the export and the report drill-down that go through it). Each path becomes a
 * scalar sub-select of the referenced record inside the caller's read scope of that entity, with every
 * step checked readable: a record the caller may not see reads as empty, exactly as a report's scoped
 * join groups it (engine/data/operations/aggregate.ts), so a drill-down lists what the report counted.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Guard } from '../../access/guard.js';
import { AppError } from '../../errors.js';
import type { AppModel, CompiledEntity } from '../../model/compile.js';
import type { FieldRef, FilterScope } from '../../rules/to-sql.js';
import { columnRef, deletedCondition, tableText } from '../query.js';
import { USER_COLUMNS } from './aggregate.js';

/** The most references a filter path may follow (each is a nested sub-select). */
const MAX_STEPS = 4;

export function withReferencePaths(model: AppModel, guard: Guard, root: CompiledEntity, base: FilterScope): FilterScope {
  return {
    ...base,
    field: (name) => {
      if (!name.includes('.')) return base.field(name);
      const segments = name.split('.');
      if (segments.length > MAX_STEPS + 1) return undefined;
      // The first step is a field of the listed entity: the base scope checks it is readable.
      if (!base.field(segments[0]!)) return undefined;
      let entity = root;
      let ref: SQL = columnRef(root, segments[0]!);
      let kind: FieldRef['kind'] | undefined;
      for (let i = 0; i < segments.length - 1; i++) {
        const step = segments[i]!;
        const to = entity.field(step)?.reference?.to ?? (USER_COLUMNS.has(step) ? 'user' : undefined);
        const target = to ? model.entity(to) : undefined;
        if (!target) return undefined;
        const next = segments[i + 1]!;
        kind = target.columnKinds.get(next);
        if (!kind) return undefined;
        const scope = guard.optionalCondition(target, 'read');
        if (scope === false)
          throw new AppError(
            403,
            'entity_not_readable',
            `You may not read ${target.name} records, so you can't filter by ${name}`,
            [{ path: '/query/filter', code: 'entity_not_readable', message: `${target.name} is not readable` }],
          );
        guard.checkReadable(target)(next, 'filter');
        // A derived table keeps the scope's references to the target's own (unaliased) table apart from
        // the outer query's, even when the reference points back at the same entity (a department's parent).
        const alias = `p${i + 1}`;
        const inner = sql`select * from ${sql.raw(tableText(target))} where ${deletedCondition(target, 'exclude')}${scope ? sql` and (${scope})` : sql``}`;
        ref = sql`(select ${sql.raw(`${alias}."${target.columns[next]!.name}"`)} from (${inner}) ${sql.raw(alias)} where ${sql.raw(alias)}."id" = ${ref})`;
        entity = target;
      }
      return kind ? { sql: ref, kind } : undefined;
    },
  };
}
