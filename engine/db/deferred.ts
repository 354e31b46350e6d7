/**
 * Writes a transaction keeps and sends together later. The demo-data load runs thousands of operations
 * in one transaction; each would write its audit entry and workflow history in a statement of its own.
 * Deferred, they go a thousand rows per statement. Each kind of write registers how it is flushed
 * (`onFlush`); `flushDeferred` writes everything kept so far, and must run before anything in the
 * transaction reads those tables.
 */
import type { Db } from './database.js';
import { carried, carry } from './carried.js';

type Flush = (tx: Db) => Promise<void>;
const FLUSHES = Symbol('deferred writes');

/** Registers how a kind of kept write is flushed, once per transaction (one from carrying()). */
export function onFlush(tx: Db, flush: Flush): void {
  const flushes = carried<Flush[]>(tx, FLUSHES) ?? [];
  if (!flushes.includes(flush)) carry(tx, FLUSHES, [...flushes, flush]);
}

/** Writes every kind of write the transaction has kept so far, in the order the kinds were deferred. */
export async function flushDeferred(tx: Db): Promise<void> {
  for (const flush of carried<Flush[]>(tx, FLUSHES) ?? []) await flush(tx);
}
