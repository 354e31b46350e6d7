/**
 * Targets (指标管理): a `target` document names a report measure (contract amount, collected amount,
 * visits …), the date that places records in periods and whose records count for a person. Target
 * VALUES are data, not metadata — set per period (year, quarter, month, week) for the company, each
 * department and each person, in reports.target_values — because managers set them: a department
 * head sets the targets of the departments below theirs and of the people in their departments (and
 * of people who report to them), never their own; the company's need targets.manage.
 * Actuals come from the report engine as the viewer (so a rep sees their own actuals), with
 * attainment, gap and pacing (where the target says one should be by today). Parts that do not add
 * up to their whole (departments to the company, people to their department, quarters to the year,
 * months to the quarter) are flagged, or refused when the document says so.
 */
import { createRequire } from 'node:module';
import { sql } from 'drizzle-orm';
import { AppError, badRequest, notFound, pointer, unprocessable, type ErrorDetail } from '../errors.js';
import type { DocumentKindDefinition, DocumentSet, JsonSchema, MetadataDocument, RegistryView } from '../registry/types.js';
import type { DataService, OperationContext } from '../data/service.js';
import { UUID } from '../model/ids.js';
import { resolvePath } from './paths.js';
import { bucketLabel, bucketStart, parts, shiftBucket, today } from './dates.js';
import type { Bucket, ReportDoc } from './types.js';
import type { ReportService } from './service.js';

const require = createRequire(import.meta.url);
const targetSchema = require('./target.schema.json') as JsonSchema;

export type Period = 'year' | 'quarter' | 'month' | 'week';
export interface TargetDoc extends MetadataDocument {
  report: string;
  measure: string;
  dateField: string;
  ownerField?: string;
  periods?: Period[];
  decomposition?: 'flag' | 'refuse';
}
type Level = 'company' | 'department' | 'user';

export const TARGET_SQL = `
create schema if not exists reports;
create table if not exists reports.target_values (
  target text not null,
  level text not null check (level in ('company', 'department', 'user')),
  subject uuid,
  period text not null,
  period_start date not null,
  value numeric not null,
  updated_by uuid,
  updated_at timestamptz not null default now()
);
create unique index if not exists target_values_key on reports.target_values
  (target, level, coalesce(subject, '00000000-0000-0000-0000-000000000000'::uuid), period, period_start);
`;

const BUCKET: Record<Period, Bucket> = { year: 'fiscal_year', quarter: 'fiscal_quarter', month: 'month', week: 'week' };
const FINER: Partial<Record<Period, Period>> = { year: 'quarter', quarter: 'month' };

export const targetKind: DocumentKindDefinition = {
  kind: 'target',
  schema: () => targetSchema,
  check: (doc, all, registry) => checkTarget(doc as TargetDoc, all, registry),
};

function checkTarget(t: TargetDoc, all: DocumentSet, registry: RegistryView): ErrorDetail[] {
  const report = all.get<ReportDoc>('report', t.report);
  if (!report) return [{ path: '/report', code: 'unknown_report', message: `Report "${t.report}" does not exist` }];
  const errors: ErrorDetail[] = [];
  if (report.shape && report.shape !== 'summary' && report.shape !== 'matrix')
    errors.push({ path: '/report', code: 'invalid_report', message: 'Targets need a summary or matrix report' });
  const m = report.measures?.find((x) => x.name === t.measure);
  if (!m || m.derive)
    errors.push({
      path: '/measure',
      code: 'unknown_measure',
      message: `"${t.measure}" is not an aggregate measure of ${t.report}`,
    });
  const date = resolvePath(all, registry, report.entity, t.dateField);
  if (typeof date === 'string' || (date.kind !== 'date' && date.kind !== 'datetime'))
    errors.push({
      path: '/dateField',
      code: 'invalid_field',
      message: `"${t.dateField}" is not a date field of ${report.entity}`,
    });
  const owner = resolvePath(all, registry, report.entity, t.ownerField ?? 'owner_id');
  if (typeof owner === 'string' || owner.to !== 'user')
    errors.push({
      path: '/ownerField',
      code: 'invalid_field',
      message: `"${t.ownerField}" is not a user field of ${report.entity}`,
    });
  return errors;
}

