/**
 * The OpenAPI paths of the report routes: the list, and per deployed report its run and export
 * routes with its own parameters as query parameters (types from the parameter declarations).
 */
import type { AppModel } from '../model/compile.js';
import type { ParameterDoc, ReportDoc } from './types.js';

const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });
const error = (description: string) => json({ $ref: '#/components/schemas/Error' }, description);

const parameterSchema = (p: ParameterDoc, model: AppModel): Record<string, unknown> => {
  switch (p.type) {
    case 'date':
      return { type: 'string', format: 'date' };
    case 'number':
      return { type: 'number' };
    case 'integer':
      return { type: 'integer' };
    case 'boolean':
      return { type: 'boolean' };
    case 'picklist':
      return { enum: model.dictionaries.get(String(p.dictionary))?.items.map((i) => i.value) ?? [] };
    case 'reference':
      return { type: 'string', format: 'uuid' };
    default:
      return { type: 'string', maxLength: 200 };
  }
};

const REPORT_DATA = {
  type: 'object',
  required: ['columns', 'rows', 'totals'],
  properties: {
    report: { type: 'object', properties: { name: { type: 'string' }, label: { type: 'string' }, shape: { type: 'string' } } },
    parameters: { type: 'object', description: 'The parameter values used (defaults filled in)' },
    columns: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'label', 'type', 'role'],
        properties: {
          name: { type: 'string' }, label: { type: 'string', description: "In the viewer's language" }, type: { type: 'string' },
          role: { enum: ['dimension', 'measure'] }, bucket: { type: 'string' },
          options: { type: 'array', description: 'Picklist values in dictionary order with labels' },
          pivot: { type: 'object', description: 'matrix: the pivot value of this column and the json-logic filter of its records' },
        },
      },
    },
    rows: { type: 'array', items: { type: 'object', description: 'Column values, plus _labels (display texts), _filter (json-logic of the records: drill-down), _level/_subtotal (summary), _others (top-N), _depth/_parent (tree)' } },
    totals: { type: 'object', description: 'Grand totals of the measures (matrix: also per pivot column)' },
  },
};

export function reportPaths(model: AppModel): Record<string, unknown> {
  const name = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };
  const paths: Record<string, unknown> = {
    '/api/dashboards': { get: { tags: ['dashboards'], operationId: 'listDashboards', summary: 'The dashboards the caller may see (home: the caller\'s home dashboard)', responses: { 200: json({ type: 'object' }, 'Dashboards') } } },
    '/api/dashboards/home': { get: { tags: ['dashboards'], operationId: 'homeDashboard', summary: 'The caller\'s home dashboard with every widget\'s data', responses: { 200: json({ type: 'object' }, 'Dashboard'), 404: error('No home dashboard for the caller\'s roles') } } },
    '/api/dashboards/{name}': { get: { tags: ['dashboards'], operationId: 'dashboard', summary: 'A dashboard: each widget with its data (or its error) and the URL it comes from', parameters: [name], responses: { 200: json({ type: 'object' }, 'Dashboard'), 403: error('Not for the caller\'s roles'), 404: error('No such dashboard') } } },
    '/api/targets': { get: { tags: ['targets'], operationId: 'listTargets', responses: { 200: json({ type: 'object' }, 'Target documents') } } },
    '/api/targets/{name}': {
      get: { tags: ['targets'], operationId: 'target', summary: 'Targets of a year with actuals, attainment, gap, pacing and decomposition issues, for the subjects the caller\'s scope covers',
        parameters: [name, { name: 'year', in: 'query', schema: { type: 'integer' }, description: 'The (fiscal) year; default the current one' }], responses: { 200: json({ type: 'object' }, 'Rows and issues'), 400: error('Bad year'), 404: error('No such target') } },
    },
    '/api/targets/{name}/values': {
      put: { tags: ['targets'], operationId: 'setTargets', summary: 'Set (value) or remove (null) target values, all or nothing',
        parameters: [name],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['values'], properties: { values: { type: 'array', maxItems: 1000, items: { type: 'object', required: ['level', 'period', 'period_start', 'value'], properties: { level: { enum: ['company', 'department', 'user'] }, subject: { type: ['string', 'null'], format: 'uuid' }, period: { enum: ['year', 'quarter', 'month', 'week'] }, period_start: { type: 'string', format: 'date' }, value: { type: ['number', 'null'], minimum: 0 } } } } } } } } },
        responses: { 200: json({ type: 'object' }, 'Written, with the issues left'), 403: error('target_not_editable: not one of your subordinates (path: the value)'), 422: error('validation_failed, decomposition_mismatch (refusing targets)') } },
    },
    '/api/reports': { get: { tags: ['reports'], operationId: 'listReports', summary: 'The reports the caller may run', responses: { 200: json({ type: 'object', properties: { data: { type: 'array' } } }, 'Reports') } } },
  };
  for (const doc of model.documents.all<ReportDoc>('report')) {
    const parameters = (doc.parameters ?? []).map((p) => ({ name: p.name, in: 'query', required: Boolean(p.required && p.default === undefined), description: p.label.en, schema: { ...parameterSchema(p, model), ...(p.default !== undefined ? { default: p.default } : {}) } }));
    const common = { 400: error('Invalid parameters (details point at /query/<name>)'), 403: error('Not allowed: role, entity or a field the report uses (field_not_readable, with the path in the report)'), 404: error('No such report') };
    paths[`/api/reports/${doc.name}`] = {
      get: { tags: ['reports'], operationId: `report_${doc.name}`, summary: `${doc.label.en} / ${doc.label['zh-CN']}`, parameters, responses: { 200: json({ type: 'object', properties: { data: REPORT_DATA } }, 'Columns, rows and totals'), ...common } },
    };
    paths[`/api/reports/${doc.name}/export`] = {
      get: {
        tags: ['reports'],
        operationId: `export_${doc.name}`,
        summary: `Export: ${doc.label.en}`,
        parameters: [...parameters, { name: 'format', in: 'query', schema: { enum: ['csv', 'xlsx'], default: 'csv' } }],
        responses: { 200: { description: 'The file', content: { 'text/csv': {}, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {} } }, ...common },
      },
    };
  }
  return paths;
}
