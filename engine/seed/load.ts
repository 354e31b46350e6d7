/**
 * The demo-data loader: reads the generated sets of each sample app's data/*.json (generate.ts),
 * creates the records through the engine's own operations as the demo users — validation, formulas,
 * auto-numbers, automations, audit — and walks their workflow events and approval steps, each at its
 * planned time (the transaction's clock, db/clock.ts); the records' own creation times move to the
 * planned past afterwards (backdate.ts). One transaction for the whole load, recorded in
 * seed.runs so that it never runs twice; a bad row rolls everything back and is reported with its
 * file and JSON pointer.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/database.js';
import { AppError } from '../errors.js';
import { loadPrincipal, type Principal } from '../access/principal.js';
import type { DataService, OperationContext } from '../data/service.js';
import type { WorkflowService } from '../workflow/service.js';
import type { ApprovalService } from '../approvals/service.js';
import {
  planSet,
  SeedError,
  streamFor,
  workingHoursClock,
  type DemoFile,
  type GeneratorScope,
  type PlannedRow,
} from './generate.js';
import type { FieldBackfill } from '../../metadata/backfill.js';
import { backdate, mark, type BackdatePlan } from './backdate.js';
import { setClock } from '../db/clock.js';
import { carrying } from '../db/carried.js';
import { deferAudit } from '../audit/log.js';
import { flushDeferred } from '../db/deferred.js';
import { clearDatedNumbers, renumberAudit } from './renumber.js';
import { analyzeWritten, WRITTEN_IN_TRANSACTION } from '../db/maintenance.js';
import { buildDeferredIndexes, dropDeferrableIndexes } from './deferred-indexes.js';

export const SEED_SQL = `
create schema if not exists seed;
create table if not exists seed.runs (
  name text primary key,
  at timestamptz not null default now(),
  counts jsonb not null
);`;

/** The name a load is recorded under: demo data is loaded once per database. */
export const DEMO_RUN = 'demo-data';
const CHUNK = 500;
const NOT_ANALYZED: ReadonlySet<string> = new Set(['audit.log']);
/** Walks between two looks at which tables the load has grown (see analyzeWritten). */
const WALKS_PER_ANALYSIS = 50;

export interface DemoDataEngine {
  data: DataService;
  workflows: WorkflowService;
  approvals: ApprovalService;
  backfill: FieldBackfill;
}

export interface LoadOptions {
  /** Sample-app folders, in load order (a set may refer to the sets of the apps before it). */
  folders: string[];
  /** The time the data is relative to (default: now). */
  now?: Date;
  /** The name the load is recorded under (default demo-data). */
  name?: string;
  /** Told after each set: its name, how many records it holds, and how far the load is. */
  progress?: (step: { set: string; records: number; done: number; total: number; ms: number }) => void;
}

export interface LoadResult {
  loaded: boolean;
  /** Records created per set. */
  counts: Record<string, number>;
  ms: number;
}

/** The data files of an app folder: data/*.json that hold generated sets (organisation.json holds users). */
export async function demoFiles(folder: string): Promise<string[]> {
  const dir = join(folder, 'data');
  const names = await readdir(dir).catch(() => [] as string[]);
  const files: string[] = [];
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const parsed = JSON.parse(await readFile(join(dir, name), 'utf8')) as unknown;
    if (parsed && typeof parsed === 'object' && 'sets' in parsed) files.push(join(dir, name));
  }
  return files;
}

/** Whether the demo data has been loaded into this database. */
export async function demoDataLoaded(data: DataService, name = DEMO_RUN): Promise<boolean> {
  await data.database.exec(SEED_SQL);
  const [row] = await data.database.rows(sql`select 1 from seed.runs where name = ${name}`);
  return Boolean(row);
}

