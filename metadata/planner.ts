/**
 * Computes the schema steps that take the database from one compiled model to the next.
 * Every identifier in the generated DDL comes from validated metadata (identifier pattern) or is built
 * from such names; column types come from the closed list in engine/model/columns.ts. No values ever
 * appear in DDL, so the statements need no parameters.
 */
import type { CompiledEntity, CompiledField, IndexSpec } from '../engine/model/compile.js';
import { objectName } from '../engine/model/compile.js';
import { isKnownColumnType, isWidening } from '../engine/model/columns.js';

export interface PlanStep {
  op:
    | 'create_table'
    | 'drop_table'
    | 'add_column'
    | 'drop_column'
    | 'alter_column_type'
    | 'add_foreign_key'
    | 'validate_foreign_key'
    | 'drop_foreign_key'
    | 'create_index'
    | 'drop_index';
  entity: string;
  field?: string;
  index?: string;
  /** Loses data or may fail on existing rows: refused unless the deploy allows destructive changes. */
  destructive: boolean;
  description: string;
  sql: string[];
  /**
   * Run after the deploy commits, by a job (metadata/schema-builds.ts), because it reads the whole table:
   * a non-unique index on a table that already exists (CREATE INDEX CONCURRENTLY), the validation of a
   * foreign key added NOT VALID. Inside the deploy it would hold the table's lock — all writes, and all
   * reads when the deploy also adds the column — for as long as it reads the table.
   */
  afterCommit?: boolean;
}

const q = (name: string) => {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`Refusing unvalidated identifier ${JSON.stringify(name)}`);
  return `"${name}"`;
};
const columnType = (f: CompiledField) => {
  if (!isKnownColumnType(f.columnType)) throw new Error(`Field ${f.name}: unknown column type ${f.columnType}`);
  return f.columnType;
};
const onDeleteSql = { restrict: 'restrict', set_null: 'set null', cascade: 'cascade' } as const;
const fkName = (entity: string, field: string) => objectName('f', entity, field);

/** Indexes every entity table has, whatever its fields. */
export function systemIndexes(entity: string): IndexSpec[] {
  return [
    { name: objectName('i', entity, 'owner_id'), columns: ['owner_id', 'id'], unique: false, method: 'btree' },
    {
      name: objectName('i', entity, 'deleted_at'),
      columns: ['deleted_at'],
      unique: false,
      method: 'btree',
      where: 'deleted_at is not null',
    },
  ];
}

/**
 * Sorted lists order ascending NULLS FIRST and descending NULLS LAST (engine/data/query.ts), so one
 * btree built NULLS FIRST serves both directions, forwards and backwards.
 */
export function createIndexSql(table: string, index: IndexSpec, concurrently = false) {
  const column = (c: string) => (index.method === 'btree' && !index.unique && c !== 'id' ? `${q(c)} nulls first` : q(c));
  const how = concurrently ? 'concurrently if not exists ' : '';
  // An expression comes from the compiler (engine/model/search.ts) over names checked here.
  const columns = index.columns.map(column).join(', ');
  const what = index.expression ?? columns;
  return `create ${index.unique ? 'unique ' : ''}index ${how}${q(index.name)} on ${q(table)} using ${index.method} (${what})${index.where ? ` where ${index.where}` : ''}`;
}

/** Drops an index (its name from validated metadata); concurrently outside a transaction. */
export const dropIndexSql = (name: string, concurrently = false) =>
  `drop index ${concurrently ? 'concurrently ' : ''}if exists ${q(name)}`;

const sameIndex = (a: IndexSpec, b: IndexSpec) => JSON.stringify(a) === JSON.stringify(b);

