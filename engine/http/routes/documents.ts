/** Printed documents: a record through its entity's print template, as PDF or HTML (engine/documents/print.ts). */
import { printRecord, printTemplates } from '../../documents/print.js';
import { sendRecord, sentEmails } from '../../documents/send.js';
import type { Call, Route } from '../route.js';
import { errorResponse, idParameter, json, jsonBody } from '../route.js';

const parameters = [
  idParameter,
  {
    name: 'template',
    in: 'query',
    description: 'A print template of the entity (default: the first by name)',
    schema: { type: 'string' },
  },
  { name: 'format', in: 'query', schema: { enum: ['pdf', 'html'], default: 'pdf' } },
];

async function handle({ c, deps, param, ctx }: Call) {
  const out = await printRecord(deps.data, deps.approvals, ctx(), param('entity'), param('id'), c.req.query());
  const name = encodeURIComponent(`${out.title}.${out.format}`);
  if (out.format === 'html')
    return c.body(out.body as string, 200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    });
  return c.body(new Uint8Array(out.body as Buffer), 200, {
    'content-type': 'application/pdf',
    'content-disposition': `inline; filename*=UTF-8''${name}`,
  });
}

const doc = () => ({
  parameters,
  responses: {
    200: {
      description: 'The document',
      content: {
        'application/pdf': { schema: { type: 'string', format: 'binary' } },
        'text/html': { schema: { type: 'string' } },
      },
    },
    400: errorResponse('Bad format'),
    403: errorResponse('No print right on this record'),
    404: errorResponse('No such record for you, or no such template'),
  },
});

export const documentRoutes: Route[] = [
  {
    method: 'get',
    path: '/api/data/{entity}/print-templates',
    operationId: 'printTemplates',
    perEntity: {},
    summary: "The entity's print templates (name and label), the default first",
    doc: () => ({ responses: { 200: json({ type: 'object' }, 'Templates') } }),
    handle: ({ c, deps, param, ctx }) => {
      deps.data.guard(ctx()).assertCan(deps.data.entity(param('entity')), 'print');
      return c.json({ data: printTemplates(deps.data, param('entity')).map((d) => ({ name: d.name, label: d.label })) });
    },
  },
  {
    method: 'get',
    path: '/api/data/{entity}/{id}/print',
    operationId: 'print',
    perEntity: {},
    summary: 'Print the record (PDF or HTML)',
    doc,
    handle,
  },
  {
    method: 'post',
    path: '/api/data/{entity}/{id}/print',
    operationId: 'printPost',
    perEntity: {},
    summary: 'Print the record (PDF or HTML)',
    doc,
    handle,
  },
  {
    method: 'post',
    path: '/api/data/{entity}/{id}/email',
    operationId: 'emailDocument',
    perEntity: {},
    body: 'json',
    summary: "Send the printed document by e-mail, as a PDF attachment kept in the record's attachments (print right)",
    doc: () => ({
      parameters: [idParameter],
      requestBody: jsonBody({
        type: 'object',
        required: ['to'],
        additionalProperties: false,
        properties: {
          to: { type: 'array', items: { type: 'string', format: 'email' }, minItems: 1, maxItems: 20 },
          cc: { type: 'array', items: { type: 'string', format: 'email' }, maxItems: 20 },
          subject: { type: 'string', maxLength: 200, description: "Default: the print template's title" },
          message: { type: 'string', maxLength: 5000 },
          template: { type: 'string', description: 'A print template of the entity (default: the first by name)' },
        },
      }),
      responses: {
        202: json({ type: 'object' }, 'Queued in the outbox'),
        403: errorResponse('No print right on this record'),
        404: errorResponse('No such record for you, or no such template'),
        422: errorResponse('Bad addresses (details[].path /to/1) or a template that failed'),
      },
    }),
    handle: async ({ c, deps, param, ctx, body }) =>
      c.json(
        { data: await sendRecord(deps.data, deps.approvals, deps.files, ctx(), param('entity'), param('id'), await body()) },
        202,
      ),
  },
  {
    method: 'get',
    path: '/api/data/{entity}/{id}/emails',
    operationId: 'sentEmails',
    perEntity: {},
    summary: 'The e-mails sent from the record, newest first, with their status (pending, sent, failed)',
    doc: () => ({ parameters: [idParameter], responses: { 200: json({ type: 'object' }, 'Sent e-mails') } }),
    handle: async ({ c, deps, param, ctx }) => c.json({ data: await sentEmails(deps.data, ctx(), param('entity'), param('id')) }),
  },
];
