/**
 * The REST surface (hono). Routes only translate HTTP to operations and back: parsing, status codes,
 * headers. Every record operation goes through DataService; every metadata change through
 * MetadataService.deploy.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { AppError, badRequest } from '../errors.js';
import type { DataService, OperationContext } from '../data/service.js';
import { languageOf } from '../data/validation.js';
import type { MetadataService } from '../../metadata/service.js';
import { buildOpenApi } from './openapi.js';

export interface AppDeps {
  data: DataService;
  metadata: MetadataService;
  driver: string;
}

const MAX_BODY = 16 * 1024 * 1024;

async function jsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (!text.trim()) throw badRequest('invalid_json', 'The request body is empty; send JSON');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest('invalid_json', `The request body is not valid JSON: ${(e as Error).message}`);
  }
}

const operationContext = (c: Context): OperationContext => ({ user: null, lang: languageOf(c.req.header('accept-language')) });

export function createApp({ data, metadata, driver }: AppDeps) {
  const app = new Hono();

  app.onError((err, c) => {
    if (err instanceof AppError) return c.json(err.toJSON(), err.status as 400);
    console.error(err);
    return c.json({ error: { code: 'internal_error', message: 'Something went wrong on the server' } }, 500);
  });
  app.notFound((c) => c.json({ error: { code: 'not_found', message: `No route ${c.req.method} ${c.req.path}` } }, 404));
  app.use(
    '/api/*',
    bodyLimit({ maxSize: MAX_BODY, onError: (c) => c.json({ error: { code: 'body_too_large', message: `Bodies are limited to ${MAX_BODY} bytes` } }, 413) }),
  );

  app.get('/api/health', (c) => c.json({ status: 'ok', database: driver, metadataVersion: metadata.model.version }));
  app.get('/api/openapi.json', (c) => c.json(buildOpenApi(metadata.model)));

  // ── metadata ──
  app.post('/api/meta/deploy', async (c) => {
    const result = await metadata.deploy(await jsonBody(c), operationContext(c).user?.id);
    return c.json(result, result.applied ? 201 : 200);
  });
  app.get('/api/meta/documents', (c) => {
    const kind = c.req.query('kind');
    const docs = kind ? metadata.model.documents.all(kind) : metadata.model.documents.values();
    return c.json({ version: metadata.model.version, data: docs });
  });
  app.get('/api/meta/documents/:kind/:name', (c) => {
    const doc = metadata.model.documents.get(c.req.param('kind'), c.req.param('name'));
    if (!doc) throw new AppError(404, 'document_not_found', `No deployed ${c.req.param('kind')} named ${c.req.param('name')}`);
    return c.json(doc);
  });
  app.get('/api/meta/documents/:kind/:name/versions', async (c) => {
    const versions = await metadata.store.history(c.req.param('kind'), c.req.param('name'));
    if (!versions.length) throw new AppError(404, 'document_not_found', `${c.req.param('kind')}/${c.req.param('name')} was never deployed`);
    return c.json({ data: versions });
  });
  app.get('/api/meta/deployments', async (c) => c.json({ data: await metadata.store.deployments() }));
  app.get('/api/meta/schemas/:kind', (c) => {
    const schema = metadata.validator.schemaOf(c.req.param('kind'));
    if (!schema) throw new AppError(404, 'unknown_kind', `No document kind ${c.req.param('kind')}`);
    return c.json(schema);
  });

  // ── records ──
  app.get('/api/data/:entity', async (c) => c.json(await data.list(operationContext(c), c.req.param('entity'), c.req.query())));
  app.post('/api/data/:entity', async (c) => {
    const created = await data.create(operationContext(c), c.req.param('entity'), await jsonBody(c));
    if (!Array.isArray(created)) {
      c.header('Location', `/api/data/${c.req.param('entity')}/${created.id}`);
      c.header('ETag', `"${created.version}"`);
    }
    return c.json({ data: created }, 201);
  });
  app.get('/api/data/:entity/:id', async (c) => {
    const record = await data.get(operationContext(c), c.req.param('entity'), c.req.param('id'), c.req.query());
    c.header('ETag', `"${record.version}"`);
    return c.json({ data: record });
  });
  app.patch('/api/data/:entity/:id', async (c) => {
    const record = await data.update(operationContext(c), c.req.param('entity'), c.req.param('id'), await jsonBody(c), c.req.header('if-match'));
    c.header('ETag', `"${record.version}"`);
    return c.json({ data: record });
  });
  app.delete('/api/data/:entity/:id', async (c) => c.json({ data: await data.remove(operationContext(c), c.req.param('entity'), c.req.param('id'), c.req.header('if-match')) }));
  app.post('/api/data/:entity/:id/restore', async (c) => c.json({ data: await data.restore(operationContext(c), c.req.param('entity'), c.req.param('id')) }));

  return app;
}