export function planSchema(before: ReadonlyMap<string, CompiledEntity>, after: ReadonlyMap<string, CompiledEntity>): PlanStep[] {
  const creates: PlanStep[] = [];
  const columns: PlanStep[] = [];
  const foreignKeys: PlanStep[] = [];
  const indexes: PlanStep[] = [];
  const drops: PlanStep[] = [];

  for (const entity of after.values()) {
    const old = before.get(entity.name);
    const t = q(entity.name);
    if (!old) {
      const cols = [
        '"id" uuid primary key',
        '"created_at" timestamptz not null default now()',
        '"created_by" uuid',
        '"updated_at" timestamptz not null default now()',
        '"updated_by" uuid',
        '"owner_id" uuid',
        '"version" integer not null default 1',
        '"deleted_at" timestamptz',
        ...entity.fields.map((f) => `${q(f.name)} ${columnType(f)}`),
      ];
      creates.push({
        op: 'create_table',
        entity: entity.name,
        destructive: false,
        description: `Create table ${entity.name}`,
        sql: [`create table ${t} (\n  ${cols.join(',\n  ')}\n)`],
      });
      for (const index of [...systemIndexes(entity.name), ...entity.indexes]) {
        indexes.push({
          op: 'create_index',
          entity: entity.name,
          index: index.name,
          destructive: false,
          description: `Create index ${index.name} on ${entity.name} (${index.columns.join(', ')})`,
          sql: [createIndexSql(entity.name, index)],
        });
      }
      for (const f of entity.fields) if (f.reference) foreignKeys.push(addForeignKey(entity.name, f));
      continue;
    }

    for (const f of entity.fields) {
      const was = old.field(f.name);
      if (!was) {
        // A nullable column without a default: a catalogue-only change, instant on any table size.
        columns.push({
          op: 'add_column',
          entity: entity.name,
          field: f.name,
          destructive: false,
          description: `Add column ${entity.name}.${f.name} ${columnType(f)}`,
          sql: [`alter table ${t} add column ${q(f.name)} ${columnType(f)}`],
        });
      } else if (was.columnType !== f.columnType) {
        const widening = isWidening(was.columnType, f.columnType);
        columns.push({
          op: 'alter_column_type',
          entity: entity.name,
          field: f.name,
          destructive: !widening,
          description: `Change ${entity.name}.${f.name} from ${was.columnType} to ${f.columnType}${widening ? '' : ' (narrowing: values may be lost or the change may fail)'}`,
          sql: [`alter table ${t} alter column ${q(f.name)} type ${columnType(f)} using ${q(f.name)}::${columnType(f)}`],
        });
      }
      const wasRef = was?.reference;
      if (JSON.stringify(wasRef) !== JSON.stringify(f.reference)) {
        if (wasRef)
          drops.push({
            op: 'drop_foreign_key',
            entity: entity.name,
            field: f.name,
            destructive: false,
            description: `Drop foreign key ${entity.name}.${f.name} → ${wasRef.to}`,
            sql: [`alter table ${t} drop constraint if exists ${q(fkName(entity.name, f.name))}`],
          });
        // A new column holds only NULLs: its key needs no check now (NOT VALID) and is validated after
        // commit, without blocking writes. A retargeted key checks the values it already has, in the deploy.
        if (f.reference)
          foreignKeys.push(
            ...(was
              ? [addForeignKey(entity.name, f)]
              : [addForeignKey(entity.name, f, true), validateForeignKey(entity.name, f)]),
          );
      }
    }
    for (const f of old.fields) {
      if (!entity.field(f.name)) {
        drops.push({
          op: 'drop_column',
          entity: entity.name,
          field: f.name,
          destructive: true,
          description: `Drop column ${entity.name}.${f.name} and its data`,
          sql: [`alter table ${t} drop column ${q(f.name)}`],
        });
      }
    }
    const oldIndexes = new Map(old.indexes.map((i) => [i.name, i]));
    const newIndexes = new Map(entity.indexes.map((i) => [i.name, i]));
    for (const [name, index] of oldIndexes) {
      const next = newIndexes.get(name);
      if (!next || !sameIndex(index, next)) {
        // Dropping an index loses no data; `if exists` because dropping its column already dropped it.
        drops.unshift({
          op: 'drop_index',
          entity: entity.name,
          index: name,
          destructive: false,
          description: `Drop index ${name}`,
          sql: [dropIndexSql(name)],
        });
      }
    }
    for (const [name, index] of newIndexes) {
      const prev = oldIndexes.get(name);
      if (!prev || !sameIndex(prev, index)) {
        // A unique index is a constraint: it is in force when the deploy commits, or the deploy fails.
        const afterCommit = !index.unique;
        indexes.push({
          op: 'create_index',
          entity: entity.name,
          index: name,
          destructive: false,
          description: `Create ${index.unique ? 'unique ' : ''}index ${name} on ${entity.name} (${index.columns.join(', ')})${afterCommit ? ', after the deploy, without locking the table' : ''}`,
          sql: [createIndexSql(entity.name, index, afterCommit)],
          ...(afterCommit ? { afterCommit } : {}),
        });
      }
    }
  }
  for (const old of before.values()) {
    if (!after.has(old.name)) {
      drops.push({
        op: 'drop_table',
        entity: old.name,
        destructive: true,
        description: `Drop table ${old.name} and all its records`, // cascade only removes foreign keys of tables this same deploy drops: validation refuses any
        // remaining entity that still references a dropped one.
        sql: [`drop table ${q(old.name)} cascade`],
      });
    }
  }
  // Drops of indexes and keys first (they may stand in the way of type changes), tables last.
  const dropOrder = (s: PlanStep) => ['drop_index', 'drop_foreign_key', 'drop_column', 'drop_table'].indexOf(s.op);
  const [earlyDrops, lateDrops] = [
    drops.filter((s) => dropOrder(s) < 2),
    drops.filter((s) => dropOrder(s) >= 2).sort((a, b) => dropOrder(a) - dropOrder(b)),
  ];
  return [
    ...earlyDrops,
    ...creates,
    ...columns,
    ...lateDrops.filter((s) => s.op === 'drop_column'),
    ...foreignKeys,
    ...indexes,
    ...lateDrops.filter((s) => s.op === 'drop_table'),
  ];
}

function addForeignKey(entity: string, f: CompiledField, notValid = false): PlanStep {
  const ref = f.reference!;
  return {
    op: 'add_foreign_key',
    entity,
    field: f.name,
    destructive: false,
    description: `Foreign key ${entity}.${f.name} → ${ref.to}.id (on delete ${onDeleteSql[ref.onDelete]})${notValid ? ', checked from now on; existing rows after the deploy' : ''}`,
    sql: [
      `alter table ${q(entity)} add constraint ${q(fkName(entity, f.name))} foreign key (${q(f.name)}) references ${q(ref.to)} ("id") on delete ${onDeleteSql[ref.onDelete]}${notValid ? ' not valid' : ''}`,
    ],
  };
}

/** Validates a key added NOT VALID: reads the table under a lock that lets reads and writes go on. */
export const validateForeignKeySql = (entity: string, field: string) =>
  `alter table ${q(entity)} validate constraint ${q(fkName(entity, field))}`;

function validateForeignKey(entity: string, f: CompiledField): PlanStep {
  return {
    op: 'validate_foreign_key',
    entity,
    field: f.name,
    destructive: false,
    afterCommit: true,
    description: `Validate foreign key ${entity}.${f.name} after the deploy, without blocking writes`,
    sql: [validateForeignKeySql(entity, f.name)],
  };
}