interface Org {
  departments: Map<string, { id: string; parent: string | null; head: string | null; name: string }>;
  users: Map<string, { id: string; department: string | null; manager: string | null; name: string }>;
}
interface Value {
  level: Level;
  subject: string | null;
  period: Period;
  period_start: string;
  value: number;
}
export interface Issue {
  level: Level;
  subject: string | null;
  period: Period;
  period_start: string;
  expected: number;
  sum: number;
  parts: 'children' | Period;
  message: string;
}

const near = (a: number, b: number) => Math.abs(a - b) < 0.005;

export class TargetService {
  constructor(
    private readonly data: DataService,
    private readonly reports: ReportService,
  ) {}

  private doc(name: string, lang: 'en' | 'zh-CN') {
    const doc = this.data.model().documents.get<TargetDoc>('target', name);
    if (!doc) throw notFound('target_not_found', lang === 'zh-CN' ? `没有名为 ${name} 的指标` : `No target named ${name}`);
    return doc;
  }

  private async org(): Promise<Org> {
    const depts = await this.data.database.rows<{ id: string; parent: string | null; head: string | null; name: string }>(
      sql`select id::text, parent::text, head::text, name from "department" where deleted_at is null`,
    );
    const users = await this.data.database.rows<{ id: string; department: string | null; manager: string | null; name: string }>(
      sql`select id::text, department::text, manager::text, display_name as name from "user" where deleted_at is null`,
    );
    return { departments: new Map(depts.map((d) => [d.id, d])), users: new Map(users.map((u) => [u.id, u])) };
  }

  private async values(target: string): Promise<Value[]> {
    const rows = await this.data.database.rows<{
      level: Level;
      subject: string | null;
      period: Period;
      period_start: string;
      value: string | number;
    }>(
      sql`select level, subject::text, period, to_char(period_start, 'YYYY-MM-DD') as period_start, value::float8 as value from reports.target_values where target = ${target}`,
    );
    return rows.map((r) => ({ ...r, value: Number(r.value) }));
  }

  /** Departments a user heads (or acts for a head of), and everything below them. */
  private headed(ctx: OperationContext, org: Org) {
    const selves = new Set(ctx.principal?.selves ?? []);
    const roots = [...org.departments.values()].filter((d) => d.head && selves.has(d.head)).map((d) => d.id);
    const below = new Set<string>();
    const visit = (id: string) => {
      for (const d of org.departments.values()) {
        if (d.parent !== id || below.has(d.id)) continue;
        below.add(d.id);
        visit(d.id);
      }
    };
    roots.forEach(visit);
    return { roots: new Set(roots), below, selves };
  }

  /** May the caller set this value? (A manager: their subordinates' targets, not their own.) */
  private editable(ctx: OperationContext, org: Org, level: Level, subject: string | null, h = this.headed(ctx, org)): boolean {
    if (ctx.privileged || ctx.principal?.system.has('targets.manage')) return true;
    if (level === 'company') return false;
    if (level === 'department') return h.below.has(subject!);
    if (h.selves.has(subject!)) return false;
    const u = org.users.get(subject!);
    return Boolean(
      u && ((u.manager && h.selves.has(u.manager)) || (u.department && (h.roots.has(u.department) || h.below.has(u.department)))),
    );
  }

