/**
 * Report parameters: what a viewer may set in the query string (a period, a region …). Each value is
 * parsed to its declared type and validated, defaults fill the rest; the result is what filters see as
 * `$params`. A bad value is a 400 pointing at `/query/<name>`.
 */
import { badRequest, type ErrorDetail } from '../errors.js';
import type { DictionaryDoc } from '../model/kinds/dictionary.js';
import { UUID } from '../model/ids.js';
import { RELATIVE_DATES, relativeDate } from './dates.js';
import type { ParameterDoc } from './types.js';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const validDate = (s: string) => DATE.test(s) && s >= '0001' && new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) === s;

/** A parameter value (from the query string, or a document's default) checked against the parameter. */
function check(p: ParameterDoc, value: unknown, dictionary: DictionaryDoc | undefined): { value?: unknown; problem?: string } {
  switch (p.type) {
    case 'date':
      return typeof value === 'string' && validDate(value) ? { value } : { problem: "a date 'YYYY-MM-DD'" };
    case 'number': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      return typeof n === 'number' && Number.isFinite(n) ? { value: n } : { problem: 'a number' };
    }
    case 'integer': {
      const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
      return typeof n === 'number' && Number.isSafeInteger(n) ? { value: n } : { problem: 'an integer' };
    }
    case 'boolean':
      return value === true || value === 'true'
        ? { value: true }
        : value === false || value === 'false'
          ? { value: false }
          : { problem: 'true or false' };
    case 'text':
      return typeof value === 'string' && value.length <= 200 && !value.includes('\0')
        ? { value }
        : { problem: 'a text of at most 200 characters' };
    case 'picklist': {
      const values = dictionary?.items.map((i) => i.value) ?? [];
      return typeof value === 'string' && values.includes(value) ? { value } : { problem: `one of ${values.join(', ')}` };
    }
    case 'reference':
      return typeof value === 'string' && UUID.test(value) ? { value } : { problem: 'a record id (uuid)' };
  }
}

/** Deploy check of a default: a value of the type, or a relative date token for dates. */
export function parameterDefaultProblem(p: ParameterDoc, dictionary: DictionaryDoc | undefined): string | undefined {
  if (p.type === 'date' && typeof p.default === 'string' && RELATIVE_DATES.includes(p.default)) return undefined;
  const { problem } = check(p, p.default, dictionary);
  return problem && `The default must be ${problem}${p.type === 'date' ? ` or one of ${RELATIVE_DATES.join(', ')}` : ''}`;
}

/** Query-string keys that are not parameters (export format …). */
export const RESERVED_QUERY = new Set(['format']);

export function parseParameters(
  declared: ParameterDoc[],
  query: Record<string, string | undefined>,
  dictionary: (name: string) => DictionaryDoc | undefined,
  timeZone: string,
  lang: 'en' | 'zh-CN',
): Record<string, unknown> {
  const errors: ErrorDetail[] = [];
  const byName = new Map(declared.map((p) => [p.name, p]));
  for (const key of Object.keys(query)) {
    if (!byName.has(key) && !RESERVED_QUERY.has(key))
      errors.push({
        path: `/query/${key}`,
        code: 'unknown_parameter',
        message: lang === 'zh-CN' ? `报表没有参数 "${key}"` : `The report has no parameter "${key}"`,
      });
  }
  const out: Record<string, unknown> = {};
  for (const p of declared) {
    const raw = query[p.name];
    if (raw === undefined || raw === '') {
      if (p.default !== undefined)
        out[p.name] =
          p.type === 'date' && typeof p.default === 'string' && RELATIVE_DATES.includes(p.default)
            ? relativeDate(p.default, timeZone)
            : p.default;
      else if (p.required)
        errors.push({
          path: `/query/${p.name}`,
          code: 'required',
          message: lang === 'zh-CN' ? `缺少参数 "${p.name}"` : `The parameter "${p.name}" is required`,
        });
      else out[p.name] = null;
      continue;
    }
    const { value, problem } = check(p, raw, p.dictionary ? dictionary(p.dictionary) : undefined);
    if (problem)
      errors.push({
        path: `/query/${p.name}`,
        code: 'invalid_parameter',
        message: lang === 'zh-CN' ? `参数 "${p.name}" 应为 ${problem}` : `The parameter "${p.name}" must be ${problem}`,
      });
    else out[p.name] = value;
  }
  if (errors.length)
    throw badRequest('invalid_parameters', lang === 'zh-CN' ? '报表参数无效' : 'Invalid report parameters', errors);
  return out;
}

/**
 * A parameter as an OpenAPI query parameter: its type as JSON Schema (a picklist's values, a date's
 * format), whether it is required, and its default — a relative date token is described, not given as
 * the schema's default, since it is not a value of the type.
 */
export function parameterSchema(p: ParameterDoc, dictionary: DictionaryDoc | undefined) {
  const schema: Record<string, unknown> =
    p.type === 'date'
      ? { type: 'string', format: 'date' }
      : p.type === 'number'
        ? { type: 'number' }
        : p.type === 'integer'
          ? { type: 'integer' }
          : p.type === 'boolean'
            ? { type: 'boolean' }
            : p.type === 'picklist'
              ? { type: 'string', enum: dictionary?.items.map((i) => i.value) ?? [] }
              : p.type === 'reference'
                ? { type: 'string', format: 'uuid', 'x-reference': p.to }
                : { type: 'string', maxLength: 200 };
  const relative = p.type === 'date' && typeof p.default === 'string' && RELATIVE_DATES.includes(p.default);
  if (p.default !== undefined && !relative) schema.default = p.default;
  return {
    name: p.name,
    in: 'query',
    required: Boolean(p.required && p.default === undefined),
    description: `${p.label.en} / ${p.label['zh-CN']}${relative ? ` (default: ${p.default})` : ''}`,
    schema,
  };
}
