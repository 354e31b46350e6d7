/**
 * Imports: an uploaded file (saved in the data folder) becomes an import; each run of it — a dry run,
 * then the real one — reads the file as a stream, a batch at a time, through the record pipeline
 * (engine/data/operations/import.ts). Small files run within the request; larger ones as a job in the
 * queue (several at once), with progress, a result, the refused rows, an error file and undo.
 *
 * Transactions: a dry run is one transaction rolled back at the end (so it sees what earlier rows of the
 * same file would have done); "all or nothing" is one transaction that commits only without errors;
 * "commit the good rows" commits batch by batch. Row results (errors and skips) are stored with the
 * import; progress is kept in memory while a run is in one long transaction.
 */
import { rm } from 'node:fs/promises';
import { PassThrough, Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import { sql } from 'drizzle-orm';
import type { Database, Db } from '../db/database.js';
import { AppError, badRequest, conflict, notFound, pointer, type ErrorDetail } from '../errors.js';
import { t, type Lang } from '../model/language.js';
import { UUID, uuidv7 } from '../model/ids.js';
import { isTimeZone } from '../model/time-zone.js';
import { loadPrincipal } from '../access/principal.js';
import { writeAudit, type AuditEntry } from '../audit/log.js';
import type { JobQueue } from '../jobs/queue.js';
import type { DataService, OperationContext } from '../data/service.js';
import { importBatch, matchRules, type ImportMode, type ImportRow, type RowResult } from '../data/operations/import.js';
import { softDelete } from '../data/operations/remove.js';
import { applyUpdate } from '../data/operations/update.js';
import { csvCell } from '../data/operations/export.js';
import { logFailure } from '../log.js';
import type { Guard } from '../access/guard.js';
import type { CompiledEntity } from '../model/compile.js';
import { tableText } from '../model/sql-refs.js';
import { convertRows, resolveReferences, type Binding } from './convert.js';
import { detect, preview, readRows, saveUpload, sheetNames, type FileInfo, type SourceRow } from './files.js';
import { bind, suggest, targets, type Mapping } from './mapping.js';
import { Archive } from './archive.js';
import { attachFiles, dropUnbound, fileBindings } from './attachments.js';
import type { FileStorage } from '../files/storage.js';

export const IMPORT_SQL = `
create schema if not exists imports;
create table if not exists imports.imports (
  id uuid primary key,
  entity text not null,
  actor uuid,
  created_at timestamptz not null default now(),
  file_name text,
  file_path text not null,
  file_size bigint not null,
  file jsonb not null,
  header jsonb not null,
  options jsonb,
  state text not null,
  dry_run boolean,
  committed boolean,
  counts jsonb not null default '{}',
  error jsonb,
  started_at timestamptz,
  finished_at timestamptz
);
create index if not exists imports_actor on imports.imports (actor, created_at);
alter table imports.imports add column if not exists file_removed_at timestamptz;
create table if not exists imports.rows (
  import_id uuid not null,
  line integer not null,
  outcome text not null,
  errors jsonb,
  primary key (import_id, line)
);
create table if not exists imports.mappings (
  id uuid primary key,
  entity text not null,
  name text not null,
  mapping jsonb not null,
  created_by uuid,
  created_at timestamptz not null default now(),
  unique (entity, name)
);
`;

const QUEUE = 'data-import';
/** Hourly: uploads kept past their time are removed, imports whose process died are marked failed. */
const HOUSEKEEPING = 'data-import-housekeeping';
/** An uploaded file is kept this long after its last run (for the error file), or after upload if never run. */
const KEEP_FILES_DAYS = 7;
/** A run without a live job that has not finished in this time was lost with its process. */
const LOST_AFTER_MINUTES = 15;
/** Files up to this size are imported within the request (unless asked to queue). */
export const INLINE_BYTES = 1024 * 1024;
const BATCH = 1000;
/** Row results kept with an import (errors and skips); the counts are always complete. */
const MAX_STORED_ROWS = 100_000;

export interface ImportOptions {
  mapping: Mapping;
  mode: ImportMode;
  dryRun: boolean;
  atomic: boolean;
  automations: boolean;
  sheet?: string;
  timeZone: string;
  lang: Lang;
}

export interface Counts {
  rows: number;
  create: number;
  update: number;
  skip: number;
  error: number;
}

interface ImportRecord {
  id: string;
  entity: string;
  actor: string | null;
  created_at: string;
  file_name: string | null;
  file_path: string;
  file_removed_at: string | null;
  file_size: number;
  file: FileInfo;
  header: string[];
  options: ImportOptions | null;
  state: 'uploaded' | 'queued' | 'running' | 'done' | 'failed' | 'undone';
  dry_run: boolean | null;
  committed: boolean | null;
  counts: Counts;
  error: ErrorDetail | null;
  started_at: string | null;
  finished_at: string | null;
}

const zero = (): Counts => ({ rows: 0, create: 0, update: 0, skip: 0, error: 0 });
/** Thrown inside a run's transaction to roll it back (a dry run, or all-or-nothing with errors). */
class Rollback extends Error {}

export class ImportService {
  /** Runs in this process: bytes read and counts so far. */
  private readonly live = new Map<string, { bytes: number; counts: Counts }>();

  constructor(
    private readonly database: Database,
    private readonly data: DataService,
    private readonly jobs: JobQueue,
    /** Where the files of file columns go (from a .zip upload). */
    private readonly storage: FileStorage,
    /** Where uploads are kept (the data folder's imports/). */
    readonly dir: string,
    /** Largest upload accepted. */
    readonly maxBytes = 1024 * 1024 * 1024,
  ) {
    jobs.define<{ id: string }>({ name: QUEUE, retryLimit: 0, concurrency: 3, batchSize: 1, run: ({ id }) => this.run(id) });
    jobs.define({ name: HOUSEKEEPING, retryLimit: 0, run: async () => void (await this.housekeeping()) });
  }

  /** Schedules the housekeeping (after the queue started). */
  async startHousekeeping() {
    await this.jobs.schedule(HOUSEKEEPING, '17 * * * *', {}, 'UTC');
  }

  /**
   * Imports whose process died mid-run (a restart, a crash) would show "running" for ever: one queued or
   * running without a live job in the queue, older than a run in a request could take, is marked failed
   * (its committed batches stay, and undo still knows them). Uploaded files are removed KEEP_FILES_DAYS
   * after their last run — the error file is read from them — or after upload when never run.
   */
  async housekeeping(now = new Date()): Promise<{ lost: number; removed: number }> {
    const error = (lang: Lang) =>
      JSON.stringify({
        path: '',
        code: 'import_interrupted',
        message: t(
          lang,
          'The import stopped when its server process ended; what was committed before it stays (undo it if needed)',
          '导入因服务器进程结束而中断；此前已提交的数据保留（如需可撤销）',
        ),
      });
    const lost = await this.database.rows<{ id: string }>(sql`
      update imports.imports i set state = 'failed', finished_at = ${now.toISOString()}::timestamptz,
        error = case when i.options->>'lang' = 'zh-CN' then ${error('zh-CN')}::jsonb else ${error('en')}::jsonb end
      where i.state in ('queued', 'running')
        and coalesce(i.started_at, i.created_at) < ${now.toISOString()}::timestamptz - make_interval(mins => ${LOST_AFTER_MINUTES})
        and not exists (select 1 from jobs.job j where j.name = ${QUEUE} and j.data->>'id' = i.id::text
                          and j.state in ('created', 'retry', 'active'))
      returning i.id`);
    for (const { id } of lost) this.live.delete(id);
    const stale = await this.database.rows<{ id: string; file_path: string; archive: string | null }>(sql`
      select id, file_path, file->>'archive' as archive from imports.imports
      where file_removed_at is null and state not in ('queued', 'running')
        and coalesce(finished_at, created_at) < ${now.toISOString()}::timestamptz - make_interval(days => ${KEEP_FILES_DAYS})`);
    for (const row of stale) {
      await rm(row.file_path, { force: true });
      if (row.archive) await rm(row.archive, { force: true });
      await this.database.db.execute(sql`update imports.imports set file_removed_at = now() where id = ${row.id}`);
    }
    return { lost: lost.length, removed: stale.length };
  }

  /** 410 when the uploaded file is gone (removed by housekeeping): it must be uploaded again. */
  private assertFileKept(record: ImportRecord, lang: Lang) {
    if (record.file_removed_at)
      throw new AppError(
        410,
        'import_file_removed',
        t(
          lang,
          `The uploaded file was removed ${KEEP_FILES_DAYS} days after its last use; upload it again`,
          `上传的文件已在最后一次使用 ${KEEP_FILES_DAYS} 天后删除，请重新上传`,
        ),
      );
  }

  private guardFor(ctx: OperationContext, entityName: string) {
    const entity = this.data.entity(entityName);
    const guard = this.data.guard(ctx);
    guard.assertCan(entity, 'import');
    return { entity, guard };
  }

  // ── upload ──

  async upload(ctx: OperationContext, entityName: string, source: AsyncIterable<Uint8Array>, fileName?: string, sheet?: string) {
    const { entity, guard } = this.guardFor(ctx, entityName);
    const saved = await saveUpload(this.dir, source, this.maxBytes, ctx.lang);
    let path = saved.path;
    try {
      let info = await detect(saved.path, ctx.lang);
      if (info.format === 'xlsx') {
        // A ZIP: an XLSX workbook, or an archive of one table and the files its file columns name.
        const archive = await Archive.open(saved.path, ctx.lang);
        try {
          if (!archive.isWorkbook()) {
            const table = archive.table(ctx.lang);
            path = `${saved.path}.table`;
            await archive.extract(table, path, this.maxBytes, ctx.lang);
            info = { ...(await detect(path, ctx.lang)), archive: saved.path, table };
          }
        } finally {
          archive.close();
        }
      }
      if (info.format === 'xlsx') info.sheets = await sheetNames(path).catch(() => []);
      const { header, sample } = await preview(path, info, ctx.lang, sheet);
      const templates = await this.mappings(ctx, entityName);
      const suggested = suggest(entity, header, writableBy(guard, entity));
      await this.database.db.execute(sql`
        insert into imports.imports (id, entity, actor, file_name, file_path, file_size, file, header, state)
        values (${saved.id}, ${entity.name}, ${ctx.principal?.userId ?? null}, ${fileName ?? null}, ${path}, ${saved.size},
                ${JSON.stringify(info)}::jsonb, ${JSON.stringify(header)}::jsonb, 'uploaded')`);
      return {
        ...(await this.get(ctx, entityName, saved.id)),
        sample: sample.map((r) => r.cells.map((c) => (c instanceof Date ? c.toISOString() : c))),
        mapping: suggested,
        targets: targets(entity).map((f) => ({ name: f.name, label: f.label[ctx.lang] })),
        // How existing records are found and the default mode, for the wizard to say so.
        match: (entity.doc.import?.match ?? []).map((m) => m.fields.map((f) => entity.field(f)?.doc.label[ctx.lang] ?? f)),
        mode: entity.doc.import?.mode ?? 'insert',
        templates,
      };
    } catch (e) {
      await rm(saved.path, { force: true });
      await rm(path, { force: true });
      throw e;
    }
  }

  // ── start a run ──

  async start(ctx: OperationContext, entityName: string, body: unknown) {
    const { entity, guard } = this.guardFor(ctx, entityName);
    const input = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
    const lang = ctx.lang;
    const id = input.file;
    if (typeof id !== 'string')
      throw badRequest('invalid_body', t(lang, 'Name the uploaded file ("file")', '请指定已上传的文件（file）'), [
        { path: '/file', code: 'required', message: 'required' },
      ]);
    const record = await this.load(ctx, entityName, id);
    this.assertFileKept(record, lang);
    if (record.state === 'queued' || record.state === 'running')
      throw conflict('import_running', t(lang, 'This import is already running', '该导入正在进行中'));
    if (record.committed)
      throw conflict(
        'import_done',
        t(lang, 'This file was imported already; upload it again to import it again', '该文件已导入；如需再次导入请重新上传'),
      );
    const mode = (input.mode ?? entity.doc.import?.mode ?? 'insert') as ImportMode;
    if (!['insert', 'update', 'upsert'].includes(mode))
      throw badRequest('invalid_body', t(lang, 'mode is insert, update or upsert', 'mode 须为 insert、update 或 upsert'), [
        { path: '/mode', code: 'enum', message: 'insert | update | upsert' },
      ]);
    const timeZone = typeof input.timeZone === 'string' ? input.timeZone : 'Asia/Shanghai';
    if (!isTimeZone(timeZone))
      throw badRequest('invalid_body', t(lang, `Unknown time zone ${timeZone}`, `未知时区 ${timeZone}`), [
        { path: '/timeZone', message: 'unknown' },
      ]);
    const sheet = typeof input.sheet === 'string' ? input.sheet : undefined;
    if (sheet !== undefined && record.file.format === 'xlsx') {
      // Another sheet than the one previewed: its own header row.
      record.header = (await preview(record.file_path, record.file, lang, sheet, 0)).header;
      await this.database.db.execute(
        sql`update imports.imports set header = ${JSON.stringify(record.header)}::jsonb where id = ${id}`,
      );
    }
    let mapping = input.mapping as Mapping | undefined;
    if (typeof input.template === 'string') {
      const template = (await this.mappings(ctx, entityName)).find((m) => m.id === input.template || m.name === input.template);
      if (!template)
        throw badRequest('unknown_template', t(lang, 'No such mapping template', '没有这个映射模板'), [
          { path: '/template', message: 'unknown' },
        ]);
      mapping = template.mapping;
    }
    if (mapping !== undefined && (typeof mapping !== 'object' || mapping === null || Array.isArray(mapping)))
      throw badRequest('invalid_mapping', t(lang, 'The mapping is an object of column → field', '映射应为“列 → 字段”的对象'), [
        { path: '/mapping', message: 'object' },
      ]);
    mapping ??= suggest(entity, record.header, writableBy(guard, entity));
    bind(entity, record.header, mapping, guard, lang);
    if (mode !== 'insert' && !guard.can(entity, 'update') && !guard.can(entity, 'create'))
      throw new AppError(
        403,
        'forbidden',
        t(lang, `You may not change ${entity.label.en} records`, `您无权修改${entity.label['zh-CN']}`),
      );
    if (typeof input.saveTemplate === 'string' && input.saveTemplate.trim())
      await this.saveMapping(ctx, entityName, { name: input.saveTemplate, mapping });
    const options: ImportOptions = {
      mapping,
      mode,
      dryRun: input.dryRun === true,
      atomic: input.atomic !== false,
      automations: input.automations !== false,
      sheet,
      timeZone,
      lang,
    };
    await this.database.db.execute(sql`
      update imports.imports set options = ${JSON.stringify(options)}::jsonb, state = 'queued', dry_run = ${options.dryRun},
        committed = null, counts = '{}', error = null, started_at = null, finished_at = null where id = ${id}`);
    const inline = input.async !== true && record.file_size <= INLINE_BYTES;
    if (inline) await this.run(id);
    else await this.jobs.send(QUEUE, { id });
    return { inline, import: await this.get(ctx, entityName, id) };
  }

  // ── a run (in the request, or as a job) ──

  async run(id: string) {
    const [record] = await this.database.rows<ImportRecord>(sql`select * from imports.imports where id = ${id}`);
    if (!record?.options || record.state !== 'queued') return;
    const options = record.options;
    const counts = zero();
    const progress = { bytes: 0, counts };
    this.live.set(id, progress);
    await this.database.db.execute(sql`update imports.imports set state = 'running', started_at = now() where id = ${id}`);
    await this.database.db.execute(sql`delete from imports.rows where import_id = ${id}`);
    let committed = false;
    let archive: Archive | null = null;
    /** Keys this run put into the file storage; those no record kept are removed after each transaction. */
    const stored: string[] = [];
    try {
      const principal = record.actor ? await loadPrincipal(this.database, this.data.model(), record.actor) : null;
      if (record.actor && !principal)
        throw new AppError(403, 'forbidden', t(options.lang, 'The importing user is no longer active', '导入用户已不再有效'));
      const ctx: OperationContext = {
        principal: principal ?? null,
        privileged: !record.actor,
        lang: options.lang,
        automations: options.automations,
      };
      const { entity, guard } = this.guardFor(ctx, record.entity);
      const bindings = bind(entity, record.header, options.mapping, guard, options.lang);
      const note = `import:${id}`;
      // File columns: their files come out of the upload's archive, one batch at a time.
      const files = fileBindings(entity, bindings);
      archive = files.length && record.file.archive ? await Archive.open(record.file.archive, options.lang) : null;
      const attach = {
        storage: this.storage,
        entity,
        archive,
        dryRun: options.dryRun,
        userId: record.actor,
        lang: options.lang,
        stored,
      };
      const outcomes: { line: number; outcome: string; errors: unknown }[] = [];
      const flush = async (tx: Db) => {
        for (let i = 0; i < outcomes.length; i += 1000) {
          const chunk = outcomes.slice(i, i + 1000);
          await tx.execute(sql`insert into imports.rows (import_id, line, outcome, errors)
            select ${id}, line, outcome, errors from jsonb_to_recordset(${JSON.stringify(chunk)}::jsonb) as r(line integer, outcome text, errors jsonb)`);
        }
        outcomes.length = 0;
      };
      let batchNo = 0;
      const matchColumns = [...new Set(matchRules(entity).flat())].map((f) => `"${entity.columns[f]!.name}"`).join(', ');
      const batch = async (tx: Db, [rows, converted]: [SourceRow[], ImportRow[]]) => {
        // A table an import is filling has no statistics for its new rows (and in one long transaction
        // autovacuum never sees them): without them PostgreSQL plans each batch's match look-up as a scan
        // of the whole table, quadratic over the file. ANALYZE (allowed in a transaction, and it counts the
        // transaction's own rows) at 4, 8, 16, 32 … batches keeps the look-up an index scan. Only the
        // columns the look-ups filter on: the others' statistics cost time and change no plan here.
        // The look-up probes the index for each of a batch's 1,000 keys; at the default random_page_cost
        // (4, a spinning disk's seek) PostgreSQL prices that above reading the whole table, which is ten
        // times slower here (19 ms against 2 per batch at 90,000 rows): the pages were just written and
        // are in memory. Priced as memory and SSDs are, the look-up stays an index scan.
        await tx.execute(sql`set local random_page_cost = 1.1`);
        batchNo++;
        if (batchNo >= 4 && (batchNo & (batchNo - 1)) === 0 && matchColumns)
          await tx.execute(sql.raw(`analyze ${tableText(entity)} (${matchColumns})`));
        await resolveReferences(this.data, tx, ctx, entity, bindings, converted);
        if (files.length) await attachFiles({ ...attach, tx }, files, converted);
        const results = await importBatch(this.data, ctx, record.entity, converted, { mode: options.mode, note }, tx);
        results.forEach((r, i) => {
          counts.rows++;
          counts[r.outcome]++;
          if (r.outcome !== 'create' && r.outcome !== 'update' && counts.error + counts.skip <= MAX_STORED_ROWS)
            outcomes.push({ line: r.line, outcome: r.outcome, errors: describe(r, rows[i]!, bindings, entity.name) });
        });
      };
      const convert = (rows: SourceRow[]): [SourceRow[], ImportRow[]] => [
        rows,
        convertRows(entity, bindings, rows, options, this.data.model().dictionaries, options.lang),
      ];
      const single = options.dryRun || options.atomic;
      const source = readRows(record.file_path, record.file, options.lang, options.sheet, progress);
      const header = await source.next(); // the header row
      if (header.done) throw badRequest('no_header', t(options.lang, 'The file has no header row', '文件没有标题行'));
      if (single) {
        try {
          await this.database.db.transaction(async (tx) => {
            for await (const rows of ahead(batches(source), convert)) await batch(tx, rows);
            if (options.dryRun || counts.error > 0) throw new Rollback();
          });
          committed = true;
        } catch (e) {
          if (!(e instanceof Rollback)) throw e;
        }
        await dropUnbound(this.database.db, this.storage, stored);
        await flush(this.database.db);
      } else {
        for await (const rows of ahead(batches(source), convert)) {
          await this.database.db.transaction(async (tx) => {
            await batch(tx, rows);
            await flush(tx);
          });
          await dropUnbound(this.database.db, this.storage, stored);
          if (counts.create + counts.update) committed = true;
          await this.database.db.execute(
            sql`update imports.imports set counts = ${JSON.stringify(counts)}::jsonb where id = ${id}`,
          );
        }
      }
      await this.database.db.execute(sql`
        update imports.imports set state = 'done', committed = ${committed && !options.dryRun}, counts = ${JSON.stringify(counts)}::jsonb,
          finished_at = now() where id = ${id}`);
      if (committed && !options.dryRun) this.data.committed(record.entity);
    } catch (e) {
      const error =
        e instanceof AppError
          ? { path: '', code: e.code, message: e.message, ...(e.details.length ? { details: e.details } : {}) }
          : {
              path: '',
              code: 'internal_error',
              message: t(options.lang, 'The import stopped on a server error', '导入因服务器错误而中止'),
            };
      if (!(e instanceof AppError)) logFailure(`import ${id}`, e);
      await this.database.db.execute(sql`
        update imports.imports set state = 'failed', committed = ${committed}, counts = ${JSON.stringify(counts)}::jsonb,
          error = ${JSON.stringify(error)}::jsonb, finished_at = now() where id = ${id}`);
    } finally {
      this.live.delete(id);
      archive?.close();
      await dropUnbound(this.database.db, this.storage, stored).catch((e) => logFailure(`import ${id}: removing files`, e));
    }
  }

  // ── reading results ──

  private async load(ctx: OperationContext, entityName: string, id: string): Promise<ImportRecord> {
    this.guardFor(ctx, entityName);
    const none = notFound('import_not_found', t(ctx.lang, 'No such import', '没有这个导入'));
    if (!UUID.test(id)) throw none;
    const [record] = await this.database.rows<ImportRecord>(
      sql`select * from imports.imports where id = ${id} and entity = ${entityName} and actor is not distinct from ${ctx.principal?.userId ?? null}`,
    );
    if (!record) throw none;
    return record;
  }

  /** An import as the API shows it: file, options, state, counts and progress (0–1). */
  async get(ctx: OperationContext, entityName: string, id: string) {
    const r = await this.load(ctx, entityName, id);
    const live = this.live.get(id);
    const counts = live?.counts ?? r.counts;
    const done = r.state === 'done' || r.state === 'undone' || r.state === 'failed';
    return {
      id: r.id,
      entity: r.entity,
      fileName: r.file_name,
      size: Number(r.file_size),
      format: r.file.format,
      encoding: r.file.encoding,
      sheets: r.file.sheets,
      // a .zip upload: the table inside it (its other entries are the files file columns name)
      archive: r.file.table ? { table: r.file.table } : null,
      header: r.header,
      state: r.state,
      dryRun: r.dry_run,
      committed: r.committed,
      options: r.options ? { ...r.options, lang: undefined } : null,
      counts: { ...zero(), ...counts },
      progress: done ? 1 : live ? Math.min(0.99, live.bytes / Math.max(1, Number(r.file_size))) : 0,
      error: r.error,
      createdAt: new Date(r.created_at).toISOString(),
      startedAt: r.started_at ? new Date(r.started_at).toISOString() : null,
      finishedAt: r.finished_at ? new Date(r.finished_at).toISOString() : null,
    };
  }

  /** The rows of the last run that were refused or skipped, with column, value and message. */
  async rows(ctx: OperationContext, entityName: string, id: string, query: Record<string, string | undefined>) {
    await this.load(ctx, entityName, id);
    const limit = Math.min(Math.max(Number(query.limit ?? 100) || 100, 1), 1000);
    const offset = Math.max(Number(query.offset ?? 0) || 0, 0);
    const outcome = query.outcome;
    if (outcome !== undefined && outcome !== 'error' && outcome !== 'skip')
      throw badRequest('invalid_parameter', 'outcome is error or skip', [{ path: '/query/outcome', message: 'error | skip' }]);
    const rows = await this.database.rows<{ line: number; outcome: string; errors: unknown }>(sql`
      select line, outcome, errors from imports.rows where import_id = ${id} ${outcome ? sql`and outcome = ${outcome}` : sql``}
      order by line limit ${limit} offset ${offset}`);
    return rows;
  }

  /**
   * The error file: the original columns of every refused row, plus a column saying what is wrong
   * (column: message; …) — correct it and import it again. In the upload's format: CSV (UTF-8 with a
   * byte-order mark, what Excel opens in Chinese) or XLSX (a streamed workbook: the rows are never all
   * in memory); `format` asks for the other.
   */
  async errorFile(
    ctx: OperationContext,
    entityName: string,
    id: string,
    asked?: string,
  ): Promise<{ format: 'csv' | 'xlsx'; stream: ReadableStream<Uint8Array> }> {
    const record = await this.load(ctx, entityName, id);
    this.assertFileKept(record, ctx.lang);
    if (asked !== undefined && asked !== 'csv' && asked !== 'xlsx') {
      const message = t(ctx.lang, 'format must be csv or xlsx', 'format 须为 csv 或 xlsx');
      throw badRequest('invalid_parameter', message, [{ path: '/query/format', code: 'invalid_parameter', message }]);
    }
    const format = (asked ?? (record.file.format === 'xlsx' ? 'xlsx' : 'csv')) as 'csv' | 'xlsx';
    const errors = new Map(
      (
        await this.database.rows<{ line: number; errors: { column?: string; message: string }[] }>(
          sql`select line, errors from imports.rows where import_id = ${id} and outcome = 'error'`,
        )
      ).map((r) => [Number(r.line), r.errors]),
    );
    const lang = ctx.lang;
    const errorsHeader = t(lang, 'Errors', '错误信息');
    /** The header, then each refused row as it was with what is wrong. */
    async function* lines() {
      const rows = readRows(record.file_path, record.file, lang, record.options?.sheet);
      let first = true;
      try {
        for await (const { line, cells } of rows) {
          if (first) {
            first = false;
            yield [...cells, errorsHeader];
            continue;
          }
          const found = errors.get(line);
          if (found) yield [...cells, found.map((e) => (e.column ? `${e.column}: ${e.message}` : e.message)).join('; ')];
        }
      } finally {
        await rows.return(undefined);
      }
    }
    if (format === 'xlsx') return { format, stream: xlsxStream(lines(), t(lang, 'Errors', '错误行')) };
    const encoder = new TextEncoder();
    const source = lines();
    let first = true;
    return {
      format,
      stream: new ReadableStream<Uint8Array>({
        async pull(controller) {
          const next = await source.next();
          if (next.done) return controller.close();
          const values = next.value.map((c) => (c instanceof Date ? c.toISOString().slice(0, 10) : c));
          controller.enqueue(encoder.encode(`${first ? '\uFEFF' : ''}${values.map(csvCell).join(',')}\r\n`));
          first = false;
        },
        async cancel() {
          await source.return(undefined);
        },
      }),
    };
  }

  // ── undo ──

  /**
   * Undoes a committed import while none of its records has changed since: created records go to the
   * recycle bin, updated ones get their earlier values back — audited, in one transaction.
   */
  async undo(ctx: OperationContext, entityName: string, id: string) {
    const record = await this.load(ctx, entityName, id);
    const { entity, guard } = this.guardFor(ctx, entityName);
    const lang = ctx.lang;
    if (record.state !== 'done' || !record.committed)
      throw conflict('not_undoable', t(lang, 'Only a committed import can be undone', '只能撤销已提交的导入'));
    const note = `import:${id}`;
    const entries = await this.database.rows<{
      record_id: string;
      version: number;
      action: string;
      changes: Record<string, [unknown, unknown]>;
    }>(sql`
      select record_id, version, action, changes from audit.log where note = ${note} and entity = ${entity.name} order by id`);
    const ids = [...new Set(entries.map((e) => e.record_id))];
    const undoNote = `undo ${note}`;
    await this.database.db.transaction(async (tx) => {
      const current = new Map<string, Record<string, unknown>>();
      for (let i = 0; i < ids.length; i += 5000) {
        const rows = (await tx
          .select({ ...entity.columns } as never)
          .from(entity.table)
          .where(sql`${entity.columns.id} = any(${sql.param(ids.slice(i, i + 5000))}::uuid[])`)) as Record<string, unknown>[];
        for (const r of rows) current.set(r.id as string, r);
      }
      const changed = entries.filter((e) => {
        const now = current.get(e.record_id);
        return !now || now.deleted_at !== null || Number(now.version) !== Number(e.version);
      });
      if (changed.length)
        throw conflict(
          'changed_since_import',
          t(
            lang,
            `${changed.length} of the imported records were changed since; the import can no longer be undone`,
            `导入的记录中有 ${changed.length} 条此后已被修改，无法撤销`,
          ),
          changed
            .slice(0, 20)
            .map((e) => ({ path: pointer(e.record_id), code: 'changed', message: t(lang, 'changed since', '已被修改') })),
        );
      const created = entries.filter((e) => e.action === 'create').map((e) => e.record_id);
      if (created.length) {
        guard.assertCan(entity, 'delete');
        const audit: AuditEntry[] = [];
        for (let i = 0; i < created.length; i += 5000)
          await softDelete(this.data, tx, entity, created.slice(i, i + 5000), new Date(), ctx, guard.userId, audit);
        await writeAudit(
          tx,
          audit.map((a) => ({ ...a, note: undoNote })),
        );
        await this.data.hooks.afterRemove(tx, entity, created);
      }
      for (const e of entries.filter((x) => x.action !== 'create')) {
        const before = Object.fromEntries(Object.entries(e.changes).map(([k, [from]]) => [k, from]));
        const now = current.get(e.record_id)!;
        const api = Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]));
        await applyUpdate(this.data, tx, ctx, entity, api, before, Number(now.version), { action: 'revert', note: undoNote });
      }
      await tx.execute(sql`update imports.imports set state = 'undone' where id = ${id}`);
    });
    this.data.committed(entity.name);
    return this.get(ctx, entityName, id);
  }

  // ── mapping templates (per entity, shared by everyone who may import it) ──

  async mappings(ctx: OperationContext, entityName: string) {
    this.guardFor(ctx, entityName);
    const rows = await this.database.rows<{ id: string; name: string; mapping: Mapping; created_at: string }>(sql`
      select id, name, mapping, created_at from imports.mappings where entity = ${entityName} order by name`);
    return rows.map((r) => ({ id: r.id, name: r.name, mapping: r.mapping }));
  }

  async saveMapping(ctx: OperationContext, entityName: string, body: unknown) {
    this.guardFor(ctx, entityName);
    const input = (body ?? {}) as { name?: unknown; mapping?: unknown };
    const lang = ctx.lang;
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    const details: ErrorDetail[] = [];
    if (!name || name.length > 100)
      details.push({
        path: '/name',
        code: 'required',
        message: t(lang, 'a name of 1 to 100 characters', '1 至 100 个字符的名称'),
      });
    const mapping = input.mapping;
    if (
      typeof mapping !== 'object' ||
      mapping === null ||
      Array.isArray(mapping) ||
      Object.values(mapping).some((v) => v !== null && typeof v !== 'string')
    )
      details.push({ path: '/mapping', code: 'type', message: t(lang, 'an object of column → field', '“列 → 字段”的对象') });
    if (details.length) throw badRequest('invalid_body', t(lang, 'The template is not valid', '模板无效'), details);
    const id = uuidv7();
    const [row] = await this.database.rows<{ id: string }>(sql`
      insert into imports.mappings (id, entity, name, mapping, created_by)
      values (${id}, ${entityName}, ${name}, ${JSON.stringify(mapping)}::jsonb, ${ctx.principal?.userId ?? null})
      on conflict (entity, name) do update set mapping = excluded.mapping returning id`);
    return { id: row!.id, name, mapping: mapping as Mapping };
  }

  async deleteMapping(ctx: OperationContext, entityName: string, id: string) {
    this.guardFor(ctx, entityName);
    if (!UUID.test(id)) throw notFound('template_not_found', t(ctx.lang, 'No such template', '没有这个模板'));
    const rows = await this.database.rows(
      sql`delete from imports.mappings where id = ${id} and entity = ${entityName} returning id`,
    );
    if (!rows.length) throw notFound('template_not_found', t(ctx.lang, 'No such template', '没有这个模板'));
    return { id };
  }
}

