/**
 * Writes a transaction keeps and sends together later. The demo-data load runs thousands of operations
 * in one transaction; each would write its audit entry and workflow history in a statement of its own.
 * Deferred, they go a thousand rows per statement. A kind of write (`deferredWrite`) says how its rows
 * are written; a transaction (one from carrying()) starts keeping them (`startDeferring`), operations
 * hand their rows over (`keep`), and `flushDeferred` writes everything kept so far — it must run before
 * anything in the transaction reads those tables.
 */
import type { Db } from './database.js';
import { carried, carry } from './carried.js';

export interface DeferredWrite<T> {
  readonly key: symbol;
  write(tx: Db, rows: T[]): Promise<void>;
}

/** Rows kept per kind before they are written without waiting for the flush. */
const MAX_KEPT = 1000;
const KINDS = Symbol('deferred kinds');

/** A kind of write that may be deferred: `write` writes a batch of its rows, in their order. */
export function deferredWrite<T>(name: string, write: (tx: Db, rows: T[]) => Promise<void>): DeferredWrite<T> {
  return { key: Symbol(name), write };
}

/** From now on the transaction keeps this kind's rows until a flush. */
export function startDeferring(tx: Db, kind: DeferredWrite<unknown>): void {
  if (carried(tx, kind.key)) return;
  carry(tx, kind.key, []);
  carry(tx, KINDS, [...(carried<DeferredWrite<unknown>[]>(tx, KINDS) ?? []), kind]);
}

/** Whether the transaction keeps this kind's rows. */
export const isDeferring = (tx: Db, kind: DeferredWrite<unknown>) => carried(tx, kind.key) !== undefined;

/** Keeps the rows if the transaction defers their kind (true), else leaves them to the caller (false). */
export async function keep<T>(tx: Db, kind: DeferredWrite<T>, rows: T[]): Promise<boolean> {
  const kept = carried<T[]>(tx, kind.key);
  if (!kept) return false;
  kept.push(...rows);
  if (kept.length >= MAX_KEPT) await flush(tx, kind);
  return true;
}

async function flush<T>(tx: Db, kind: DeferredWrite<T>): Promise<void> {
  const kept = carried<T[]>(tx, kind.key);
  if (!kept?.length) return;
  carry(tx, kind.key, []);
  await kind.write(tx, kept);
}

/** Writes every kind the transaction has kept so far, in the order they were deferred. */
export async function flushDeferred(tx: Db): Promise<void> {
  for (const kind of carried<DeferredWrite<unknown>[]>(tx, KINDS) ?? []) await flush(tx, kind);
}
