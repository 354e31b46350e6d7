/**
 * The audit trail: every create, update, delete, restore, assignment and share, with who, when and
 * which fields changed from what to what. Entries are written in the same transaction as the change
 * they describe, so the trail can't miss a committed change or record one that rolled back.
 * Each entry also keeps the record as it was after the change (the snapshot), which makes reverting to
 * a version one read.
 */
import { sql } from 'drizzle-orm';
import type { Database, Db } from '../db/database.js';
import { copyText } from '../db/copy.js';
import { operationTime } from '../db/clock.js';
import { deferredWrite, keep, startDeferring } from '../db/deferred.js';

export const AUDIT_SQL = `
create schema if not exists audit;
create table if not exists audit.log (
  id bigserial primary key,
  entity text not null,
  record_id uuid not null,
  version integer,
  action text not null,
  actor uuid,
  at timestamptz not null default now(),
  changes jsonb not null default '{}',
  snapshot jsonb,
  note text
);
create index if not exists log_record on audit.log (entity, record_id, id);
-- Writes that belong together carry one note (an import: "import:<id>"); undoing them finds them by it.
create index if not exists log_note on audit.log (note) where note is not null;
create table if not exists audit.assignments (
  id bigserial primary key,
  entity text not null,
  record_id uuid not null,
  from_owner uuid,
  to_owner uuid,
  actor uuid,
  at timestamptz not null default now(),
  reason text
);
create index if not exists assignments_record on audit.assignments (entity, record_id, id);
create index if not exists assignments_from on audit.assignments (from_owner, at);
`;

export type AuditAction = 'create' | 'update' | 'delete' | 'restore' | 'assign' | 'share' | 'unshare' | 'revert' | 'transition';

export interface AuditEntry {
  entity: string;
  recordId: string;
  version?: number | null;
  action: AuditAction;
  actor: string | null;
  /**
   * field → [from, to]. A create stores none: its changes are every value of its snapshot
   * (`changesOf`), and writing them twice doubled what an import of 100,000 rows wrote to the log.
   */
  changes?: Record<string, [unknown, unknown]>;
  snapshot?: Record<string, unknown> | null;
  note?: string;
}

const SKIP = new Set(['version', 'updated_at', 'updated_by']);

/** An entry's changes as stored, or, for a create that stored its snapshot only, the snapshot's values. */
export function changesOf(entry: {
  action: string;
  changes: Record<string, [unknown, unknown]> | null;
  snapshot: Record<string, unknown> | null;
}): Record<string, [unknown, unknown]> {
  const stored = entry.changes ?? {};
  if (entry.action !== 'create' || Object.keys(stored).length || !entry.snapshot) return stored;
  return diff(null, entry.snapshot);
}

/** Fields whose value differs between two versions of a record. */
export function diff(before: Record<string, unknown> | null, after: Record<string, unknown>): Record<string, [unknown, unknown]> {
  const out: Record<string, [unknown, unknown]> = {};
  if (!before) {
    // A new record: every value it has (no text comparison needed — an import audits thousands at once).
    for (const key of Object.keys(after))
      if (!SKIP.has(key) && after[key] !== undefined && after[key] !== null) out[key] = [null, after[key]];
    return out;
  }
  for (const key of Object.keys(after)) {
    if (SKIP.has(key)) continue;
    const from = before[key] ?? null;
    const to = after[key] ?? null;
    if (JSON.stringify(from) !== JSON.stringify(to)) out[key] = [from, to];
  }
  return out;
}

/** Entries of a transaction that writes its audit trail later (deferAudit), in order. */
const DEFERRED_AUDIT = deferredWrite<object>('deferred audit entries', insertAudit);

/**
 * Writes entries in one statement (a cascade, an import batch can touch many records): the entries travel
 * as one JSON parameter, however many there are — no statement text or parameter list growing with them.
 * Each is stamped with the operation's time (db/clock.ts).
 */
export async function writeAudit(tx: Db, entries: AuditEntry[]): Promise<void> {
  if (!entries.length) return;
  const at = operationTime(tx).toISOString();
  const rows = entries.map((e) => ({
    entity: e.entity,
    record_id: e.recordId,
    version: e.version ?? null,
    action: e.action,
    actor: e.actor,
    at,
    changes: e.changes ?? {},
    snapshot: e.snapshot ?? null,
    note: e.note ?? null,
  }));
  if (!(await keep(tx, DEFERRED_AUDIT, rows))) await insertAudit(tx, rows);
}

/**
 * This transaction's (one from carrying()) audit entries are kept and written together, a thousand
 * at a time and at flushDeferred (db/deferred.ts), instead of one statement per operation: for a
 * transaction of thousands of operations (the demo-data load) that reads no audit entry before it
 * flushes. Entries keep their order and times.
 */
export function deferAudit(tx: Db): void {
  startDeferring(tx, DEFERRED_AUDIT);
}

async function insertAudit(tx: Db, rows: object[]): Promise<void> {
  await tx.execute(
    sql`insert into audit.log (entity, record_id, version, action, actor, at, changes, snapshot, note)
        select entity, record_id, version, action, actor, at, changes, snapshot, note
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
          as e(entity text, record_id uuid, version integer, action text, actor uuid, at timestamptz, changes jsonb, snapshot jsonb, note text)`,
  );
}

const AUDIT_COLUMNS = ['entity', 'record_id', 'version', 'action', 'actor', 'changes', 'snapshot', 'note'];
const AUDIT_TYPES = ['text', 'uuid', 'integer', 'text', 'uuid', 'jsonb', 'jsonb', 'text'];

/**
 * The same as writeAudit for many entries at once (an import batch), loaded with COPY: the server parses
 * each entry's changes and snapshot alone instead of one JSON document of all of them taken apart again.
 */
export async function copyAudit(database: Database, tx: Db, entries: AuditEntry[]): Promise<void> {
  if (!entries.length) return;
  const text = copyText(
    entries.map((e) => [
      e.entity,
      e.recordId,
      e.version ?? null,
      e.action,
      e.actor,
      e.changes ?? {},
      e.snapshot ?? null,
      e.note ?? null,
    ]),
    AUDIT_TYPES,
  );
  await database.copyIn(`audit.log (${AUDIT_COLUMNS.join(', ')})`, text, tx);
}
