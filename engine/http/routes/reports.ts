/**
 * Reports, dashboards and targets (engine/reports): the reports a caller may run, running one with its
 * parameters in the query string and exporting it as CSV or XLSX; dashboards with their widgets' data;
 * targets with actuals, and setting target values. Fixed segments (home, export, values) before names.
 */
import type { Route } from '../route.js';
import { badRequest } from '../../errors.js';
import { errorResponse, json, jsonBody, object, pathParameter } from '../route.js';
import { reportCsv, reportXlsx } from '../../reports/export.js';
import { parameterSchema } from '../../reports/parameters.js';
import type { ReportDoc } from '../../reports/types.js';
import type { AppModel } from '../../model/compile.js';
import type { LocalizedText } from '../../registry/types.js';

const name = pathParameter('name');
const forbidden = errorResponse(
  "Not allowed: the report's roles, its entity, or a field it uses (field_not_readable, details[0].path is the place in the report document)",
);

const REPORT_DATA = {
  type: 'object',
  required: ['columns', 'rows', 'totals'],
  properties: {
    report: {
      type: 'object',
      properties: { name: { type: 'string' }, label: { type: 'string' }, shape: { type: 'string' }, entity: { type: 'string' } },
    },
    parameters: { type: 'object', description: 'The parameter values used (defaults filled in)' },
    columns: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'label', 'type', 'role'],
        properties: {
          name: { type: 'string' },
          label: { type: 'string', description: "In the caller's language" },
          type: { type: 'string', description: 'period, picklist, reference, a value kind; measures: integer, number, percent' },
          role: { enum: ['dimension', 'measure'] },
          bucket: { type: 'string' },
          options: { type: 'array', description: 'Picklist values in dictionary order with their labels' },
          pivot: {
            type: 'object',
            description: 'matrix: the pivot value of this column, its label and the json-logic filter of its records',
          },
        },
      },
    },
    rows: {
      type: 'array',
      items: {
        type: 'object',
        description:
          'Column values, plus _labels (display texts), _filter (json-logic selecting the records: drill-down), _level and _subtotal (summary), _others (top-N), _depth and _parent (tree)',
      },
    },
    totals: { type: 'object', description: 'Grand totals of the measures (matrix: also per pivot column)' },
  },
};
const reportParameters = {
  name: 'parameters',
  in: 'query',
  description: "The report's own parameters by name (see GET /api/reports: each report lists its parameters, types and defaults)",
  schema: { type: 'object', additionalProperties: { type: 'string' } },
  style: 'form',
  explode: true,
};
/** A deployed report's own parameters, typed, for its concrete path in the OpenAPI document. */
const ownParameters = (report: ReportDoc, model: AppModel) =>
  (report.parameters ?? []).map((p) => parameterSchema(p, p.dictionary ? model.dictionaries.get(p.dictionary) : undefined));
const describe = (report: ReportDoc) => {
  const about = report.description as LocalizedText | undefined;
  return [report.label['zh-CN'], about?.en, about?.['zh-CN']].filter(Boolean).join(' — ');
};
const queryOf = (c: { req: { query(): Record<string, string> } }) => c.req.query();

