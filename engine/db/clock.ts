/**
 * The time an operation happens at. What operations write is stamped with `operationTime(tx)` — a
 * record's created_at and updated_at, audit entries, workflow history and stays, approval requests and
 * tasks, notifications — and their rules and actions see it as $now: the present, unless whoever holds
 * the transaction has set its clock. Only the demo-data loader does, replaying two years of planned
 * history each event at its planned time; no route reaches a transaction's clock. The clock holds in the
 * transaction's savepoints too (carried.ts).
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from './database.js';
import { carried, carry } from './carried.js';

const CLOCK = Symbol('clock');

/** Operations in this transaction (one from carrying()) happen at `at` from now on; undefined: at the present again. */
export function setClock(tx: Db, at: Date | undefined): void {
  carry(tx, CLOCK, at && new Date(at.getTime()));
}

/** When an operation in this transaction happens: its clock's time, else the present. */
export function operationTime(tx: Db | undefined): Date {
  const at = carried<Date>(tx, CLOCK);
  return at ? new Date(at.getTime()) : new Date();
}

/** The operation's time as a bound timestamptz, where a statement would otherwise say now(). */
export function nowSql(tx: Db): SQL {
  return sql`${operationTime(tx).toISOString()}::timestamptz`;
}
