/**
 * Files: uploads for file fields, each record's attachments list, downloads (engine/data/operations/files.ts).
 * Uploads are the raw bytes as the body (Content-Type: the file's type) with the name in `?name=`.
 */
import {
  addAttachment,
  download,
  listAttachments,
  MAX_ATTACHMENT_SIZE,
  removeAttachment,
  uploadFieldFile,
} from '../../data/operations/files.js';
import { MAX_FILE_SIZE } from '../../core/file-field.js';
import type { Call, Route } from '../route.js';
import { errorResponse, idParameter, json, pathParameter } from '../route.js';

const fileRef = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    size: { type: 'integer' },
    type: { type: 'string' },
  },
};
const nameParameter = {
  name: 'name',
  in: 'query',
  required: true,
  description: 'The file name (URL-encoded UTF-8)',
  schema: { type: 'string', maxLength: 255 },
};
const binaryBody = { required: true, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } };
const upload = async ({ c, bytes }: Call) => ({ name: undefined, type: c.req.header('content-type'), bytes: await bytes() });
const perEntity = {};

export const fileRoutes: Route[] = [
  {
    method: 'post',
    path: '/api/files',
    operationId: 'uploadFile',
    tag: 'files',
    summary: "Upload a file for a file field (within the field's size and type limits); save its reference in the record",
    bodyLimit: MAX_FILE_SIZE,
    doc: () => ({
      parameters: [
        { name: 'entity', in: 'query', required: true, schema: { type: 'string' } },
        { name: 'field', in: 'query', required: true, description: 'A field of type file', schema: { type: 'string' } },
        nameParameter,
      ],
      requestBody: binaryBody,
      responses: {
        201: json(
          { type: 'object', properties: { data: fileRef } },
          'Stored; bound to a record when the record is saved with it',
        ),
        400: errorResponse('Not a file field, or no name'),
        403: errorResponse('You may not write the field'),
        413: errorResponse('Larger than the field allows'),
        422: errorResponse('A type the field does not accept'),
      },
    }),
    handle: async (call) =>
      call.c.json(
        { data: await uploadFieldFile(call.deps.data, call.ctx(), call.deps.files, call.c.req.query(), await upload(call)) },
        201,
      ),
  },
  {
    method: 'get',
    path: '/api/files/{id}',
    operationId: 'downloadFile',
    tag: 'files',
    summary: "Download a file (the record's read right, and the field's)",
    doc: () => ({
      parameters: [idParameter],
      responses: {
        200: { description: 'The file', content: { '*/*': { schema: { type: 'string', format: 'binary' } } } },
        404: errorResponse('No such file for you'),
      },
    }),
    async handle({ c, deps, param, ctx }) {
      const { file, bytes } = await download(deps.data, ctx(), deps.files, param('id'));
      const inline = c.req.query('inline') === '1' && /^(image\/(png|jpeg|gif|webp)|application\/pdf)$/.test(file.type);
      return c.body(new Uint8Array(bytes), 200, {
        'content-type': file.type,
        'content-disposition': `${inline ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(file.name)}`,
        // An uploaded HTML or SVG must never run as this origin's page.
        'content-security-policy': "default-src 'none'; sandbox",
        'x-content-type-options': 'nosniff',
        'cache-control': 'private, no-store',
      });
    },
  },
  {
    method: 'get',
    path: '/api/data/{entity}/{id}/attachments',
    operationId: 'listAttachments',
    perEntity,
    summary: "The record's attachments, newest first",
    doc: () => ({
      parameters: [idParameter],
      responses: {
        200: json({ type: 'object', properties: { data: { type: 'array', items: fileRef } } }, 'Attachments'),
        404: errorResponse('No such record for you'),
      },
    }),
    handle: async ({ c, deps, param, ctx }) =>
      c.json({ data: await listAttachments(deps.data, ctx(), param('entity'), param('id')) }),
  },
  {
    method: 'post',
    path: '/api/data/{entity}/{id}/attachments',
    operationId: 'addAttachment',
    perEntity,
    summary: "Attach a file to the record (the record's update right)",
    bodyLimit: MAX_ATTACHMENT_SIZE,
    doc: () => ({
      parameters: [idParameter, nameParameter],
      requestBody: binaryBody,
      responses: {
        201: json({ type: 'object', properties: { data: fileRef } }, 'Attached'),
        403: errorResponse('You may not change the record'),
        404: errorResponse('No such record for you'),
        413: errorResponse('Too large'),
      },
    }),
    handle: async (call) =>
      call.c.json(
        {
          data: await addAttachment(
            call.deps.data,
            call.ctx(),
            call.deps.files,
            call.param('entity'),
            call.param('id'),
            call.c.req.query(),
            await upload(call),
          ),
        },
        201,
      ),
  },
  {
    method: 'delete',
    path: '/api/data/{entity}/{id}/attachments/{fileId}',
    operationId: 'removeAttachment',
    perEntity,
    summary: "Remove an attachment (the record's update right)",
    doc: () => ({
      parameters: [idParameter, pathParameter('fileId', { type: 'string', format: 'uuid' })],
      responses: {
        204: { description: 'Removed' },
        403: errorResponse('You may not change the record'),
        404: errorResponse('No such attachment'),
      },
    }),
    async handle({ c, deps, param, ctx }) {
      await removeAttachment(deps.data, ctx(), param('entity'), param('id'), param('fileId'));
      return c.body(null, 204);
    },
  },
];
