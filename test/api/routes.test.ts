/**
 * The route table against the OpenAPI document generated from it: every route served is documented
 * (per-entity routes under every entity they apply to), and nothing is documented that is not served.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join, resolve } from 'node:path';
import { loadPackage } from '../../metadata/loader.js';
import { ROUTES } from '../../engine/http/routes/index.js';
import { drivers, startEngine, type TestEngine } from '../support/engine.js';

const root = resolve(import.meta.dirname, '..', '..');

describe.each(drivers)('route table on %s', (driver) => {
  let e: TestEngine;
  let doc: any;
  beforeAll(async () => {
    e = await startEngine(driver);
    const deployed = await e.call('POST', '/api/meta/deploy', {
      documents: await loadPackage(join(root, 'sample-apps', 'sales')),
    });
    expect(deployed.status).toBe(201);
    doc = (await e.call('GET', '/api/openapi.json')).body;
  });
  afterAll(() => e?.stop());

  it('documents every route it serves', () => {
    // opportunity has a workflow, quote an approval process: every per-entity route applies to one of them.
    const documented = (route: (typeof ROUTES)[number], entity?: string) =>
      doc.paths[entity ? route.path.replace('{entity}', entity) : route.path]?.[route.method];
    for (const route of ROUTES) {
      if (!route.perEntity) {
        expect(documented(route), `${route.method} ${route.path}`).toMatchObject({ operationId: route.operationId });
        continue;
      }
      const entities = ['opportunity', 'quote'].filter((name) => documented(route, name));
      expect(entities.length, `${route.method} ${route.path}`).toBeGreaterThan(0);
      for (const name of entities) expect(documented(route, name).tags).toEqual([name]);
    }
    expect(doc.paths['/api/data/opportunity/{id}/assignments'].get.operationId).toBe('assignmentsOpportunity');
    expect(doc.paths['/api/data/opportunity/{id}/shares/{shareId}'].delete.operationId).toBe('unshareOpportunity');
    expect(doc.paths['/api/meta/forms/{entity}'].get.operationId).toBe('formSchema');
  });

  it('serves every route it documents', async () => {
    const served = new Set(ROUTES.map((r) => `${r.method} ${r.path}`));
    const operations = Object.values<any>(doc.paths).flatMap((ops) => Object.values<any>(ops)).length;
    expect(operations).toBeGreaterThan(ROUTES.length);
    for (const [path, ops] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(ops)) {
        // A deployed report's concrete path is its route's template with the name filled in.
        const perDocument = ROUTES.find(
          (r) =>
            r.perDocument && r.method === method && new RegExp(`^${r.path.replace('{name}', '[a-z][a-z0-9_]*')}$`).test(path),
        );
        const template = perDocument
          ? perDocument.path
          : op.tags.length === 1 && e.metadata.model.entity(op.tags[0])
            ? path.replace(`/api/data/${op.tags[0]}`, '/api/data/{entity}')
            : path;
        expect(served.has(`${method} ${template}`), `${method} ${path}`).toBe(true);
      }
    }
    const operationIds = Object.values<any>(doc.paths).flatMap((ops) => Object.values<any>(ops).map((op) => op.operationId));
    expect(new Set(operationIds).size).toBe(operationIds.length);
  });

  it('asks for a login on every route but the open ones, as the document says', async () => {
    for (const route of ROUTES) {
      const op = doc.paths[route.perEntity ? route.path.replace('{entity}', 'opportunity') : route.path]?.[route.method];
      if (!op) continue;
      expect(op.security, route.path).toEqual(route.auth === false ? [] : undefined);
      if (route.auth === false) continue;
      const path = route.path.replace('{entity}', 'opportunity').replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000');
      const res = await e.callAs(null, route.method.toUpperCase(), path);
      expect(res.status, `${route.method} ${path}`).toBe(401);
    }
  });
});