  /** Parts that do not add up: children to their parent per period, finer periods to coarser ones per subject. */
  issues(values: Value[], org: Org, doc: TargetDoc, lang: 'en' | 'zh-CN'): Issue[] {
    const out: Issue[] = [];
    const key = (v: Pick<Value, 'level' | 'subject' | 'period' | 'period_start'>) =>
      `${v.level}|${v.subject}|${v.period}|${v.period_start}`;
    const byKey = new Map(values.map((v) => [key(v), v]));
    const childrenOf = (level: Level, subject: string | null): [Level, string][] => {
      if (level === 'company')
        return [...org.departments.values()]
          .filter((d) => !d.parent || !org.departments.has(d.parent))
          .map((d) => ['department', d.id]);
      if (level === 'department')
        return [
          ...[...org.departments.values()].filter((d) => d.parent === subject).map((d): [Level, string] => ['department', d.id]),
          ...[...org.users.values()].filter((u) => u.department === subject).map((u): [Level, string] => ['user', u.id]),
        ];
      return [];
    };
    const zh = lang === 'zh-CN';
    for (const v of values) {
      const kids = childrenOf(v.level, v.subject)
        .map(([level, subject]) => byKey.get(key({ level, subject, period: v.period, period_start: v.period_start })))
        .filter((x): x is Value => Boolean(x));
      if (kids.length) {
        const sum = kids.reduce((s, k) => s + k.value, 0);
        if (!near(sum, v.value))
          out.push({
            ...pick(v),
            expected: v.value,
            sum,
            parts: 'children',
            message: zh ? `下级指标合计 ${sum}，不等于 ${v.value}` : `The parts below add up to ${sum}, not ${v.value}`,
          });
      }
      const finer = FINER[v.period];
      if (finer && (doc.periods ?? ['year', 'quarter', 'month']).includes(finer)) {
        const n = v.period === 'year' ? 4 : 3;
        const starts = Array.from({ length: n }, (_, i) => shiftBucket(v.period_start, BUCKET[finer], i));
        const found = starts
          .map((s) => byKey.get(key({ ...v, period: finer, period_start: s })))
          .filter((x): x is Value => Boolean(x));
        if (found.length) {
          const sum = found.reduce((s, k) => s + k.value, 0);
          if (!near(sum, v.value))
            out.push({
              ...pick(v),
              expected: v.value,
              sum,
              parts: finer,
              message: zh
                ? `各${finer === 'quarter' ? '季度' : '月'}指标合计 ${sum}，不等于 ${v.value}`
                : `The ${finer}s add up to ${sum}, not ${v.value}`,
            });
        }
      }
    }
    return out;
  }

  list(ctx: OperationContext) {
    return this.data
      .model()
      .documents.all<TargetDoc>('target')
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((t) => ({
        name: t.name,
        label: t.label[ctx.lang],
        report: t.report,
        measure: t.measure,
        periods: t.periods ?? ['year', 'quarter', 'month'],
        decomposition: t.decomposition ?? 'flag',
      }));
  }

