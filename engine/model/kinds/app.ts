/** The `app` kind: a named, versioned set of modules (entities) — what a package deploys as one application. */
import { pointer } from '../../errors.js';
import type { DocumentKindDefinition, MetadataDocument } from '../../registry/types.js';
import { loadSchema } from './load-schema.js';

export interface AppDoc extends MetadataDocument {
  version: string;
  modules?: string[];
}

export const appKind: DocumentKindDefinition = {
  kind: 'app',
  schema: () => loadSchema(import.meta.url, './app.schema.json'),
  check: (doc, all) =>
    ((doc as AppDoc).modules ?? []).flatMap((m, i) =>
      all.get('entity', m)
        ? []
        : [{ path: pointer('modules', i), code: 'unknown_entity', message: `Module "${m}" is not a deployed entity` }],
    ),
};