export async function loadDemoData(engine: DemoDataEngine, options: LoadOptions): Promise<LoadResult> {
  const started = Date.now();
  const { data } = engine;
  const database = data.database;
  await database.exec(SEED_SQL);
  const now = options.now ?? new Date();
  const run = options.name ?? DEMO_RUN;
  const files: { path: string; doc: DemoFile }[] = [];
  for (const folder of options.folders) {
    for (const path of await demoFiles(folder)) files.push({ path, doc: JSON.parse(await readFile(path, 'utf8')) as DemoFile });
  }

  // Principals are loaded before the transaction: the embedded database has a single connection.
  const users = data.entity('user');
  const userRows = (await database.db.select({ id: users.columns.id, username: users.columns.username }).from(users.table)) as {
    id: string;
    username: string;
  }[];
  const byName = new Map(userRows.map((u) => [u.username, u.id]));
  const principals = new Map<string, Principal>();
  for (const u of userRows) {
    const p = await loadPrincipal(database, data.model(), u.id);
    if (p) principals.set(u.id, p);
  }
  const contextOf = (file: string, path: string, actor: string | undefined): OperationContext => {
    if (actor === undefined) return { principal: null, privileged: true, lang: 'zh-CN' };
    const id = byName.get(actor) ?? actor;
    const principal = principals.get(id);
    if (!principal) throw new SeedError(file, path, `there is no active user "${actor}" to act as`);
    return { principal, lang: 'zh-CN' };
  };

  const counts: Record<string, number> = {};
  const setCount = files.reduce((n, f) => n + (Array.isArray(f.doc.sets) ? f.doc.sets.length : 0), 0);
  let setsDone = 0;
  let renumber: [string, string][] = [];
  let startAudit = 0;
  /** Every record the load created, planned or made by an action on the way (a ticket's tasks), by entity. */
  let createdIds = new Map<string, string[]>();
  const loaded = await database.db.transaction(async (outer) => {
    // The walks set the transaction's clock (db/clock.ts), and its audit trail is written in bulk: both carried.
    const tx = carrying(inline(outer));
    // Thousands of operations: their audit entries, workflow history and stays are written a thousand per
    // statement (db/deferred.ts), and read only after a flush. The records' times move into the past after
    // the walks: their timers are set after the commit.
    engine.workflows.defer(tx);
    deferAudit(tx);
    // Two processes starting at once: the second waits, then finds the run recorded.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`seed:${run}`}))`);
    const [done] = await database.rows(sql`select 1 from seed.runs where name = ${run}`, tx);
    if (done) return false;
    const plan: BackdatePlan = { start: await mark(database, tx), created: [] };
    // The indexes no statement of the load reads are built once at its end (deferred-indexes.ts).
    const deferredIndexes = await dropDeferrableIndexes(database, tx, data.model());
    // Statistics of the tables as the load grows them, so that their statements are planned for their size.
    const analyzedAt = new Map<string, number>();
    const analyzeGrown = () =>
      analyzeWritten(
        () => database.rows(sql.raw(WRITTEN_IN_TRANSACTION), tx),
        (statement) => tx.execute(sql.raw(statement)),
        analyzedAt,
        // The audit trail: written in bulk, read here only by its primary key (41 ms a time, 11 times).
        NOT_ANALYZED,
      );
    startAudit = plan.start.audit;
    const sets = new Map<string, Record<string, unknown>[]>();
    // Sets of the records that actions made while an earlier set was created and walked, by the name
    // later sets use ("opportunities/order": the orders the won deals raised); only those named.
    const derivedNames = new Set(
      files.flatMap(({ doc }) =>
        (Array.isArray(doc.sets) ? doc.sets : [])
          .flatMap((s) => [s.walkOf?.set, s.forEach?.set])
          .filter((n): n is string => typeof n === 'string' && n.includes('/')),
      ),
    );
    for (const { path: filePath, doc } of files) {
      const file = relative(process.cwd(), filePath);
      if (!Array.isArray(doc.sets)) throw new SeedError(file, '/sets', 'must be a list of sets');
      for (const [index, set] of doc.sets.entries()) {
        const scope: GeneratorScope = {
          file,
          lists: doc.lists ?? {},
          now,
          rng: streamFor(doc.seed ?? 1, set.name),
          clock: doc.workingHours && workingHoursClock(doc.workingHours, streamFor(doc.seed ?? 1, `${set.name}#clock`), file),
          sets,
          users: byName,
        };
        if (!data.model().entity(set.entity))
          throw new SeedError(file, `/sets/${index}/entity`, `there is no entity "${set.entity}"`);
        const rows = planSet(set, index, scope);
        const derived = [...derivedNames].filter((n) => n.startsWith(`${set.name}/`));
        if (derived.length) await flushDeferred(tx);
        const before = derived.length ? await mark(database, tx) : undefined;
        // A walkOf set walks the records of an earlier set instead of creating some.
        const records = set.walkOf
          ? rows.map((r) => r.values)
          : await createRows(engine, tx, rows, set.entity, file, index, contextOf);
        await analyzeGrown();
        for (const [i, row] of rows.entries()) {
          if (i > 0 && i % WALKS_PER_ANALYSIS === 0 && row.events.length) await analyzeGrown();
          if (row.createdAt && !set.walkOf)
            plan.created.push({ entity: set.entity, id: records[i].id as string, at: row.createdAt });
          const walked = await walk({ engine, tx, file, contextOf }, set.entity, records[i], row, `/sets/${index}/rows/${i}`);
          // Later sets see the times the record will have once backdated (e.g. an order dated after its deal's win).
          const created = set.walkOf ? new Date(String(records[i].created_at)) : (row.createdAt ?? now);
          const changed = row.events.at(-1)?.at ?? (set.walkOf ? new Date(String(records[i].updated_at)) : created);
          records[i] = { ...walked, created_at: created.toISOString(), updated_at: changed.toISOString() };
        }
        if (before) {
          await flushDeferred(tx);
          const own = new Set(records.map((r) => r.id));
          for (const name of derived) {
            const entityName = name.slice(set.name.length + 1);
            if (!data.model().entity(entityName))
              throw new SeedError(file, `/sets/${index}`, `"${name}": there is no entity "${entityName}"`);
            const made = await database.rows<{ id: string; audit: number }>(
              sql`select record_id as id, id::bigint as audit from audit.log
                where id > ${before.audit} and entity = ${entityName} and action = 'create' order by id`,
              tx,
            );
            const list: Record<string, unknown>[] = [];
            // Made by an event of a walk, at that event's time (the clock's).
            for (const m of made.filter((r) => !own.has(r.id))) {
              const { record } = await engine.data.findWithRights(
                tx,
                engine.data.guard({ principal: null, privileged: true, lang: 'en' }),
                engine.data.entity(entityName),
                m.id,
                [],
              );
              list.push(record);
            }
            sets.set(name, list);
          }
        }
        if (set.walkOf) {
          // The walked records stand as walked in their own set.
          const byId = new Map(records.map((r) => [r.id, r]));
          sets.set(
            set.walkOf.set,
            (sets.get(set.walkOf.set) ?? []).map((r) => byId.get(r.id) ?? r),
          );
        }
        sets.set(set.name, [...(sets.get(set.name) ?? []), ...records]);
        counts[set.name] = (counts[set.name] ?? 0) + records.length;
        options.progress?.({
          set: set.name,
          records: records.length,
          done: ++setsDone,
          total: setCount,
          ms: Date.now() - started,
        });
      }
    }
    await flushDeferred(tx);
    await backdate(database, tx, data.model(), plan);
    renumber = await clearDatedNumbers(database, tx, data.model(), plan.start.audit);
    await buildDeferredIndexes(tx, deferredIndexes);
    const created = await database.rows<{ entity: string; ids: string[] }>(
      sql`select entity, array_agg(record_id::text) as ids from audit.log where id > ${plan.start.audit} and action = 'create' group by entity`,
      tx,
    );
    createdIds = new Map(created.map((c) => [c.entity, c.ids]));
    // Two years of notifications, all unread, would bury today's: the demo users have read those older
    // than two weeks, an hour after each arrived.
    await tx.execute(sql`update inbox.notifications set read_at = created_at + interval '1 hour'
      where id > ${plan.start.notifications} and read_at is null and created_at < ${now.toISOString()}::timestamptz - interval '14 days'`);
    await tx.execute(sql`insert into seed.runs (name, counts) values (${run}, ${JSON.stringify(counts)}::jsonb)`);
    return true;
  });
  if (loaded) {
    // Dated auto-numbers follow the backdated creation times (renumber.ts).
    for (const [entity, field] of renumber) await engine.backfill.number(entity, field);
    await renumberAudit(database, data.model(), renumber, startAudit);
    // Formulas that read the times the backdating moved (a deadline from the creation time) hold for
    // the backdated times, and the timers of the records' current states are set for them: an overdue
    // ticket escalates. Other computed values (roll-ups, prices read through references) were exact at write.
    for (const entity of createdIds.keys()) await engine.backfill.recompute(entity, ['created_at', 'updated_at']);
    for (const [entity, ids] of createdIds) if (data.model().entity(entity)) await engine.workflows.restartTimers(entity, ids);
    // The embedded database has no autovacuum: the tables the load filled get their statistics now, so
    // the first requests are planned for tables as they are, not as empty as when the load began.
    await database.maintain();
  }
  return { loaded, counts, ms: Date.now() - started };
}