  /** Targets of a (fiscal) year with actuals, attainment, gap and pacing, for the subjects the viewer's scope covers. */
  async get(ctx: OperationContext, name: string, query: Record<string, string | undefined>) {
    const doc = this.doc(name, ctx.lang);
    const report = this.data.model().documents.get<ReportDoc>('report', doc.report)!;
    const fiscal = report.fiscalYearStartMonth ?? 1;
    const tz = report.timeZone ?? 'UTC';
    const now = today(tz);
    const year = query.year === undefined ? Number(bucketStart(now, 'fiscal_year', fiscal).slice(0, 4)) : Number(query.year);
    if (!Number.isInteger(year) || year < 1900 || year > 2999)
      throw badRequest('invalid_parameter', 'year must be a year like 2026', [
        { path: '/query/year', code: 'invalid_parameter', message: 'a year' },
      ]);
    for (const k of Object.keys(query))
      if (k !== 'year')
        throw badRequest('unknown_parameter', `Unknown query parameter "${k}"`, [
          { path: `/query/${k}`, code: 'unknown_parameter', message: 'unknown' },
        ]);
    const from = `${year}-${String(fiscal).padStart(2, '0')}-01`;
    const to = shiftBucket(from, 'fiscal_year', 1);
    const periods = doc.periods ?? ['year', 'quarter', 'month'];
    const [org, values] = await Promise.all([this.org(), this.values(doc.name)]);

    // ── actuals, by the report engine as the viewer: per period, by person and by department tree ──
    const measure = report.measures!.find((m) => m.name === doc.measure)!;
    const owner = doc.ownerField ?? 'owner_id';
    const actual = new Map<string, number | null>();
    const base = {
      kind: 'report',
      label: report.label,
      roles: report.roles,
      entity: report.entity,
      filter: report.filter,
      parameters: report.parameters,
      timeZone: tz,
      fiscalYearStartMonth: fiscal,
      measures: [measure],
    };
    await Promise.all(
      periods.map(async (period) => {
        const time = { field: doc.dateField, bucket: BUCKET[period], range: { from, to }, fill: false };
        const [people, departments] = await Promise.all([
          this.reports.runDocument(
            ctx,
            { ...base, name: `${doc.name}_people`, dimensions: [time, { field: owner, name: 'subject' }] } as ReportDoc,
            {},
          ),
          this.reports.runDocument(
            ctx,
            {
              ...base,
              name: `${doc.name}_departments`,
              dimensions: [{ field: `${owner}.department`, name: 'subject', tree: true }, time],
            } as ReportDoc,
            {},
          ),
        ]);
        const timeName = doc.dateField;
        for (const r of people.rows) {
          if (r._level === 1) actual.set(`company||${period}|${r[timeName]}`, r[measure.name] as number | null);
          if (r._level === 2) actual.set(`user|${r.subject}|${period}|${r[timeName]}`, r[measure.name] as number | null);
        }
        for (const r of departments.rows)
          if (r._level === 2 && r.subject)
            actual.set(`department|${r.subject}|${period}|${r[timeName]}`, r[measure.name] as number | null);
      }),
    );

    // ── which subjects the viewer's scope covers ──
    const entity = this.data.entity(report.entity);
    const guard = this.data.guard(ctx);
    const scopes = guard.access(entity)?.scopes.read ?? ['all'];
    const p = ctx.principal;
    const span = scopes.includes('all')
      ? 'all'
      : scopes.includes('department_tree')
        ? 'tree'
        : scopes.includes('department')
          ? 'department'
          : 'own';
    const covers = (level: Level, subject: string | null) => {
      if (span === 'all') return true;
      if (level === 'company') return false;
      if (level === 'department')
        return span !== 'own' && (span === 'tree' ? p!.departmentTrees : p!.departments).includes(subject!);
      return (
        p!.selves.includes(subject!) ||
        (span !== 'own' && (span === 'tree' ? p!.treeMembers : p!.departmentMembers).includes(subject!))
      );
    };
    const h = this.headed(ctx, org);
    const rows = values
      .filter((v) => v.period_start >= from && v.period_start < to && covers(v.level, v.subject))
      .map((v) => {
        const end = shiftBucket(v.period_start, BUCKET[v.period], 1);
        const got = actual.get(`${v.level}|${v.subject ?? ''}|${v.period}|${v.period_start}`) ?? 0;
        const days = (a: string, b: string) => (Date.UTC(...ymd(b)) - Date.UTC(...ymd(a))) / 86_400_000;
        const elapsed = now < v.period_start ? 0 : now >= end ? 1 : (days(v.period_start, now) + 1) / days(v.period_start, end);
        const expected = v.value * elapsed;
        const label =
          v.level === 'company'
            ? ctx.lang === 'zh-CN'
              ? '公司'
              : 'Company'
            : v.level === 'department'
              ? org.departments.get(v.subject!)?.name
              : org.users.get(v.subject!)?.name;
        return {
          level: v.level,
          subject: v.subject,
          label: label ?? v.subject,
          period: v.period,
          period_start: v.period_start,
          period_label: bucketLabel(v.period_start, BUCKET[v.period], fiscal, ctx.lang),
          target: v.value,
          actual: got,
          attainment: v.value ? (got ?? 0) / v.value : null,
          gap: v.value - (got ?? 0),
          expected_to_date: expected,
          pacing: expected ? (got ?? 0) / expected : null,
          editable: this.editable(ctx, org, v.level, v.subject, h),
        };
      })
      .sort(
        (a, b) =>
          levelOrder(a.level) - levelOrder(b.level) ||
          String(a.label).localeCompare(String(b.label)) ||
          a.period.localeCompare(b.period) ||
          a.period_start.localeCompare(b.period_start),
      );
    const issues = this.issues(
      values.filter((v) => v.period_start >= from && v.period_start < to),
      org,
      doc,
      ctx.lang,
    ).filter((i) => covers(i.level, i.subject));
    return {
      target: {
        name: doc.name,
        label: doc.label[ctx.lang],
        measure: doc.measure,
        report: doc.report,
        decomposition: doc.decomposition ?? 'flag',
      },
      year,
      from,
      to,
      periods,
      rows,
      issues,
    };
  }