/** Whether the caller may write a field (what a suggested mapping offers). */
const writableBy = (guard: Guard, entity: CompiledEntity) => (field: string) => {
  try {
    guard.assertWritable(entity, [field]);
    return true;
  } catch {
    return false;
  }
};

/**
 * A batch stream read one batch ahead: the next batch is parsed and converted (`prepare`, CPU in this
 * process) while the current one waits for the database, instead of one after the other.
 */
async function* ahead<T, U>(source: AsyncGenerator<T>, prepare: (value: T) => U): AsyncGenerator<U> {
  const next = () => source.next().then((r) => (r.done ? null : { value: prepare(r.value) }));
  let pending = next();
  try {
    for (;;) {
      const current = await pending;
      if (!current) return;
      pending = next();
      pending.catch(() => {}); // surfaced when awaited; not unhandled if the consumer stops first
      yield current.value;
    }
  } finally {
    await pending.catch(() => {});
    await source.return(undefined);
  }
}

/** Rows in batches of BATCH from a row stream. */
async function* batches(rows: AsyncIterator<SourceRow>): AsyncGenerator<SourceRow[]> {
  let batch: SourceRow[] = [];
  for (;;) {
    const next = await rows.next();
    if (next.done) break;
    batch.push(next.value);
    if (batch.length >= BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

/** A row result's errors with the column they came from and the value in it. */
function describe(result: RowResult, row: SourceRow, bindings: Binding[], _entity: string) {
  return (result.errors ?? []).map((e) => {
    const field = e.path.split('/')[1] ?? '';
    const binding = bindings.find((b) => b.field === field);
    const value = binding ? row.cells[binding.index] : undefined;
    return {
      ...(binding ? { column: binding.column } : {}),
      ...(field ? { field } : {}),
      ...(value !== undefined && value !== null ? { value: value instanceof Date ? value.toISOString() : value } : {}),
      code: e.code,
      message: e.message,
    };
  });
}

/** Rows written as an XLSX workbook as they come, streamed (exceljs' streaming writer). */
function xlsxStream(rows: AsyncGenerator<unknown[]>, sheetName: string): ReadableStream<Uint8Array> {
  const out = new PassThrough();
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true });
  const sheet = workbook.addWorksheet(sheetName);
  void (async () => {
    try {
      let header = true;
      for await (const values of rows) {
        const row = sheet.addRow(values.map((v) => (v === null || v === undefined ? null : v)));
        if (header) row.font = { bold: true };
        header = false;
        row.commit();
      }
      sheet.commit();
      await workbook.commit();
    } catch (e) {
      out.destroy(e as Error);
    }
  })();
  return Readable.toWeb(out) as ReadableStream<Uint8Array>;
}
