/**
 * One process at a time on an embedded database's folder (engine/db/data-dir-lock.ts): PGlite does not
 * guard its data directory, and a second process opening it while the first runs damages it. A second
 * opener — in this process or another — is refused with the holder's process id; the lock is given back
 * on close; a lock left by a process that has ended is taken over.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../engine/db/database.js';
import { DataDirBusy } from '../../engine/db/data-dir-lock.js';

describe('the embedded database’s folder lock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'metacrm-lock-'));
  const lock = join(dir, 'metacrm.lock');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a second opener while the first holds the folder, and lets it in once closed', async () => {
    const first = await openDatabase({ dataDir: dir });
    await first.exec('create table kept (n int); insert into kept values (1)');
    expect(readFileSync(lock, 'utf8')).toBe(String(process.pid));
    const second = await openDatabase({ dataDir: dir }).catch((e) => e);
    expect(second).toBeInstanceOf(DataDirBusy);
    expect(second.message).toContain(`in use by process ${process.pid}`);
    expect(second.message).toContain('正被进程');
    await first.close();
    expect(existsSync(lock)).toBe(false);
    const again = await openDatabase({ dataDir: dir });
    expect(await again.rows(sql`select n from kept`)).toEqual([{ n: 1 }]);
    await again.close();
  });

  it('refuses while another live process holds it, and takes over a lock whose process has ended', async () => {
    // The process that started this test runner is alive for as long as the test runs.
    writeFileSync(lock, String(process.ppid));
    const refused = await openDatabase({ dataDir: dir }).catch((e) => e);
    expect(refused).toBeInstanceOf(DataDirBusy);
    expect(refused.pid).toBe(process.ppid);
    expect(readFileSync(lock, 'utf8')).toBe(String(process.ppid)); // not taken from its holder
    // A process that has ended: its lock is stale.
    const ended = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(lock, ended.stdout);
    const taken = await openDatabase({ dataDir: dir });
    expect(readFileSync(lock, 'utf8')).toBe(String(process.pid));
    expect(await taken.rows(sql`select n from kept`)).toEqual([{ n: 1 }]);
    await taken.close();
  });
});
