/**
 * From spreadsheet cells to the values fields take: numbers with thousands separators and currency
 * signs, dates as people type them in China (2026/11/27, 2026年11月27日, 2026.11.27) or as Excel
 * serial numbers, yes/no in both languages, dictionary values by code or label, references by a
 * unique field of the target (an account by name or archive number, a user by login or name) — resolved
 * for a whole batch in one query per reference field, within the caller's read scope.
 */
import { and, inArray, isNull, or } from 'drizzle-orm';
import { pointer, type ErrorDetail } from '../errors.js';
import type { CompiledEntity, CompiledField } from '../model/compile.js';
import type { DictionaryDoc } from '../model/kinds/dictionary.js';
import { t, type Lang } from '../model/language.js';
import { UUID } from '../model/ids.js';
import type { Db } from '../db/database.js';
import type { DataService, OperationContext } from '../data/service.js';
import type { ImportRow } from '../data/operations/import.js';
import type { Cell, SourceRow } from './files.js';

/** A column of the file and the field it fills. */
export interface Binding {
  index: number;
  column: string;
  field: string;
}

export interface ConvertOptions {
  /** Wall-clock times without a zone are in this zone (default Asia/Shanghai). */
  timeZone: string;
}

class CellError extends Error {
  constructor(
    readonly en: string,
    readonly zh: string,
  ) {
    super(en);
  }
}
const bad = (en: string, zh: string) => new CellError(en, zh);

const isEmpty = (c: Cell) => c === null || (typeof c === 'string' && c.trim() === '');
const text = (c: Cell) => (c instanceof Date ? c.toISOString() : String(c)).trim();

function toNumber(c: Cell): number {
  if (typeof c === 'number') return c;
  if (typeof c === 'boolean' || c instanceof Date) throw bad('must be a number', '必须是数字');
  const s = text(c)
    .replace(/[,，\s]/g, '')
    .replace(/^[¥￥$]|元$/g, '');
  const n = s === '' ? Number.NaN : Number(s);
  if (!Number.isFinite(n)) throw bad('must be a number', '必须是数字');
  return n;
}

const TRUE = new Set(['true', 'yes', 'y', '1', '是', '对', '√', '✓', 't']);
const FALSE = new Set(['false', 'no', 'n', '0', '否', '不是', '×', '✗', 'f']);
function toBoolean(c: Cell): boolean {
  if (typeof c === 'boolean') return c;
  const s = text(c).toLowerCase();
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  throw bad('must be yes or no (是/否)', '必须是“是”或“否”');
}

const pad = (n: number) => String(n).padStart(2, '0');
/** Excel's serial day numbers (1900 date system, with its phantom 1900-02-29) to a date. */
const fromSerial = (serial: number) => new Date(Math.round((serial - 25569) * 86_400_000));

function validDay(y: number, m: number, d: number): string {
  const date = new Date(Date.UTC(y, m - 1, d));
  if (y < 1 || y > 9999 || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d)
    throw bad('is not a valid date', '不是有效的日期');
  return `${String(y).padStart(4, '0')}-${pad(m)}-${pad(d)}`;
}

const DAY = /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?/;

/** A date and, when written, a time of day ([y-m-d, 'hh:mm:ss' | undefined]). */
function dayAndTime(c: Cell): [string, string | undefined] {
  if (c instanceof Date) {
    const iso = c.toISOString();
    return [iso.slice(0, 10), iso.slice(11, 19) === '00:00:00' ? undefined : iso.slice(11, 19)];
  }
  if (typeof c === 'number' || /^\d{5}(\.\d+)?$/.test(text(c))) {
    const serial = typeof c === 'number' ? c : Number(text(c));
    if (serial < 1 || serial > 2_958_465) throw bad('is not a valid date', '不是有效的日期');
    const iso = fromSerial(serial).toISOString();
    return [iso.slice(0, 10), iso.slice(11, 19) === '00:00:00' ? undefined : iso.slice(11, 19)];
  }
  const s = text(c);
  const compact = /^(\d{4})(\d{2})(\d{2})$/.exec(s);
  const m = compact ?? DAY.exec(s);
  if (!m)
    throw bad(
      'is not a date (e.g. 2026-11-27, 2026/11/27, 2026年11月27日)',
      '不是日期（例如 2026-11-27、2026/11/27、2026年11月27日）',
    );
  const day = validDay(Number(m[1]), Number(m[2]), Number(m[3]));
  const rest = s.slice(m[0].length).replace(/^[T\s]+/, '');
  if (!rest) return [day, undefined];
  const time = /^(\d{1,2})[:：时](\d{1,2})(?:[:：分](\d{1,2}))?秒?$/.exec(rest);
  if (!time || Number(time[1]) > 23 || Number(time[2]) > 59 || Number(time[3] ?? 0) > 59)
    throw bad('has a time that cannot be read', '时间无法识别');
  return [day, `${pad(Number(time[1]))}:${pad(Number(time[2]))}:${pad(Number(time[3] ?? 0))}`];
}

