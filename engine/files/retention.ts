/**
 * What the file storage keeps, and for how long. A removed attachment is at first only marked deleted,
 * and a file uploaded for a form that was never saved belongs to no record: no one can reach either any
 * more, so their bytes and rows go after a grace period — an attachment `deletedDays` after its removal,
 * an unbound upload `unboundHours` after it was uploaded. Files of records (in the recycle bin too:
 * restoring brings them back) and the earlier files of a file field (the record's history and revert
 * still name them) stay.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import type { FileStorage } from './storage.js';
import { logFailure } from '../log.js';

export interface FileRetention {
  /** Days a removed attachment's bytes are kept (default 30). */
  deletedDays?: number;
  /** Hours an upload no record took is kept (default 24). */
  unboundHours?: number;
}

/** Files purged per statement: a long backlog goes in several runs rather than one long transaction. */
const BATCH = 1_000;

/**
 * Purges what is past its grace period, in batches; returns how many files went. Rows go first, then the
 * bytes: a failing delete in the store leaves unreachable bytes (logged), never a row without its bytes.
 */
export async function purgeFiles(
  database: Database,
  storage: FileStorage,
  { deletedDays = 30, unboundHours = 24 }: FileRetention = {},
  now = new Date(),
): Promise<number> {
  let purged = 0;
  for (;;) {
    const gone = await database.rows<{ id: string }>(sql`
      delete from files.files where id in (
        select id from files.files
        where storage = ${storage.kind}
          and ((deleted_at is not null and deleted_at < ${now.toISOString()}::timestamptz - make_interval(days => ${deletedDays}))
            or (record_id is null and deleted_at is null
                and created_at < ${now.toISOString()}::timestamptz - make_interval(hours => ${unboundHours})))
        order by id limit ${BATCH})
      returning id`);
    for (const { id } of gone)
      await storage.delete(id).catch((e) => logFailure(`file ${id}: its bytes could not be removed from the store`, e));
    purged += gone.length;
    if (gone.length < BATCH) return purged;
  }
}
