/**
 * Values that stay with a transaction into its savepoints. Drizzle hands each savepoint to its callback
 * as a transaction object of its own, so a WeakMap keyed by the transaction would lose them in an
 * operation nested in another (a workflow action's create). `carrying(tx)` returns the transaction as
 * its operations should receive it: it and every savepoint opened from it share one set of values.
 */
import type { Db } from './database.js';

const values = new WeakMap<Db, Map<symbol, unknown>>();

/** The transaction, with its savepoints (and theirs) sharing the values set on it. */
export function carrying(tx: Db, shared = values.get(tx) ?? new Map<symbol, unknown>()): Db {
  const view: Db = Object.create(tx, {
    transaction: {
      value: <T>(run: (inner: Db) => Promise<T>, config?: Parameters<Db['transaction']>[1]) =>
        tx.transaction((inner) => run(inner === tx ? view : carrying(inner as Db, shared)), config),
    },
  });
  values.set(view, shared);
  return view;
}

/** Sets a value on a transaction from carrying() (undefined removes it). */
export function carry(tx: Db, key: symbol, value: unknown): void {
  const shared = values.get(tx);
  if (!shared) throw new Error('carry() needs a transaction from carrying()');
  if (value === undefined) shared.delete(key);
  else shared.set(key, value);
}

/** The value set on this transaction or the one whose savepoint it is, if any. */
export function carried<T>(tx: Db | undefined, key: symbol): T | undefined {
  return tx ? (values.get(tx)?.get(key) as T | undefined) : undefined;
}
