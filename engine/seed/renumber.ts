/**
 * Auto-numbers of backdated demo records: the load writes them today, so a receipt created "last
 * March" would carry this month's number (SK-202611-00042). Inside the load's transaction the numbers
 * of the load's records whose pattern has date tokens are cleared and the counters brought back to
 * what the remaining records hold; after the commit the field backfill numbers them again in creation
 * order, with their (backdated) creation time as the date of the tokens — the way a deploy numbers an
 * auto-number added to an existing entity.
 *
 * Like backdate.ts this rewrites what was issued, which only the demo-data loader may do.
 */
import { sql } from 'drizzle-orm';
import type { Database, Db } from '../db/database.js';
import type { AppModel } from '../model/compile.js';

const DATE_TOKEN = /\{(?:yyyy|yy|mm|dd)\}/;

/** The dated auto-number fields of the model, as [entity, field] pairs. */
function datedNumberFields(model: AppModel): [string, string][] {
  const pairs: [string, string][] = [];
  for (const entity of model.entities.values())
    for (const f of entity.writeHooks)
      if (f.type.allocates && DATE_TOKEN.test(String(f.doc.pattern ?? ''))) pairs.push([entity.name, f.name]);
  return pairs;
}

/**
 * A pattern as a regular expression over its values, the counter in a group: `SK-{yyyy}{mm}-{seq:5}`
 * becomes /^SK-(?:\d{4})(?:\d{2})-(\d{5})$/, and the counter's scope is the value with that group
 * replaced by `{seq}` (as the field type renders it).
 */
function valueParser(pattern: string) {
  const source = pattern.replace(/\{([a-z][a-z0-9_]*)(?::(\w+))?\}|[^{]+|\{/g, (token, name?: string, arg?: string) => {
    if (!name) return token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    if (name === 'seq') return `(\\d{${Number(arg)}})`;
    if (name === 'yyyy') return '(?:\\d{4})';
    if (name === 'yy' || name === 'mm' || name === 'dd') return '(?:\\d{2})';
    return '(?:.*?)';
  });
  const re = new RegExp(`^${source}$`, 'd');
  return (value: string): { scope: string; seq: number } | undefined => {
    const m = re.exec(value);
    const at = m?.indices?.[1];
    if (!m || !at) return undefined;
    return { scope: value.slice(0, at[0]) + '{seq}' + value.slice(at[1]), seq: Number(m[1]) };
  };
}

/**
 * Clears the dated numbers of the records the load created (planned ones and those its actions raised:
 * every create in the audit log after `sinceAudit`) and resets the field's counters to the highest
 * number the other records still hold (none: no counter), so the renumbering continues after them.
 * Returns the [entity, field] pairs to number again once the load has committed.
 */
export async function clearDatedNumbers(
  database: Database,
  tx: Db,
  model: AppModel,
  sinceAudit: number,
): Promise<[string, string][]> {
  const cleared: [string, string][] = [];
  for (const [name, fieldName] of datedNumberFields(model)) {
    const entity = model.entity(name)!;
    const column = sql.identifier(entity.columns[fieldName].name);
    const rows = await database.rows(
      sql`update ${entity.table} set ${column} = null where ${column} is not null and id in
            (select record_id from audit.log where id > ${sinceAudit} and entity = ${name} and action = 'create') returning id`,
      tx,
    );
    if (!rows.length) continue;
    cleared.push([name, fieldName]);
    const parse = valueParser(String(entity.field(fieldName)!.doc.pattern));
    const kept = await database.rows<{ value: string }>(
      sql`select ${column} as value from ${entity.table} where ${column} is not null`,
      tx,
    );
    const highest = new Map<string, number>();
    for (const { value } of kept) {
      const p = parse(value);
      if (p) highest.set(p.scope, Math.max(highest.get(p.scope) ?? 0, p.seq));
    }
    await tx.execute(sql`delete from meta.sequences where entity = ${name} and field = ${fieldName}`);
    for (const [scope, value] of highest)
      await tx.execute(
        sql`insert into meta.sequences (entity, field, scope, value) values (${name}, ${fieldName}, ${scope}, ${value})`,
      );
  }
  return cleared;
}

/**
 * Once renumbered, the audit trail of the load's records says the numbers they now carry: the snapshots
 * their entries keep (what the record's history shows) were taken with the number first issued.
 */
export async function renumberAudit(database: Database, model: AppModel, pairs: [string, string][], sinceAudit: number) {
  for (const [name, fieldName] of pairs) {
    const entity = model.entity(name)!;
    const column = sql.identifier(entity.columns[fieldName].name);
    await database.db.execute(sql`update audit.log a set snapshot = jsonb_set(a.snapshot, array[${fieldName}::text], to_jsonb(t.${column}))
      from ${entity.table} t
      where a.id > ${sinceAudit} and a.entity = ${name} and a.record_id = t.id and a.snapshot ? ${fieldName}`);
  }
}
