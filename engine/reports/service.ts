/**
 * The aggregate operation: runs a deployed report as the caller. Resolves the document, checks that
 * the caller may run it (its roles, the read permission on its entity, every field it touches),
 * parses the parameters, compiles ONE statement with the caller's row scope inside and shapes the
 * answer `{ columns, rows, totals }`. Also lists the reports a caller may run.
 */
import type { DataService, OperationContext } from '../data/service.js';
import { AppError, notFound } from '../errors.js';
import type { ReportDoc } from './types.js';
import { parseParameters } from './parameters.js';
import { compileSummary, type RunContext } from './compile.js';
import { shapeSummary, type ReportData } from './shape.js';
import { compileTabular } from './tabular.js';
import { compileFunnel, compileTimeInStage } from './funnel.js';
import type { DictionaryDoc } from '../../metadata/kinds.js';

export interface ReportResult extends ReportData {
  report: { name: string; label: string; shape: string };
  parameters: Record<string, unknown>;
}

export class ReportService {
  constructor(private readonly data: DataService) {}

  private doc(name: string, lang: 'en' | 'zh-CN'): ReportDoc {
    const doc = this.data.model().documents.get<ReportDoc>('report', name);
    if (!doc) throw notFound('report_not_found', lang === 'zh-CN' ? `没有名为 ${name} 的报表` : `No report named ${name}`);
    return doc;
  }

  /** Refuses a caller whose roles the report does not name. */
  private assertRole(ctx: OperationContext, doc: ReportDoc) {
    if (ctx.privileged || !doc.roles) return;
    if (!ctx.principal?.roles.some((r) => doc.roles!.includes(r)))
      throw new AppError(403, 'report_forbidden', ctx.lang === 'zh-CN' ? `您的角色不能运行报表 ${doc.name}` : `Your roles may not run the report ${doc.name}`);
  }

  /** The reports the caller may run: role allowed, entity readable, every field it uses readable. */
  async list(ctx: OperationContext) {
    const docs = this.data.model().documents.all<ReportDoc>('report').sort((a, b) => a.name.localeCompare(b.name));
    const out = [];
    for (const doc of docs) {
      try {
        this.assertRole(ctx, doc);
        this.compile(ctx, doc, this.defaults(ctx, doc));
      } catch (e) {
        if (e instanceof AppError && (e.status === 403 || e.status === 400)) continue;
        throw e;
      }
      out.push({ name: doc.name, label: doc.label[ctx.lang], entity: doc.entity, shape: doc.shape ?? 'summary', description: (doc.description as ReportDoc['label'] | undefined)?.[ctx.lang], parameters: doc.parameters ?? [] });
    }
    return out;
  }

  /** Parameter values for compiling without running (required ones get a stand-in of their type). */
  private defaults(ctx: OperationContext, doc: ReportDoc) {
    const query: Record<string, string> = {};
    for (const p of doc.parameters ?? []) {
      if (p.default === undefined && p.required) query[p.name] = p.type === 'date' ? '2000-01-01' : p.type === 'number' || p.type === 'integer' ? '0' : p.type === 'boolean' ? 'true' : p.type === 'reference' ? '00000000-0000-0000-0000-000000000000' : p.type === 'picklist' ? (this.data.model().dictionaries.get(String(p.dictionary))?.items[0]?.value ?? '') : 'x';
    }
    return this.parameters(ctx, doc, query);
  }

  private parameters(ctx: OperationContext, doc: ReportDoc, query: Record<string, string | undefined>) {
    const model = this.data.model();
    return parseParameters(doc.parameters ?? [], query, (n) => model.dictionaries.get(n) as DictionaryDoc | undefined, doc.timeZone ?? 'UTC', ctx.lang);
  }

  /** `action` is the permission whose scope bounds the records: read, or export for files. */
  private compile(ctx: OperationContext, doc: ReportDoc, params: Record<string, unknown>, action: 'read' | 'export' = 'read') {
    const model = this.data.model();
    const entity = this.data.entity(doc.entity);
    const run: RunContext = {
      model,
      guard: this.data.guard(ctx),
      lang: ctx.lang,
      action,
      params,
      context: { $user: ctx.principal?.context ?? {}, $now: new Date().toISOString(), $params: params },
    };
    switch (doc.shape ?? 'summary') {
      case 'tabular':
        return compileTabular(doc, entity, run);
      case 'funnel':
        return compileFunnel(doc, entity, run);
      case 'time_in_stage':
        return compileTimeInStage(doc, entity, run);
      default: {
        const plan = compileSummary(doc, entity, run);
        return { sql: plan.sql, shape: (rows: Record<string, unknown>[], lang: 'en' | 'zh-CN') => shapeSummary(plan, rows, lang), filter: plan.filter };
      }
    }
  }

  /** Runs a report with the query string's parameters. */
  async run(ctx: OperationContext, name: string, query: Record<string, string | undefined>, action: 'read' | 'export' = 'read'): Promise<ReportResult> {
    return this.runDocument(ctx, this.doc(name, ctx.lang), query, action);
  }

  /**
   * Runs a report document that passed the report kind's checks (a deployed one, or one a dashboard
   * or target derives from a deployed one).
   */
  async runDocument(ctx: OperationContext, doc: ReportDoc, query: Record<string, string | undefined>, action: 'read' | 'export' = 'read'): Promise<ReportResult> {
    this.assertRole(ctx, doc);
    const params = this.parameters(ctx, doc, query);
    const compiled = this.compile(ctx, doc, params, action);
    const rows = await this.data.database.rows<Record<string, unknown>>(compiled.sql);
    return { report: { name: doc.name, label: doc.label[ctx.lang], shape: doc.shape ?? 'summary' }, parameters: params, ...compiled.shape(rows, ctx.lang) };
  }
}
