/**
 * Dashboards as the caller: the dashboards their roles may see, their home dashboard, and one
 * dashboard with every widget's data computed as the caller (in parallel; each widget's reports go
 * through the report operation, lists through the record pipeline). A widget the caller may not see
 * carries its error instead of data, so one forbidden report does not hide the whole page.
 */
import type { DataService, OperationContext } from '../data/service.js';
import { AppError, notFound } from '../errors.js';
import type { ReportService, ReportResult } from './service.js';
import type { DashboardDoc, WidgetDoc } from './dashboard-types.js';
import type { ReportDoc } from './types.js';

export interface DashboardDeps {
  data: DataService;
  reports: ReportService;
  /** The caller's open approval tasks (the approval service's inbox). */
  inbox(ctx: OperationContext): Promise<unknown>;
  /** Target attainment (targets.ts), when targets are available. */
  target?(ctx: OperationContext, name: string): Promise<unknown>;
}

const query = (params: WidgetDoc['parameters']) =>
  Object.fromEntries(Object.entries(params ?? {}).map(([k, v]) => [k, String(v)]));
const url = (w: WidgetDoc) => {
  const qs = new URLSearchParams(query(w.parameters)).toString();
  return `/api/reports/${w.report}${qs ? `?${qs}` : ''}`;
};

/** A number card's value and its comparison: from the totals, or — over periods — the last period's row. */
function numberOf(result: ReportResult, doc: ReportDoc | undefined, w: WidgetDoc) {
  const detail = result.rows.filter((r) => !r._subtotal && !r._others);
  const source = (doc?.dimensions ?? []).some((d) => d.bucket) && detail.length ? detail[detail.length - 1]! : result.totals;
  const value = (source[w.measure!] ?? null) as number | null;
  const compare = w.compare ? ((source[w.compare] ?? null) as number | null) : undefined;
  const change =
    typeof value === 'number' && typeof compare === 'number' && compare !== 0 ? (value - compare) / Math.abs(compare) : null;
  return { value, ...(w.compare ? { compare, change } : {}) };
}

export class DashboardService {
  constructor(private readonly deps: DashboardDeps) {}

  private visible(ctx: OperationContext, d: DashboardDoc) {
    return ctx.privileged || !d.roles || (ctx.principal?.roles.some((r) => d.roles!.includes(r)) ?? false);
  }

  private all() {
    return this.deps.data
      .model()
      .documents.all<DashboardDoc>('dashboard')
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  list(ctx: OperationContext) {
    const home = this.homeOf(ctx);
    return this.all()
      .filter((d) => this.visible(ctx, d))
      .map((d) => ({
        name: d.name,
        label: d.label[ctx.lang],
        description: (d.description as DashboardDoc['label'] | undefined)?.[ctx.lang],
        home: d.name === home?.name,
      }));
  }

  private homeOf(ctx: OperationContext) {
    return this.all().find((d) => this.visible(ctx, d) && d.home?.some((r) => ctx.principal?.roles.includes(r)));
  }

  async home(ctx: OperationContext) {
    const d = this.homeOf(ctx);
    if (!d)
      throw notFound(
        'dashboard_not_found',
        ctx.lang === 'zh-CN' ? '您的角色没有首页仪表盘' : 'None of your roles has a home dashboard',
      );
    return this.render(ctx, d);
  }

  async get(ctx: OperationContext, name: string) {
    const d = this.deps.data.model().documents.get<DashboardDoc>('dashboard', name);
    if (!d)
      throw notFound('dashboard_not_found', ctx.lang === 'zh-CN' ? `没有名为 ${name} 的仪表盘` : `No dashboard named ${name}`);
    if (!this.visible(ctx, d))
      throw new AppError(
        403,
        'dashboard_forbidden',
        ctx.lang === 'zh-CN' ? '您的角色不能查看此仪表盘' : 'Your roles may not see this dashboard',
      );
    return this.render(ctx, d);
  }

  private async render(ctx: OperationContext, d: DashboardDoc) {
    const widgets = await Promise.all(d.widgets.map((w) => this.widget(ctx, w)));
    return { name: d.name, label: d.label[ctx.lang], columns: d.columns ?? 12, widgets };
  }

  private async widget(ctx: OperationContext, w: WidgetDoc) {
    const base = { ...w, title: w.title?.[ctx.lang] };
    try {
      switch (w.type) {
        case 'chart':
        case 'table':
        case 'number': {
          const result = await this.deps.reports.run(ctx, w.report!, query(w.parameters));
          const doc = this.deps.data.model().documents.get<ReportDoc>('report', w.report!);
          return {
            ...base,
            title: base.title ?? result.report.label,
            url: url(w),
            data: w.type === 'number' ? { ...numberOf(result, doc, w), report: result } : result,
          };
        }
        case 'approvals':
          return { ...base, url: '/api/approvals/inbox', data: await this.deps.inbox(ctx) };
        case 'records': {
          const q: Record<string, string> = { limit: String(w.limit ?? 10) };
          if (w.filter !== undefined) q.filter = JSON.stringify(w.filter);
          if (w.sort) q.sort = w.sort;
          const qs = new URLSearchParams(q).toString();
          return { ...base, url: `/api/data/${w.entity}?${qs}`, data: await this.deps.data.list(ctx, w.entity!, q) };
        }
        case 'target':
          if (!this.deps.target) throw notFound('target_not_found', 'Targets are not available');
          return { ...base, url: `/api/targets/${w.target}`, data: await this.deps.target(ctx, w.target!) };
      }
    } catch (e) {
      if (e instanceof AppError) return { ...base, error: e.toJSON().error };
      throw e;
    }
  }
}
