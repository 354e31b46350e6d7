/**
 * Imports of every entity (/api/data/{entity}/import…): upload a file, run it (dry run, then for real),
 * follow its progress, read the refused rows, download the error file, undo it; mapping templates.
 * Listed before the record routes: these fixed segments must win over /{entity}/{id}.
 */
import type { Route } from '../route.js';
import { entitySummary, errorResponse, idParameter, json, jsonBody, object, pathParameter } from '../route.js';

const perEntity = {};
const importSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    fileName: { type: ['string', 'null'] },
    format: { enum: ['csv', 'xlsx'] },
    encoding: { enum: ['utf-8', 'gb18030'] },
    sheets: { type: 'array', items: { type: 'string' } },
    archive: {
      type: ['object', 'null'],
      properties: { table: { type: 'string' } },
      description: 'A .zip upload: the table inside it; file columns name the other entries by their path',
    },
    header: { type: 'array', items: { type: 'string' } },
    state: { enum: ['uploaded', 'queued', 'running', 'done', 'failed', 'undone'] },
    dryRun: { type: ['boolean', 'null'] },
    committed: { type: ['boolean', 'null'], description: 'Whether the run wrote anything that stayed' },
    counts: {
      type: 'object',
      properties: {
        rows: { type: 'integer' },
        create: { type: 'integer' },
        update: { type: 'integer' },
        skip: { type: 'integer' },
        error: { type: 'integer' },
      },
    },
    progress: { type: 'number', minimum: 0, maximum: 1 },
    error: { type: ['object', 'null'], description: 'Why a run stopped as a whole (a bad file, a lost right)' },
  },
};
const mappingSchema = {
  type: 'object',
  description:
    'Column header → field name (null: not imported). References take a value of a unique field of the target, or its title; ' +
    'users fields several of them; file fields paths inside the uploaded .zip.',
  additionalProperties: { type: ['string', 'null'] },
};
const runBody = {
  type: 'object',
  required: ['file'],
  properties: {
    file: { type: 'string', format: 'uuid', description: 'The id the upload answered' },
    mapping: mappingSchema,
    template: { type: 'string', description: 'A saved mapping template (id or name) instead of `mapping`' },
    saveTemplate: { type: 'string', description: 'Also save the mapping as a template of this name' },
    mode: { enum: ['insert', 'update', 'upsert'], description: "Default: the entity's import.mode, else insert" },
    dryRun: { type: 'boolean', default: false, description: 'Check every row and report; write nothing' },
    atomic: {
      type: 'boolean',
      default: true,
      description: 'All or nothing (true), or commit the good rows and report the rest (false)',
    },
    automations: { type: 'boolean', default: true, description: 'Run record-change automations for imported records' },
    sheet: { type: 'string', description: 'XLSX: the sheet (name or 1-based position); default the first' },
    timeZone: { type: 'string', default: 'Asia/Shanghai', description: 'Zone of date-times written without one' },
    async: { type: 'boolean', description: 'Queue even a small file' },
  },
};
const importId = pathParameter('importId', { type: 'string', format: 'uuid' });

