/**
 * One process at a time on an embedded database's folder. PGlite, unlike a PostgreSQL server, does not
 * guard its data directory: a second process (a second `npm start` in another terminal, a script) opening
 * the folder while the first runs writes over the first's pages, and the database is damaged. The
 * holder's process id is kept in a lock file in the folder; a lock left by a process that has ended is
 * taken over.
 */
import { openSync, readFileSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';

const LOCK_FILE = 'metacrm.lock';
/** Folders this process holds: a second open in the same process is refused as well. */
const held = new Set<string>();

export class DataDirBusy extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `The embedded database in ${dir} is in use by process ${pid}: stop that process first ` +
        `(or, if no such process runs any more, delete ${join(dir, LOCK_FILE)}). ` +
        `嵌入式数据库 ${dir} 正被进程 ${pid} 使用：请先停止该进程。`,
    );
    this.name = 'DataDirBusy';
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // it exists, and belongs to someone else
  }
};

/** Takes the folder's lock or throws DataDirBusy; returns what gives it back. */
export function lockDataDir(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  if (held.has(path)) throw new DataDirBusy(dir, process.pid);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) throw new DataDirBusy(dir, pid);
      unlinkSync(path); // left by a process that has ended: taken over (once; a racing opener's lock wins)
    }
  }
  held.add(path);
  return () => {
    if (!held.delete(path)) return;
    try {
      if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
    } catch {
      // already gone
    }
  };
}
