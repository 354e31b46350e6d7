/**
 * What PostgreSQL's autovacuum does for a server, done for the embedded database, which has no such
 * process. Without it PGlite never gathers statistics: the planner goes on believing a table is as small
 * as it was when a statement was first prepared, and keeps that plan for the life of the process — a
 * reference look-up then reads a whole partial unique index instead of one primary-key entry, at a cost
 * that grows with the table. Nor are the dead rows of updates and deletes ever reclaimed.
 *
 * Tables whose rows changed past autovacuum's default thresholds since they were last looked at get
 * ANALYZE (50 rows + 10 % of the table changed) and VACUUM (50 + 20 % dead). Table names come from the
 * catalogue, quoted by PostgreSQL itself.
 */

export interface MaintenanceResult {
  analyzed: string[];
  vacuumed: string[];
}

interface TableActivity {
  name: string;
  live: number;
  dead: number;
  changed: number;
}

/** Tables due for ANALYZE and for VACUUM, by autovacuum's default thresholds. */
export function dueTables(tables: TableActivity[]): MaintenanceResult {
  return {
    analyzed: tables.filter((t) => t.changed > 50 + 0.1 * t.live).map((t) => t.name),
    vacuumed: tables.filter((t) => t.dead > 50 + 0.2 * t.live).map((t) => t.name),
  };
}

/** The counts of the statements just run are flushed to the statistics now, not up to a second later. */
export const FLUSH_ACTIVITY = 'select pg_stat_force_next_flush()';
export const TABLE_ACTIVITY = `select format('%I.%I', schemaname, relname) as name, n_live_tup::int as live,
  n_dead_tup::int as dead, n_mod_since_analyze::int as changed from pg_stat_user_tables`;

/**
 * Vacuums and analyzes what is due, one table at a time (each a short statement outside any
 * transaction: VACUUM cannot run in one). `exec` runs a parameterless statement.
 */
export async function maintainTables(
  activity: () => Promise<TableActivity[]>,
  exec: (statement: string) => Promise<unknown>,
): Promise<MaintenanceResult> {
  const due = dueTables(await activity());
  const analyze = new Set(due.analyzed);
  for (const name of due.vacuumed) await exec(`vacuum ${analyze.delete(name) ? '(analyze) ' : ''}${name}`);
  for (const name of analyze) await exec(`analyze ${name}`);
  return due;
}

/**
 * Inside one long transaction (the demo load) nothing above runs, and statements prepared while a
 * table was small keep plans made for it: a look-up by id walked a partial unique index of a
 * table the transaction had filled, reading every row (0.1 ms became 1 ms and more as it grew). The
 * transaction's own counts of the rows it inserted and deleted (pg_stat_xact_user_tables) say which tables grew past
 * autovacuum's threshold since their last statistics; ANALYZE, which may run inside a transaction and
 * sees its uncommitted rows, gives them statistics, and PostgreSQL plans their statements anew.
 */
export const WRITTEN_IN_TRANSACTION = `select format('%I.%I', s.schemaname, s.relname) as name,
  (s.n_tup_ins + s.n_tup_del)::int as written, greatest(c.reltuples, 0)::int as rows
  from pg_stat_xact_user_tables s join pg_class c on c.oid = s.relid
  where s.n_tup_ins + s.n_tup_del > 50`;

/**
 * Analyzes the tables written past the threshold since the last call (`analyzedAt`: the written count
 * at each table's last analysis in this transaction, kept by the caller). Returns the tables analyzed.
 */
export async function analyzeWritten(
  written: () => Promise<{ name: string; written: number; rows: number }[]>,
  exec: (statement: string) => Promise<unknown>,
  analyzedAt: Map<string, number>,
  /** Tables left alone: ones the transaction appends to and seldom reads (analyzing a large one costs more than it saves). */
  except: ReadonlySet<string> = new Set(),
): Promise<string[]> {
  const analyzed: string[] = [];
  for (const t of await written()) {
    if (except.has(t.name)) continue;
    if (t.written - (analyzedAt.get(t.name) ?? 0) <= 50 + 0.1 * t.rows) continue;
    // A tenth of the usual sample: enough to plan by (a large audit trail took 80 ms a time at the
    // default); the statistics are gathered in full once the transaction has committed.
    if (!analyzed.length) await exec('set local default_statistics_target = 10');
    await exec(`analyze ${t.name}`);
    analyzedAt.set(t.name, t.written);
    analyzed.push(t.name);
  }
  return analyzed;
}
