/**
 * The one place ajv instances are made (record validators, meta-schemas, deploy requests, field
 * defaults, transition inputs), so every validator speaks the same dialect (JSON Schema 2020-12,
 * formats, the engine's x- annotation keywords), and ajv errors become the API's error details here.
 */
import { Ajv2020, type ErrorObject, type Options } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { pointer, type ErrorDetail } from '../errors.js';
import { isDate, isDateTime } from './formats.js';
import { isTimeZone } from './time-zone.js';

/** Annotation keywords of generated schemas (form-schema.ts): carried along, never validated. */
const ANNOTATIONS = ['x-dictionary', 'x-reference', 'x-documents', 'x-users', 'x-widget'];

/** A new ajv: allErrors and no strict mode unless `options` say otherwise; `withFormats` adds ajv-formats. */
export function createAjv(options: Options & { withFormats?: boolean } = {}): Ajv2020 {
  const { withFormats, ...rest } = options;
  const ajv = new Ajv2020({ strict: false, allErrors: true, ...rest });
  if (withFormats) {
    (addFormats.default ?? (addFormats as unknown as (a: Ajv2020) => void))(ajv);
    // What PostgreSQL's date and timestamptz accept (no year 0, no leap second), not merely RFC 3339.
    ajv.addFormat('date', { type: 'string', validate: isDate });
    ajv.addFormat('date-time', { type: 'string', validate: isDateTime });
    // A zone name (Asia/Shanghai, UTC), not an offset such as +08:00, which Intl also accepts.
    ajv.addFormat('time-zone', {
      type: 'string',
      validate: (tz: string) => /^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(tz) && isTimeZone(tz),
    });
  }
  for (const keyword of ANNOTATIONS) ajv.addKeyword({ keyword });
  return ajv;
}

export type { ValidateFunction } from 'ajv/dist/2020.js';

export function ajvErrorsToDetails(errors: ErrorObject[] | null | undefined, prefix = ''): ErrorDetail[] {
  return (errors ?? [])
    .filter((e) => e.keyword !== 'if')
    .map((e) => {
      let path = prefix + e.instancePath;
      if (e.keyword === 'additionalProperties') path += pointer(String(e.params.additionalProperty));
      if (e.keyword === 'required') path += pointer(String(e.params.missingProperty));
      const message =
        e.keyword === 'additionalProperties'
          ? `Unknown property "${e.params.additionalProperty}"`
          : e.keyword === 'required'
            ? `Missing required property "${e.params.missingProperty}"`
            : e.keyword === 'enum'
              ? `${e.message}: ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
              : (e.message ?? 'is invalid');
      return { path, message, code: e.keyword };
    });
}
