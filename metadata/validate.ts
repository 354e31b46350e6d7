/**
 * Validates a deploy's documents: each against its kind's meta-schema, then all of them together
 * (with what stays deployed) for cross-references. Errors point into the request with JSON pointers.
 */
import { pointer, type ErrorDetail } from '../engine/errors.js';
import { ajvErrorsToDetails, createAjv, type ValidateFunction } from '../engine/model/ajv.js';
import type { DocumentSet, MetadataDocument, RegistryView } from '../engine/registry/types.js';
import { commonSchema, fieldSchema } from '../engine/model/kinds/field.js';

export class DocumentMap implements DocumentSet {
  private readonly map = new Map<string, MetadataDocument>();
  constructor(docs: Iterable<MetadataDocument> = []) {
    for (const d of docs) this.put(d);
  }
  static key = (kind: string, name: string) => `${kind}/${name}`;
  put(doc: MetadataDocument) {
    this.map.set(DocumentMap.key(doc.kind, doc.name), doc);
  }
  remove(kind: string, name: string) {
    return this.map.delete(DocumentMap.key(kind, name));
  }
  get<T extends MetadataDocument = MetadataDocument>(kind: string, name: string) {
    return this.map.get(DocumentMap.key(kind, name)) as T | undefined;
  }
  all<T extends MetadataDocument = MetadataDocument>(kind: string) {
    return [...this.map.values()].filter((d) => d.kind === kind) as T[];
  }
  values() {
    return [...this.map.values()];
  }
}

export interface DocumentRef {
  kind: string;
  name: string;
}

export class MetadataValidator {
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly registry: RegistryView) {
    const ajv = createAjv();
    ajv.addSchema(commonSchema);
    ajv.addSchema(fieldSchema(registry));
    for (const kind of registry.documentKinds()) this.validators.set(kind.kind, ajv.compile(kind.schema(registry)));
  }

  /** The meta-schema of a kind, for clients (designer UI) and docs. */
  schemaOf(kind: string) {
    return this.validators.get(kind)?.schema;
  }

  /**
   * @param documents what the deploy brings (upserts by kind and name)
   * @param deployed what is deployed now
   * @param deletions documents the deploy removes
   * @returns the document set the deploy would leave, or errors
   */
  validate(documents: unknown[], deployed: Iterable<MetadataDocument>, deletions: DocumentRef[] = []) {
    const errors: ErrorDetail[] = [];
    const seen = new Map<string, number>();
    documents.forEach((doc, i) => {
      const at = pointer('documents', i);
      const kind = (doc as { kind?: unknown })?.kind;
      const validate = typeof kind === 'string' ? this.validators.get(kind) : undefined;
      if (!validate) {
        errors.push({
          path: at + '/kind',
          code: 'unknown_kind',
          message: `Unknown document kind ${JSON.stringify(kind)}; known: ${[...this.validators.keys()].join(', ')}`,
        });
        return;
      }
      if (!validate(doc)) {
        errors.push(...ajvErrorsToDetails(validate.errors, at));
        return;
      }
      const key = DocumentMap.key(kind as string, (doc as MetadataDocument).name);
      if (seen.has(key))
        errors.push({ path: at + '/name', code: 'duplicate_document', message: `${key} appears twice in this deploy` });
      seen.set(key, i);
    });
    if (errors.length) return { errors, result: undefined };

    const result = new DocumentMap(deployed);
    deletions.forEach((ref, i) => {
      if (!result.remove(ref.kind, ref.name)) {
        errors.push({ path: pointer('delete', i), code: 'not_deployed', message: `${ref.kind}/${ref.name} is not deployed` });
      }
    });
    for (const doc of documents as MetadataDocument[]) result.put(doc);

    // Check every document of the result: a change to one (a dropped dictionary) can break another.
    for (const doc of result.values()) {
      const index = seen.get(DocumentMap.key(doc.kind, doc.name));
      const at = index === undefined ? pointer('deployed', doc.kind, doc.name) : pointer('documents', index);
      for (const e of this.registry.documentKind(doc.kind)?.check?.(doc, result, this.registry) ?? []) {
        errors.push({ ...e, path: at + e.path });
      }
    }
    return errors.length ? { errors, result: undefined } : { errors, result };
  }
}