export const importRoutes: Route[] = [
  {
    method: 'post',
    path: '/api/data/{entity}/import/files',
    operationId: 'uploadImport',
    perEntity,
    summary: entitySummary('Upload a file to import (CSV, XLSX, or a .zip of one of them with files)'),
    doc: () => ({
      description:
        'The request body is the file itself (any content type; CSV in UTF-8 with or without BOM or in GB18030/GBK, or XLSX, ' +
        'or a .zip holding one CSV/XLSX and the files its file columns name by path), ' +
        'streamed to the data folder. Answers the import with the header, the first rows, a suggested mapping and the saved templates.',
      parameters: [
        { name: 'name', in: 'query', description: 'The file name, for people', schema: { type: 'string' } },
        { name: 'sheet', in: 'query', description: 'XLSX: the sheet to preview', schema: { type: 'string' } },
      ],
      requestBody: { required: true, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
      responses: {
        201: json({ type: 'object', properties: { data: importSchema } }, 'Uploaded'),
        400: errorResponse('Empty, unreadable or headerless file'),
        403: errorResponse('No import right'),
        413: errorResponse('File too large'),
      },
    }),
    async handle({ c, deps, param, ctx }) {
      const source = (c.env?.incoming ?? c.req.raw.body) as AsyncIterable<Uint8Array> | null;
      const context = ctx();
      const upload = await deps.imports.upload(
        context,
        param('entity'),
        source ?? emptyBody(),
        c.req.query('name'),
        c.req.query('sheet'),
      );
      return c.json({ data: upload }, 201);
    },
  },
  {
    method: 'get',
    path: '/api/data/{entity}/import/mappings',
    operationId: 'listImportMappings',
    perEntity,
    summary: entitySummary('Saved column mappings for imports'),
    doc: () => ({ responses: { 200: object('Templates by name'), 403: errorResponse('No import right') } }),
    handle: async ({ c, deps, param, ctx }) => c.json({ data: await deps.imports.mappings(ctx(), param('entity')) }),
  },
  {
    method: 'post',
    path: '/api/data/{entity}/import/mappings',
    operationId: 'saveImportMapping',
    perEntity,
    summary: entitySummary('Save a column mapping as a template (same name: replaced)'),
    body: 'json',
    doc: () => ({
      requestBody: jsonBody({
        type: 'object',
        required: ['name', 'mapping'],
        properties: { name: { type: 'string' }, mapping: mappingSchema },
      }),
      responses: { 201: object('Saved'), 400: errorResponse('No name or no mapping'), 403: errorResponse('No import right') },
    }),
    handle: async ({ c, deps, param, ctx, body }) =>
      c.json({ data: await deps.imports.saveMapping(ctx(), param('entity'), await body()) }, 201),
  },
  {
    method: 'delete',
    path: '/api/data/{entity}/import/mappings/{id}',
    operationId: 'deleteImportMapping',
    perEntity,
    summary: entitySummary('Delete a mapping template'),
    doc: () => ({ parameters: [idParameter], responses: { 200: object('Deleted'), 404: errorResponse('No such template') } }),
    handle: async ({ c, deps, param, ctx }) =>
      c.json({ data: await deps.imports.deleteMapping(ctx(), param('entity'), param('id')) }),
  },
  {
    method: 'post',
    path: '/api/data/{entity}/import',
    operationId: 'import',
    perEntity,
    summary: entitySummary('Import an uploaded file: dry run or for real'),
    body: 'json',
    doc: () => ({
      description:
        'Runs the uploaded file through the record pipeline (import right, create/update rights, field write rights, validation, ' +
        'formulas, auto-numbers, audit, automations unless turned off). Rows are matched by the entity’s match rules (or an id ' +
        'column) and created, updated or skipped by mode. Files up to 1 MiB are imported within the request (200); larger ones ' +
        'are queued (202): follow GET …/import/{importId}. See docs/import-export.md.',
      requestBody: jsonBody(runBody),
      responses: {
        200: json({ type: 'object', properties: { data: importSchema } }, 'Done: counts; refused rows at …/rows'),
        202: json({ type: 'object', properties: { data: importSchema } }, 'Queued'),
        400: errorResponse('Bad mapping (unknown column or field, computed field), mode or template'),
        403: errorResponse('No import right, or a mapped field you may not write'),
        404: errorResponse('No such upload'),
        409: errorResponse('Running, or already imported'),
      },
    }),
    async handle({ c, deps, param, ctx, body }) {
      const { inline, import: result } = await deps.imports.start(ctx(), param('entity'), await body());
      return c.json({ data: result }, inline ? 200 : 202);
    },
  },
  {
    method: 'get',
    path: '/api/data/{entity}/import/{importId}',
    operationId: 'getImport',
    perEntity,
    summary: entitySummary('An import: state, progress and counts'),
    doc: () => ({
      parameters: [importId],
      responses: {
        200: json({ type: 'object', properties: { data: importSchema } }, 'The import'),
        404: errorResponse('No such import of yours'),
      },
    }),
    handle: async ({ c, deps, param, ctx }) =>
      c.json({ data: await deps.imports.get(ctx(), param('entity'), param('importId')) }),
  },
  {
    method: 'get',
    path: '/api/data/{entity}/import/{importId}/rows',
    operationId: 'importRows',
    perEntity,
    summary: entitySummary('Refused and skipped rows of an import, with column, value and message'),
    doc: () => ({
      parameters: [
        importId,
        { name: 'outcome', in: 'query', schema: { enum: ['error', 'skip'] } },
        { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0 } },
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
      ],
      responses: {
        200: object('Rows by line: {line, outcome, errors: [{column, field, value, code, message}]}'),
        404: errorResponse('No such import'),
      },
    }),
    handle: async ({ c, deps, param, ctx }) =>
      c.json({ data: await deps.imports.rows(ctx(), param('entity'), param('importId'), c.req.query()) }),
  },
  {
    method: 'get',
    path: '/api/data/{entity}/import/{importId}/errors',
    operationId: 'importErrorFile',
    perEntity,
    summary: entitySummary('The error file: the refused rows as they were, plus what is wrong'),
    doc: () => ({
      parameters: [
        importId,
        { name: 'format', in: 'query', description: "Default: the upload's format", schema: { enum: ['csv', 'xlsx'] } },
      ],
      responses: {
        200: {
          description: 'CSV (UTF-8 with BOM) or XLSX, as the upload was',
          content: {
            'text/csv': { schema: { type: 'string' } },
            'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': { schema: { type: 'string', format: 'binary' } },
          },
        },
        400: errorResponse('Bad format'),
        410: errorResponse('The upload was removed (import_file_removed)'),
        404: errorResponse('No such import'),
      },
    }),
    async handle({ c, deps, param, ctx }) {
      const { format, stream } = await deps.imports.errorFile(ctx(), param('entity'), param('importId'), c.req.query('format'));
      return c.body(stream, 200, {
        'content-type':
          format === 'xlsx' ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' : 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="${param('entity')}-import-errors.${format}"`,
      });
    },
  },
  {
    method: 'post',
    path: '/api/data/{entity}/import/{importId}/undo',
    operationId: 'undoImport',
    perEntity,
    summary: entitySummary('Undo an import while its records are unchanged'),
    doc: () => ({
      parameters: [importId],
      responses: {
        200: json(
          { type: 'object', properties: { data: importSchema } },
          'Undone: created records in the recycle bin, updated ones restored',
        ),
        403: errorResponse('No delete or update right'),
        404: errorResponse('No such import'),
        409: errorResponse('Not committed, or records changed since'),
      },
    }),
    handle: async ({ c, deps, param, ctx }) =>
      c.json({ data: await deps.imports.undo(ctx(), param('entity'), param('importId')) }),
  },
];

async function* emptyBody(): AsyncGenerator<Uint8Array> {}