/** A wall-clock time in a zone as an instant (the zone's offset at that moment, summer time included). */
function zoned(day: string, time: string, timeZone: string): string {
  const asUtc = Date.parse(`${day}T${time}Z`);
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(asUtc));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const shown = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return new Date(asUtc - (shown - asUtc)).toISOString();
}

function toDatetime(c: Cell, options: ConvertOptions): string {
  if (typeof c === 'string' && /[zZ]$|[+-]\d{2}:?\d{2}$/.test(c.trim()) && !Number.isNaN(Date.parse(c.trim())))
    return new Date(c.trim()).toISOString();
  const [day, time] = dayAndTime(c);
  // exceljs reads a date cell's wall time as if it were UTC; typed text is wall time too.
  return zoned(day, time ?? '00:00:00', options.timeZone);
}

/** A dictionary value by its code or its label in either language (case and spaces aside). */
function dictionaryValue(dictionary: DictionaryDoc | undefined, c: Cell): string {
  const s = text(c);
  const key = s.toLowerCase().replace(/\s+/g, '');
  const item = dictionary?.items.find(
    (i) =>
      i.value === s ||
      i.value.toLowerCase() === key ||
      i.label.en.toLowerCase().replace(/\s+/g, '') === key ||
      i.label['zh-CN'].replace(/\s+/g, '') === key,
  );
  if (!item) {
    const some = (dictionary?.items ?? []).slice(0, 6).map((i) => i.label['zh-CN']);
    throw bad(`is not one of the choices (${some.join(', ')}…)`, `不是可选值之一（${some.join('、')}…）`);
  }
  return item.value;
}

const SPLIT = /[,，;；、|\n]/;

/** One cell as the value of a field, or a CellError. References are left as text for resolveReferences. */
function convertCell(field: CompiledField, c: Cell, options: ConvertOptions, dictionaries: Map<string, DictionaryDoc>): unknown {
  const dictionary = field.doc.dictionary ? dictionaries.get(String(field.doc.dictionary)) : undefined;
  if (field.reference) return text(c);
  // A file column names files inside the uploaded archive: several separated by | or ; (engine/imports/attachments.ts).
  if (field.type.name === 'file')
    return text(c)
      .split(/[|;；\n]/)
      .map((s) => s.trim())
      .filter(Boolean);
  switch (field.kind) {
    case 'integer': {
      const n = toNumber(c);
      if (!Number.isInteger(n)) throw bad('must be a whole number', '必须是整数');
      return n;
    }
    case 'number':
      return toNumber(c);
    case 'boolean':
      return toBoolean(c);
    case 'date':
      return dayAndTime(c)[0];
    case 'datetime':
      return toDatetime(c, options);
    case 'text[]':
    case 'uuid[]':
      return text(c)
        .split(SPLIT)
        .map((s) => s.trim())
        .filter(Boolean)
        .map((s) => (dictionary ? dictionaryValue(dictionary, s) : s));
    case 'json':
      try {
        return JSON.parse(text(c));
      } catch {
        throw bad('is not valid JSON', '不是有效的 JSON');
      }
    default:
      return dictionary ? dictionaryValue(dictionary, c) : typeof c === 'number' ? String(c) : text(c);
  }
}

/** The file's rows as import rows: values by field, and an error per cell that cannot be read. */
export function convertRows(
  entity: CompiledEntity,
  bindings: Binding[],
  rows: SourceRow[],
  options: ConvertOptions,
  dictionaries: Map<string, DictionaryDoc>,
  lang: Lang,
): ImportRow[] {
  return rows.map((row) => {
    const values: Record<string, unknown> = {};
    const errors: ErrorDetail[] = [];
    for (const b of bindings) {
      const c = row.cells[b.index] ?? null;
      if (isEmpty(c)) continue;
      const field = fieldOf(entity, b.field);
      try {
        values[b.field] = field ? convertCell(field, c, options, dictionaries) : text(c);
      } catch (e) {
        if (!(e instanceof CellError)) throw e;
        errors.push({ path: pointer(b.field), code: 'invalid_value', message: t(lang, e.en, e.zh) });
      }
    }
    return { line: row.line, values, errors };
  });
}