/**
 * The load's transaction, in which the operations' own transactions run inline rather than as
 * savepoints: any error ends the whole load, so there is nothing a savepoint would keep, and
 * thousands of subtransactions in one transaction slow PostgreSQL down (its subtransaction cache
 * overflows at 64).
 */
function inline(tx: Db): Db {
  const flat: Db = Object.create(tx, { transaction: { value: <T>(run: (t: Db) => Promise<T>) => run(flat) } });
  return flat;
}

type ContextOf = (file: string, path: string, actor: string | undefined) => OperationContext;

/** Creates a set's rows in bulk, one call per actor and chunk; a refused row is named by its place in the file. */
async function createRows(
  engine: DemoDataEngine,
  tx: Db,
  rows: PlannedRow[],
  entity: string,
  file: string,
  index: number,
  contextOf: ContextOf,
) {
  const records: Record<string, unknown>[] = new Array(rows.length);
  const byActor = new Map<string | undefined, PlannedRow[]>();
  for (const row of rows) byActor.set(row.actor, [...(byActor.get(row.actor) ?? []), row]);
  for (const [actor, group] of byActor) {
    const ctx = contextOf(file, `/sets/${index}/actor`, actor);
    for (let i = 0; i < group.length; i += CHUNK) {
      const chunk = group.slice(i, i + CHUNK);
      try {
        const created = (await engine.data.create(
          ctx,
          entity,
          chunk.map((r) => r.values),
          tx,
        )) as Record<string, unknown>[];
        chunk.forEach((r, k) => (records[r.index] = created[k]));
      } catch (e) {
        throw rowError(e, file, `/sets/${index}`, (k) => chunk[k].index);
      }
    }
  }
  return records;
}

