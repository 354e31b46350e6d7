/**
 * The report routes, registered on the HTTP app: list the reports the caller may run, run one with
 * its parameters in the query string (`format=csv|xlsx` exports the same answer as a file).
 */
import type { Context, Hono } from 'hono';
import type { OperationContext } from '../data/service.js';
import type { ReportService } from './service.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function reportRoutes(app: Hono<any>, reports: ReportService, ctxOf: (c: Context<any>) => OperationContext) {
  app.get('/api/reports', async (c) => c.json({ data: await reports.list(ctxOf(c)) }));
  app.get('/api/reports/:name', async (c) => c.json({ data: await reports.run(ctxOf(c), c.req.param('name'), c.req.query()) }));
}
