/**
 * The `dashboard` document kind: a grid of widgets. Deploy checks: the reports, measures, entities,
 * roles and targets widgets name exist; charts and number cards name measures of their report; each
 * widget fits the grid and covers no other.
 */
import { createRequire } from 'node:module';
import { pointer, type ErrorDetail } from '../errors.js';
import type { DocumentKindDefinition, DocumentSet, JsonSchema } from '../registry/types.js';
import type { EntityDoc } from '../model/kinds/entity.js';
import { checkRule } from '../rules/check.js';
import { SYSTEM_FIELDS } from '../model/system-fields.js';
import type { DashboardDoc } from './dashboard-types.js';
import type { ReportDoc } from './types.js';

const require = createRequire(import.meta.url);
const dashboardSchema = require('./dashboard.schema.json') as JsonSchema;

export const dashboardKind: DocumentKindDefinition = {
  kind: 'dashboard',
  schema: () => dashboardSchema,
  check: (doc, all) => checkDashboard(doc as DashboardDoc, all),
};

const NEEDS_REPORT = new Set(['chart', 'table', 'number']);

/** Do two widgets placed on the grid (both with x and y) share a cell? Height defaults to 4 rows, as the page draws it. */
function overlap(a: DashboardDoc['widgets'][number], b: DashboardDoc['widgets'][number], width: number) {
  if (a.x === undefined || a.y === undefined || b.x === undefined || b.y === undefined) return false;
  const apart = (p: number, pl: number, q: number, ql: number) => p + pl <= q || q + ql <= p;
  return !apart(a.x, a.w ?? width, b.x, b.w ?? width) && !apart(a.y, a.h ?? 4, b.y, b.h ?? 4);
}

function checkDashboard(d: DashboardDoc, all: DocumentSet): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  const fail = (path: string, code: string, message: string) => errors.push({ path, code, message });
  const roles = new Set(all.all('role').map((r) => r.name));
  for (const key of ['roles', 'home'] as const)
    (d[key] ?? []).forEach((r, i) => roles.has(r) || fail(pointer(key, i), 'unknown_role', `Role "${r}" does not exist`));
  const width = d.columns ?? 12;
  const names = new Set<string>();
  d.widgets.forEach((w, i) => {
    const at = (...p: string[]) => pointer('widgets', i, ...p);
    if (names.has(w.name)) fail(at('name'), 'duplicate_name', `Widget "${w.name}" appears twice`);
    names.add(w.name);
    if ((w.x ?? 0) + (w.w ?? width) > width)
      fail(at('w'), 'invalid_layout', `The widget reaches past the grid's ${width} columns`);
    // Placed widgets may not cover each other (the page would draw one over the other).
    const other = d.widgets.slice(0, i).find((o) => overlap(o, w, width));
    if (other) fail(at('y'), 'invalid_layout', `The widget overlaps "${other.name}"`);
    if (NEEDS_REPORT.has(w.type)) {
      if (!w.report) return void fail(at('report'), 'required', `A ${w.type} widget shows a report`);
      const report = all.get<ReportDoc>('report', w.report);
      if (!report) return void fail(at('report'), 'unknown_report', `Report "${w.report}" does not exist`);
      const measures = new Set([
        ...(report.measures ?? []).map((m) => m.name),
        ...(report.shape === 'funnel'
          ? ['conversion', 'conversion_from_first', ...(report.measures?.length ? [] : ['count'])]
          : []),
        ...(report.shape === 'time_in_stage' ? ['stays', 'avg_days', 'median_days', 'max_days'] : []),
      ]);
      (w.measures ?? []).forEach(
        (m, j) => measures.has(m) || fail(at('measures', String(j)), 'unknown_measure', `"${m}" is not a measure of ${w.report}`),
      );
      for (const key of ['measure', 'compare'] as const)
        if (w[key] && !measures.has(w[key]!)) fail(at(key), 'unknown_measure', `"${w[key]}" is not a measure of ${w.report}`);
      if (w.type === 'chart' && !w.chart) fail(at('chart'), 'required', 'A chart widget names its chart type');
      if ((w.type === 'number' || w.chart === 'gauge') && !w.measure)
        fail(at('measure'), 'required', 'A number card or gauge shows one measure');
      const declared = new Set((report.parameters ?? []).map((p) => p.name));
      Object.keys(w.parameters ?? {}).forEach(
        (p) => declared.has(p) || fail(at('parameters', p), 'unknown_parameter', `"${p}" is not a parameter of ${w.report}`),
      );
    }
    if (w.type === 'records') {
      const entity = all.get<EntityDoc>('entity', String(w.entity));
      if (!entity) return void fail(at('entity'), 'unknown_entity', `Entity "${w.entity}" does not exist`);
      if (w.filter !== undefined)
        errors.push(
          ...checkRule(w.filter, {
            fields: new Set([...SYSTEM_FIELDS, ...entity.fields.map((f) => f.name)]),
            allowContext: true,
            path: at('filter'),
          }).errors,
        );
    }
    if (w.type === 'target' && (!w.target || !all.get('target', w.target)))
      fail(at('target'), 'unknown_target', `Target "${w.target}" does not exist`);
  });
  return errors;
}