  /** Sets (value) or removes (null) target values, all or nothing; refuses what the caller may not set. */
  async set(ctx: OperationContext, name: string, body: unknown) {
    const doc = this.doc(name, ctx.lang);
    const report = this.data.model().documents.get<ReportDoc>('report', doc.report)!;
    const fiscal = report.fiscalYearStartMonth ?? 1;
    const periods = doc.periods ?? ['year', 'quarter', 'month'];
    const items = (body as { values?: unknown })?.values;
    if (!Array.isArray(items) || items.length === 0 || items.length > 1000)
      throw badRequest(
        'invalid_body',
        'Send { "values": [ { "level", "subject", "period", "period_start", "value" } … ] } (1 to 1000)',
      );
    const org = await this.org();
    const h = this.headed(ctx, org);
    const errors: ErrorDetail[] = [];
    const clean: (Omit<Value, 'value'> & { value: number | null })[] = [];
    items.forEach((raw, i) => {
      const at = (...p: string[]) => pointer('values', i, ...p);
      const v = raw as Record<string, unknown>;
      const level = v?.level as Level;
      if (!['company', 'department', 'user'].includes(level))
        return void errors.push({ path: at('level'), code: 'invalid_value', message: 'company, department or user' });
      const subject = level === 'company' ? null : (v.subject as string);
      if (
        level !== 'company' &&
        !(
          typeof subject === 'string' &&
          UUID.test(subject) &&
          (level === 'department' ? org.departments : org.users).has(subject)
        )
      )
        return void errors.push({ path: at('subject'), code: 'invalid_reference', message: `No ${level} with that id` });
      const period = v.period as Period;
      if (!periods.includes(period))
        return void errors.push({ path: at('period'), code: 'invalid_value', message: `one of ${periods.join(', ')}` });
      const start = v.period_start;
      if (typeof start !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(start) || bucketStart(start, BUCKET[period], fiscal) !== start)
        return void errors.push({ path: at('period_start'), code: 'invalid_value', message: `the first day of a ${period}` });
      const value = v.value;
      if (value !== null && !(typeof value === 'number' && Number.isFinite(value) && value >= 0 && value < 1e15))
        return void errors.push({ path: at('value'), code: 'invalid_value', message: 'a number ≥ 0, or null to remove' });
      if (!this.editable(ctx, org, level, subject, h)) {
        throw new AppError(
          403,
          'target_not_editable',
          ctx.lang === 'zh-CN'
            ? '您只能设置下属（下级部门与下属人员）的指标，不能设置自己的'
            : "You may set your subordinates' targets (departments below yours, people you manage), not your own",
          [{ path: at(), code: 'target_not_editable', message: 'not yours to set' }],
        );
      }
      clean.push({ level, subject, period, period_start: start, value: value as number | null });
    });
    if (errors.length)
      throw unprocessable(
        'validation_failed',
        ctx.lang === 'zh-CN' ? '指标数据无效，未做任何修改' : 'Invalid target values; nothing was written',
        errors,
      );

    return this.data.database.db.transaction(async (tx) => {
      for (const v of clean) {
        const key = sql`target = ${doc.name} and level = ${v.level} and subject is not distinct from ${v.subject}::uuid and period = ${v.period} and period_start = ${v.period_start}::date`;
        await tx.execute(sql`delete from reports.target_values where ${key}`);
        if (v.value !== null)
          await tx.execute(sql`insert into reports.target_values (target, level, subject, period, period_start, value, updated_by)
            values (${doc.name}, ${v.level}, ${v.subject}::uuid, ${v.period}, ${v.period_start}::date, ${v.value}, ${ctx.principal?.userId ?? null}::uuid)`);
      }
      const rows = await this.data.database.rows<{
        level: Level;
        subject: string | null;
        period: Period;
        period_start: string;
        value: number;
      }>(
        sql`select level, subject::text, period, to_char(period_start, 'YYYY-MM-DD') as period_start, value::float8 as value from reports.target_values where target = ${doc.name}`,
        tx,
      );
      const issues = this.issues(
        rows.map((r) => ({ ...r, value: Number(r.value) })),
        org,
        doc,
        ctx.lang,
      );
      if (doc.decomposition === 'refuse' && issues.length)
        throw unprocessable(
          'decomposition_mismatch',
          ctx.lang === 'zh-CN' ? '分解后的指标与上级不一致，未做任何修改' : 'The targets would not add up; nothing was written',
          issues.map((i) => ({
            path: `/${i.level}/${i.subject ?? ''}/${i.period}/${i.period_start}`,
            code: 'decomposition_mismatch',
            message: i.message,
          })),
        );
      return { written: clean.length, issues };
    });
  }
}

const pick = (v: Value) => ({ level: v.level, subject: v.subject, period: v.period, period_start: v.period_start });
const levelOrder = (l: Level) => (l === 'company' ? 0 : l === 'department' ? 1 : 2);
const ymd = (d: string) => {
  const [y, m, day] = parts(d);
  return [y, m - 1, day] as [number, number, number];
};