export const reportRoutes: Route[] = [
  {
    method: 'get',
    path: '/api/reports',
    operationId: 'listReports',
    tag: 'reports',
    summary: 'The reports the caller may run (roles, entity and every field used readable), with their parameters',
    doc: () => ({ responses: { 200: object('Reports') } }),
    handle: ({ c, deps, ctx }) => deps.reports.list(ctx()).then((data) => c.json({ data })),
  },
  {
    method: 'get',
    path: '/api/reports/{name}/export',
    operationId: 'exportReport',
    tag: 'reports',
    summary: 'A report as a CSV or XLSX file (under the export permission): labels as headers, typed cells, totals',
    perDocument: {
      kind: 'report',
      doc: (report: ReportDoc, model) => ({
        description: `${report.label.en}: ${describe(report)}`,
        parameters: [
          { name: 'format', in: 'query', schema: { enum: ['csv', 'xlsx'], default: 'csv' } },
          ...ownParameters(report, model),
        ],
        responses: {
          200: {
            description: 'The file',
            content: { 'text/csv': {}, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {} },
          },
          400: errorResponse('Bad format or parameters'),
          403: forbidden,
        },
      }),
    },
    doc: () => ({
      parameters: [name, { name: 'format', in: 'query', schema: { enum: ['csv', 'xlsx'], default: 'csv' } }, reportParameters],
      responses: {
        200: {
          description: 'The file',
          content: { 'text/csv': {}, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {} },
        },
        400: errorResponse('Bad format or parameters'),
        403: forbidden,
        404: errorResponse('No such report'),
      },
    }),
    handle: async ({ c, deps, param, ctx }) => {
      const context = ctx();
      const { format = 'csv', ...query } = queryOf(c);
      if (format !== 'csv' && format !== 'xlsx')
        throw badRequest('invalid_parameter', 'format must be csv or xlsx', [
          { path: '/query/format', code: 'invalid_parameter', message: 'csv or xlsx' },
        ]);
      const result = await deps.reports.run(context, param('name'), query, 'export');
      const file = `attachment; filename="${param('name')}.${format}"`;
      if (format === 'csv')
        return c.body(reportCsv(result, context.lang), 200, {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': file,
        });
      return c.body(new Uint8Array(await reportXlsx(result, context.lang)), 200, {
        'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        'content-disposition': file,
      });
    },
  },
  {
    method: 'get',
    path: '/api/reports/{name}',
    operationId: 'runReport',
    tag: 'reports',
    summary: "Run a report as the caller: one SQL statement with the caller's row scope inside",
    perDocument: {
      kind: 'report',
      doc: (report: ReportDoc, model) => ({
        description: `${report.label.en}: ${describe(report)}`,
        parameters: ownParameters(report, model),
        responses: {
          200: json({ type: 'object', properties: { data: REPORT_DATA } }, 'Columns, rows and totals'),
          400: errorResponse('Invalid parameters (details point at /query/<name>)'),
          403: forbidden,
          422: errorResponse('too_many_groups'),
        },
      }),
    },
    doc: () => ({
      parameters: [name, reportParameters],
      responses: {
        200: json({ type: 'object', properties: { data: REPORT_DATA } }, 'Columns, rows and totals'),
        400: errorResponse('Invalid parameters (details point at /query/<name>)'),
        403: forbidden,
        404: errorResponse('No such report'),
        422: errorResponse('too_many_groups'),
      },
    }),
    handle: async ({ c, deps, param, ctx }) => c.json({ data: await deps.reports.run(ctx(), param('name'), queryOf(c)) }),
  },
  {
    method: 'get',
    path: '/api/dashboards',
    operationId: 'listDashboards',
    tag: 'dashboards',
    summary: "The dashboards the caller's roles may see (home: the caller's home dashboard)",
    doc: () => ({ responses: { 200: object('Dashboards') } }),
    handle: ({ c, deps, ctx }) => c.json({ data: deps.dashboards.list(ctx()) }),
  },
  {
    method: 'get',
    path: '/api/dashboards/home',
    operationId: 'homeDashboard',
    tag: 'dashboards',
    summary: "The caller's home dashboard, every widget with its data",
    doc: () => ({ responses: { 200: object('Dashboard'), 404: errorResponse("No home dashboard for the caller's roles") } }),
    handle: async ({ c, deps, ctx }) => c.json({ data: await deps.dashboards.home(ctx()) }),
  },
  {
    method: 'get',
    path: '/api/dashboards/{name}',
    operationId: 'dashboard',
    tag: 'dashboards',
    summary: 'A dashboard: each widget with its data computed as the caller (or its error) and the URL it comes from',
    doc: () => ({
      parameters: [name],
      responses: {
        200: object('Dashboard'),
        403: errorResponse("Not for the caller's roles"),
        404: errorResponse('No such dashboard'),
      },
    }),
    handle: async ({ c, deps, param, ctx }) => c.json({ data: await deps.dashboards.get(ctx(), param('name')) }),
  },
  {
    method: 'get',
    path: '/api/targets',
    operationId: 'listTargets',
    tag: 'targets',
    summary: 'The target documents',
    doc: () => ({ responses: { 200: object('Targets') } }),
    handle: ({ c, deps, ctx }) => c.json({ data: deps.targets.list(ctx()) }),
  },
  {
    method: 'put',
    path: '/api/targets/{name}/values',
    operationId: 'setTargets',
    tag: 'targets',
    summary: "Set (value) or remove (null) target values, all or nothing; managers set their subordinates', not their own",
    body: 'json',
    doc: () => ({
      parameters: [name],
      requestBody: jsonBody({
        type: 'object',
        required: ['values'],
        properties: {
          values: {
            type: 'array',
            maxItems: 1000,
            items: {
              type: 'object',
              required: ['level', 'period', 'period_start', 'value'],
              properties: {
                level: { enum: ['company', 'department', 'user'] },
                subject: { type: ['string', 'null'], format: 'uuid' },
                period: { enum: ['year', 'quarter', 'month', 'week'] },
                period_start: { type: 'string', format: 'date' },
                value: { type: ['number', 'null'], minimum: 0 },
              },
            },
          },
        },
      }),
      responses: {
        200: object('Written, with the decomposition issues left'),
        403: errorResponse('target_not_editable (path: the value)'),
        422: errorResponse('validation_failed; decomposition_mismatch (refusing targets)'),
      },
    }),
    handle: async ({ c, deps, body, param, ctx }) => c.json({ data: await deps.targets.set(ctx(), param('name'), await body()) }),
  },
  {
    method: 'get',
    path: '/api/targets/{name}',
    operationId: 'target',
    tag: 'targets',
    summary:
      "Targets of a (fiscal) year with actuals, attainment, gap, pacing and decomposition issues, for the subjects the caller's scope covers",
    doc: () => ({
      parameters: [name, { name: 'year', in: 'query', schema: { type: 'integer' } }],
      responses: { 200: object('Rows and issues'), 400: errorResponse('Bad year'), 404: errorResponse('No such target') },
    }),
    handle: async ({ c, deps, param, ctx }) => c.json({ data: await deps.targets.get(ctx(), param('name'), queryOf(c)) }),
  },
];
