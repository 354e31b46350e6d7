/**
 * The report routes, registered on the HTTP app: list the reports the caller may run, run one with
 * its parameters in the query string (`format=csv|xlsx` exports the same answer as a file);
dashboards with their widgets' data; targets with actuals, and setting target values.
 */
import type { Context, Hono } from 'hono';
import type { OperationContext } from '../data/service.js';
import type { ReportService } from './service.js';
import type { DashboardService } from './dashboards.js';
import type { TargetService } from './targets.js';

export interface ReportRouteDeps {
  reports: ReportService;
  dashboards: DashboardService;
  targets: TargetService;
  ctxOf: (c: Context<any>) => OperationContext; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** The request's JSON body (the app's body reader: size limit, errors). */
  jsonBody: (c: Context<any>) => Promise<unknown>; // eslint-disable-line @typescript-eslint/no-explicit-any
}
import { reportCsv, reportXlsx } from './export.js';
import { badRequest } from '../errors.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function reportRoutes(app: Hono<any>, { reports, dashboards, targets, ctxOf, jsonBody }: ReportRouteDeps) {
  app.get('/api/targets', (c) => c.json({ data: targets.list(ctxOf(c)) }));
  app.get('/api/targets/:name', async (c) => c.json({ data: await targets.get(ctxOf(c), c.req.param('name'), c.req.query()) }));
  app.put('/api/targets/:name/values', async (c) => c.json({ data: await targets.set(ctxOf(c), c.req.param('name'), await jsonBody(c)) }));
  app.get('/api/dashboards', (c) => c.json({ data: dashboards.list(ctxOf(c)) }));
  app.get('/api/dashboards/home', async (c) => c.json({ data: await dashboards.home(ctxOf(c)) }));
  app.get('/api/dashboards/:name', async (c) => c.json({ data: await dashboards.get(ctxOf(c), c.req.param('name')) }));
  app.get('/api/reports', async (c) => c.json({ data: await reports.list(ctxOf(c)) }));
  app.get('/api/reports/:name', async (c) => c.json({ data: await reports.run(ctxOf(c), c.req.param('name'), c.req.query()) }));
  app.get('/api/reports/:name/export', async (c) => {
    const ctx = ctxOf(c);
    const { format = 'csv', ...query } = c.req.query();
    if (format !== 'csv' && format !== 'xlsx') throw badRequest('invalid_parameter', 'format must be csv or xlsx', [{ path: '/query/format', code: 'invalid_parameter', message: 'csv or xlsx' }]);
    const result = await reports.run(ctx, c.req.param('name'), query, 'export');
    const file = `attachment; filename="${c.req.param('name')}.${format}"`;
    if (format === 'csv') return c.body(reportCsv(result, ctx.lang), 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': file });
    const xlsx = await reportXlsx(result, ctx.lang);
    return c.body(new Uint8Array(xlsx), 200, { 'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'content-disposition': file });
  });
}