/** The field behind a mapping target: a declared field, or the owner (a reference to a user). */
export function fieldOf(entity: CompiledEntity, name: string): CompiledField | undefined {
  if (name === 'owner_id')
    return {
      name,
      kind: 'uuid',
      reference: { to: 'user', onDelete: 'restrict' },
      doc: { name, type: 'reference', label: OWNER },
    } as CompiledField;
  return entity.field(name);
}
export const OWNER = { en: 'Owner', 'zh-CN': '负责人' };

/** The fields of a target that name one of its records, most specific first. */
export function keyFields(target: CompiledEntity): string[] {
  const unique = target.fields.filter((f) => (f.doc.unique || f.type.unique) && (f.kind === 'text' || f.kind === 'integer'));
  return [...new Set([...unique.map((f) => f.name), ...(target.titleField ? [target.titleField] : [])])];
}

/**
 * Reference cells (text) become ids: a cell may hold the id itself or the value of one of the target's
 * key fields — for a users field, several of them (usernames or display names). One query per
 * reference field for the whole batch, within the read scope of the caller.
 */
export async function resolveReferences(
  data: DataService,
  tx: Db,
  ctx: OperationContext,
  entity: CompiledEntity,
  bindings: Binding[],
  rows: ImportRow[],
) {
  const guard = data.guard(ctx);
  for (const b of bindings) {
    const field = fieldOf(entity, b.field);
    // A reference names one record; a users field (uuid[]) several users, split at , ， ; ； 、 by convertCell.
    const to = field?.reference?.to ?? (field?.type.userList ? 'user' : undefined);
    if (!field || !to) continue;
    const many = !field.reference;
    const target = data.entity(to);
    const keys = keyFields(target);
    const namesOf = (v: unknown): string[] =>
      many ? (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []) : typeof v === 'string' ? [v] : [];
    const wanted = [...new Set(rows.flatMap((r) => namesOf(r.values[b.field])))];
    if (!wanted.length) continue;
    const read = guard.optionalCondition(target, 'read');
    const ids = wanted.filter((v) => UUID.test(v));
    const found =
      read === false
        ? []
        : ((await tx
            .select({ id: target.columns.id, ...Object.fromEntries(keys.map((k) => [k, target.columns[k]!])) } as never)
            .from(target.table)
            .where(
              and(
                or(
                  ...(ids.length ? [inArray(target.columns.id, ids)] : []),
                  ...keys.map((k) =>
                    inArray(
                      target.columns[k]!,
                      target.field(k)?.kind === 'integer' ? wanted.map(Number).filter(Number.isInteger) : wanted,
                    ),
                  ),
                ),
                isNull(target.columns.deleted_at),
                read,
              ),
            )) as Record<string, unknown>[]);
    const label = target.label;
    for (const row of rows) {
      const names = namesOf(row.values[b.field]);
      if (!names.length) continue;
      const resolved: string[] = [];
      for (const v of names) {
        let hits: Record<string, unknown>[] = UUID.test(v) ? found.filter((r) => r.id === v) : [];
        for (const k of keys) {
          if (hits.length) break;
          hits = found.filter((r) => String(r[k]) === v);
        }
        if (hits.length === 1) {
          resolved.push(hits[0]!.id as string);
          continue;
        }
        // One error per name that names no one (or several): the row says which.
        row.errors.push({
          path: pointer(b.field),
          code: hits.length ? 'ambiguous_reference' : 'invalid_reference',
          message: hits.length
            ? t(
                ctx.lang,
                `${hits.length} ${label.en} records are called "${v}"`,
                `有 ${hits.length} 条${label['zh-CN']}都叫“${v}”`,
              )
            : t(ctx.lang, `No ${label.en} "${v}" that you may read`, `没有您可查看的${label['zh-CN']}“${v}”`),
        });
      }
      if (resolved.length === names.length) row.values[b.field] = many ? [...new Set(resolved)] : resolved[0];
      else delete row.values[b.field];
    }
  }
}
