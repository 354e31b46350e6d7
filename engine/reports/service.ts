/**
 * Runs a deployed report as the caller: resolves the document, checks the caller's roles, parses the
 * parameters, compiles ONE statement over the aggregate operation's source (engine/data/operations/
 * aggregate.ts: the caller's scope, scoped joins, every field checked readable) and shapes the answer
 * `{ columns, rows, totals }`. Also lists the reports a caller may run.
 */
import type { DataService, OperationContext } from '../data/service.js';
import { AppError, notFound } from '../errors.js';
import type { ReportDoc } from './types.js';
import { parseParameters } from './parameters.js';
import { compileSummary, type RunContext } from './compile.js';
import { aggregateSource, type AggregateSource } from '../data/operations/aggregate.js';
import { shapeSummary, type ReportData } from './shape.js';
import { compileTabular } from './tabular.js';
import { compileFunnel, compileTimeInStage } from './funnel.js';
import type { DictionaryDoc } from '../model/kinds/dictionary.js';

export interface ReportResult extends ReportData {
  report: { name: string; label: string; shape: string; entity: string };
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
      throw new AppError(
        403,
        'report_forbidden',
        ctx.lang === 'zh-CN' ? `您的角色不能运行报表 ${doc.name}` : `Your roles may not run the report ${doc.name}`,
      );
  }

  /** The reports the caller may run: role allowed, entity readable, every field it uses readable. */
  async list(ctx: OperationContext) {
    const docs = this.data
      .model()
      .documents.all<ReportDoc>('report')
      .sort((a, b) => a.name.localeCompare(b.name));
    const out = [];
    for (const doc of docs) {
      try {
        this.assertRole(ctx, doc);
        this.compile(ctx, doc, this.defaults(ctx, doc));
      } catch (e) {
        if (e instanceof AppError && (e.status === 403 || e.status === 400)) continue;
        throw e;
      }
      out.push({
        name: doc.name,
        label: doc.label[ctx.lang],
        entity: doc.entity,
        shape: doc.shape ?? 'summary',
        description: (doc.description as ReportDoc['label'] | undefined)?.[ctx.lang],
        parameters: doc.parameters ?? [],
      });
    }
    return out;
  }

  /** Parameter values for compiling without running (required ones get a stand-in of their type). */
  private defaults(ctx: OperationContext, doc: ReportDoc) {
    const query: Record<string, string> = {};
    for (const p of doc.parameters ?? []) {
      if (p.default === undefined && p.required)
        query[p.name] =
          p.type === 'date'
            ? '2000-01-01'
            : p.type === 'number' || p.type === 'integer'
              ? '0'
              : p.type === 'boolean'
                ? 'true'
                : p.type === 'reference'
                  ? '00000000-0000-0000-0000-000000000000'
                  : p.type === 'picklist'
                    ? (this.data.model().dictionaries.get(String(p.dictionary))?.items[0]?.value ?? '')
                    : 'x';
    }
    return this.parameters(ctx, doc, query);
  }

  private parameters(ctx: OperationContext, doc: ReportDoc, query: Record<string, string | undefined>) {
    const model = this.data.model();
    return parseParameters(
      doc.parameters ?? [],
      query,
      (n) => model.dictionaries.get(n) as DictionaryDoc | undefined,
      doc.timeZone ?? 'UTC',
      ctx.lang,
    );
  }

  /** The one statement of a report and how to shape its rows, over the caller's source (the aggregate operation's). */
  private plan(ctx: OperationContext, doc: ReportDoc, params: Record<string, unknown>, source: AggregateSource) {
    const run: RunContext = {
      source,
      model: source.model,
      guard: source.guard,
      lang: ctx.lang,
      action: source.action,
      params,
      context: { $user: ctx.principal?.context ?? {}, $now: new Date().toISOString(), $params: params },
      timeZone: doc.timeZone ?? 'UTC',
    };
    switch (doc.shape ?? 'summary') {
      case 'tabular':
        return compileTabular(doc, source.root, run);
      case 'funnel':
        return compileFunnel(doc, source.root, run);
      case 'time_in_stage':
        return compileTimeInStage(doc, source.root, run);
      default: {
        const plan = compileSummary(doc, run);
        return {
          sql: plan.sql,
          shape: (rows: Record<string, unknown>[], lang: 'en' | 'zh-CN') => shapeSummary(plan, rows, lang),
          filter: plan.filter,
        };
      }
    }
  }

  /** Compiles without running: does the caller's source admit everything the report touches? */
  private compile(ctx: OperationContext, doc: ReportDoc, params: Record<string, unknown>) {
    return this.plan(ctx, doc, params, aggregateSource(this.data, ctx, doc.entity));
  }

  /** Runs a report with the query string's parameters. */
  async run(
    ctx: OperationContext,
    name: string,
    query: Record<string, string | undefined>,
    action: 'read' | 'export' = 'read',
  ): Promise<ReportResult> {
    return this.runDocument(ctx, this.doc(name, ctx.lang), query, action);
  }

  /**
   * Runs a report document that passed the report kind's checks (a deployed one, or one a dashboard
   * or target derives from a deployed one).
   */
  async runDocument(
    ctx: OperationContext,
    doc: ReportDoc,
    query: Record<string, string | undefined>,
    action: 'read' | 'export' = 'read',
  ): Promise<ReportResult> {
    this.assertRole(ctx, doc);
    const params = this.parameters(ctx, doc, query);
    const { plan, rows } = await this.data.aggregate(ctx, doc.entity, action, (source) => this.plan(ctx, doc, params, source));
    return {
      report: { name: doc.name, label: doc.label[ctx.lang], shape: doc.shape ?? 'summary', entity: doc.entity },
      parameters: params,
      ...plan.shape(rows, ctx.lang),
    };
  }
}
