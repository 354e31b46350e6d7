/** The `template` kind: a message (subject and body, both languages) that notify actions render with handlebars. */
import { pointer, type ErrorDetail } from '../errors.js';
import type { DocumentKindDefinition, MetadataDocument } from '../registry/types.js';
import { loadSchema } from '../model/kinds/load-schema.js';
import { templateProblems } from './render.js';

export interface TemplateDoc extends MetadataDocument {
  entity?: string;
  subject: { en: string; 'zh-CN': string };
  body: { en: string; 'zh-CN': string };
  /** A printed document of the entity's records (engine/documents/print.ts). */
  print?: boolean;
}

export const templateKind: DocumentKindDefinition = {
  kind: 'template',
  schema: () => loadSchema(import.meta.url, './template.schema.json'),
  check: (doc, all) => {
    const t = doc as TemplateDoc;
    const errors: ErrorDetail[] = [];
    if (t.entity !== undefined && !all.get('entity', t.entity))
      errors.push({ path: '/entity', code: 'unknown_entity', message: `Entity "${t.entity}" does not exist` });
    if (t.print && t.entity === undefined)
      errors.push({ path: '/print', code: 'print_needs_entity', message: 'A print template names the entity it prints' });
    for (const part of ['subject', 'body'] as const)
      for (const lang of ['en', 'zh-CN'] as const) errors.push(...templateProblems(t[part][lang], pointer(part, lang)));
    return errors;
  },
};