/** What every walk of a load shares: the engine and transaction, the file being loaded. */
interface WalkScope {
  engine: DemoDataEngine;
  tx: Db;
  file: string;
  contextOf: ContextOf;
}

/**
 * Fires the row's events in order, each at its planned time (the transaction's clock: what the event
 * writes, and what its actions make, is stamped with it); workflow events and approval steps alike.
 */
async function walk(
  { engine, tx, file, contextOf }: WalkScope,
  entity: string,
  record: Record<string, unknown>,
  row: PlannedRow,
  path: string,
) {
  let current = record;
  for (const [k, step] of row.events.entries()) {
    const where = `${path}/events/${k}`;
    const id = current.id as string;
    setClock(tx, step.at);
    try {
      if (step.event.startsWith('$')) {
        const ctx = (assignee?: string) => contextOf(file, where, step.actor ?? assignee ?? row.actor);
        if (step.event === '$update') {
          // A field filled in along the way (the planned delivery date before planning): an ordinary update.
          const engineGuard = engine.data.guard({ principal: null, privileged: true, lang: 'en' });
          const { record: latest } = await engine.data.findWithRights(tx, engineGuard, engine.data.entity(entity), id, []);
          current = await engine.data.update(ctx(), entity, id, step.input ?? {}, String(latest.version), undefined, tx);
          continue;
        }
        if (step.event === '$submit') await engine.approvals.submit(ctx(), entity, id, {}, tx);
        else if (step.event === '$recall') await engine.approvals.recall(ctx(), entity, id, {}, tx);
        else if (step.event === '$approve' || step.event === '$reject') {
          const [task] = await engine.data.database.rows<{ id: string; assignee: string }>(
            sql`select t.id, t.assignee from approval.tasks t
            join approval.requests r on r.id = t.request_id where r.entity = ${entity} and r.record_id = ${id} and t.status = 'pending' order by t.created_at, t.id limit 1`,
            tx,
          );
          if (!task) throw new SeedError(file, where, `${step.event}: no pending approval task on this ${entity}`);
          const decision = step.event === '$approve' ? 'approve' : 'reject';
          await engine.approvals.decide(ctx(task.assignee), task.id, decision, { comment: step.input ?? undefined }, tx);
        } else
          throw new SeedError(file, where, `unknown step "${step.event}" (known: $update, $submit, $approve, $reject, $recall)`);
        // The record as the approval left it, once the walk ends (the next event reads it itself).
        if (k === row.events.length - 1)
          current = await engine.data
            .findWithRights(
              tx,
              engine.data.guard({ principal: null, privileged: true, lang: 'en' }),
              engine.data.entity(entity),
              id,
              [],
            )
            .then((r) => r.record);
      } else {
        const body = step.input === undefined ? {} : { input: step.input };
        current = (await engine.workflows.fire(contextOf(file, where, step.actor ?? row.actor), entity, id, step.event, body, tx))
          .record;
      }
    } catch (e) {
      throw rowError(e, file, where, undefined, step.event);
    } finally {
      setClock(tx, undefined);
    }
  }
  return current;
}

/** A refusal of the engine's, told as a place in the seed file. */
function rowError(e: unknown, file: string, path: string, rowOf?: (k: number) => number, event?: string): Error {
  if (e instanceof SeedError) return e;
  if (!(e instanceof AppError)) return e as Error;
  const first = e.details[0];
  let where = path;
  let detail = first ? ` — ${first.path || '/'}: ${first.message}` : '';
  if (rowOf && first) {
    // Bulk creates name the row first (/k/field): point at the row of the set instead.
    const m = /^\/(\d+)(\/.*)?$/.exec(first.path);
    if (m) {
      where = `${path}/rows/${rowOf(Number(m[1]))}`;
      detail = ` — ${m[2] ?? '/'}: ${first.message}`;
    }
  }
  return new SeedError(file, where, `${event ? `"${event}": ` : ''}${e.code}: ${e.message}${detail}`);
}
