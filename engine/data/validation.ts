/**
 * Record validation: the entity's JSON Schema (ajv, compiled once per model version) and its
 * json-logic rules. Messages come in the caller's language; paths are JSON pointers into the body.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import localizeZh from 'ajv-i18n/localize/zh/index.js';
import type { ErrorDetail } from '../errors.js';
import { pointer, unprocessable } from '../errors.js';
import type { CompiledEntity } from '../model/compile.js';
import { evaluateRule, isTruthy } from '../rules/evaluate.js';
import { isStorableText } from '../model/text.js';
import { t } from '../model/language.js';

export { languageOf, type Lang } from '../model/language.js';
import type { Lang } from '../model/language.js';

export interface RuleViolation extends ErrorDetail {
  rule: string;
}

/**
 * A write's input as it is stored: surrounding whitespace of text values trimmed (so a required text of
 * blanks is empty, and refused). A copy; anything but an object is returned as it is, for the schema
 * check to refuse.
 */
export function normalizeInput(entity: CompiledEntity, input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const out: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  for (const f of entity.fields) {
    const value = out[f.name];
    if (f.type.textual && f.kind === 'text' && typeof value === 'string') out[f.name] = value.trim();
    // Ids as PostgreSQL writes them, in lower case: a reference sent in capitals is the same record, and
    // the checks that compare ids as text (references, scopes) must see it so.
    else if (f.kind === 'uuid' && typeof value === 'string') out[f.name] = value.toLowerCase();
    else if (f.kind === 'uuid[]' && Array.isArray(value))
      out[f.name] = value.map((v) => (typeof v === 'string' ? v.toLowerCase() : v));
  }
  return out;
}

/** Text anywhere in the input that PostgreSQL cannot store as given (NUL, a lone surrogate). */
export function unstorableText(value: unknown, lang: Lang, path = ''): ErrorDetail[] {
  if (typeof value === 'string') {
    return isStorableText(value)
      ? []
      : [
          {
            path,
            code: 'invalid_text',
            message: t(lang, 'must not contain NUL characters or unpaired surrogates', '不能包含空字符（NUL）或不成对的代理字符'),
          },
        ];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => unstorableText(v, lang, path + pointer(i)));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => [
      ...unstorableText(k, lang, path + pointer(k)),
      ...unstorableText(v, lang, path + pointer(k)),
    ]);
  }
  return [];
}

/** Whether all text in a value can be stored — the common answer, found without building any details. */
function storable(value: unknown): boolean {
  if (typeof value === 'string') return isStorableText(value);
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) return value.every(storable);
  for (const key of Object.keys(value))
    if (!isStorableText(key) || !storable((value as Record<string, unknown>)[key])) return false;
  return true;
}

/** A field's name as users know it: its label in the caller's language. */
export const fieldLabel = (entity: CompiledEntity | undefined, name: string, lang: Lang) =>
  entity?.field(name)?.doc.label?.[lang] ?? name;

const FORMATS: Record<string, [string, string]> = {
  date: ['a date (YYYY-MM-DD) between 0001 and 9999', '有效日期（YYYY-MM-DD，0001 至 9999 年）'],
  'date-time': [
    'a date and time with a time zone (ISO 8601), years 0001 to 9999',
    '带时区的有效日期时间（ISO 8601，0001 至 9999 年）',
  ],
  email: ['an e-mail address', '有效的电子邮件地址'],
  uri: ['a URL', '有效的网址'],
  uuid: ['the id of a record', '记录的 id'],
  'time-zone': ['an IANA time zone such as Asia/Shanghai', '有效的 IANA 时区（如 Asia/Shanghai）'],
};

/**
 * What one schema error says to a user: the field named by its label, in the caller's language; a
 * pattern explained by the field's own words (its `patternMessage`, else its `help`, else the type's),
 * never shown as a regular expression.
 */
function describe(e: ErrorObject, entity: CompiledEntity | undefined, lang: Lang): string {
  const name = e.instancePath.split('/')[1] ?? '';
  const field = entity?.field(name);
  const label = fieldLabel(entity, name, lang);
  const p = e.params as Record<string, unknown>;
  const limit = p.limit as number;
  switch (e.keyword) {
    case 'pattern': {
      const own =
        (field?.doc.patternMessage as Record<Lang, string> | undefined)?.[lang] ??
        field?.doc.help?.[lang] ??
        field?.type.patternMessage?.[lang];
      return own
        ? `${t(lang, `"${label}": `, `"${label}"：`)}${own}`
        : t(lang, `"${label}" is not in the expected format`, `"${label}"的格式不正确`);
    }
    case 'format': {
      const [en, zh] = FORMATS[String(p.format)] ?? ['a valid value', '有效的值'];
      return t(lang, `"${label}" must be ${en}`, `"${label}"必须是${zh}`);
    }
    case 'maximum':
      return t(lang, `"${label}" must be at most ${limit}`, `"${label}"不能大于 ${limit}`);
    case 'minimum':
      return t(lang, `"${label}" must be at least ${limit}`, `"${label}"不能小于 ${limit}`);
    case 'exclusiveMaximum':
      return t(lang, `"${label}" must be less than ${limit}`, `"${label}"必须小于 ${limit}`);
    case 'exclusiveMinimum':
      return t(lang, `"${label}" must be greater than ${limit}`, `"${label}"必须大于 ${limit}`);
    case 'maxLength':
      return t(lang, `"${label}" may have at most ${limit} characters`, `"${label}"最多 ${limit} 个字符`);
    case 'minLength':
      return t(lang, `"${label}" needs at least ${limit} characters`, `"${label}"至少需要 ${limit} 个字符`);
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).filter((v) => v !== null).join(', ');
      return t(lang, `"${label}" must be one of: ${allowed}`, `"${label}"必须是以下之一：${allowed}`);
    }
    case 'type': {
      const type = String(p.type).replace(',null', '');
      const zh: Record<string, string> = {
        integer: '整数',
        number: '数字',
        string: '文本',
        boolean: '是或否',
        array: '列表',
        object: '对象',
      };
      return t(
        lang,
        `"${label}" must be ${type === 'integer' ? 'a whole number' : `a ${type}`}`,
        `"${label}"必须是${zh[type] ?? type}`,
      );
    }
    case 'uniqueItems':
      return t(lang, `"${label}" lists a value twice`, `"${label}"含有重复的值`);
    default:
      return `${t(lang, `"${label}": `, `"${label}"：`)}${e.message ?? t(lang, 'is invalid', '无效')}`;
  }
}

/** Schema errors of a write, each with its path, a code and a message naming the field by its label. */
export function schemaErrors(
  validate: ValidateFunction,
  value: unknown,
  lang: Lang,
  prefix = '',
  entity?: CompiledEntity,
): ErrorDetail[] {
  const text = storable(value) ? [] : unstorableText(value, lang, prefix);
  if (text.length) return text;
  if (validate(value)) return [];
  const errors = (validate.errors ?? []).map((e) => ({ ...e }));
  if (lang === 'zh-CN') localizeZh(errors as ErrorObject[]);
  return errors.map((e) => {
    if (e.keyword === 'additionalProperties') {
      const name = String(e.params.additionalProperty);
      return {
        path: prefix + e.instancePath + pointer(name),
        code: 'unknown_field',
        message: t(lang, `Unknown or read-only field "${name}"`, `未知或只读字段 "${name}"`),
      };
    }
    // A required text that is blank (minLength 1 after trimming) is missing, like one left out.
    if (e.keyword === 'required' || (e.keyword === 'minLength' && e.params.limit === 1)) {
      const name = e.keyword === 'required' ? String(e.params.missingProperty) : e.instancePath.split('/').pop()!;
      const path = e.keyword === 'required' ? prefix + e.instancePath + pointer(name) : prefix + e.instancePath;
      const label = fieldLabel(entity, name, lang);
      return { path, code: 'required', message: t(lang, `"${label}" is required`, `必须填写 "${label}"`) };
    }
    return { path: prefix + e.instancePath, code: e.keyword, message: describe(e, entity, lang) };
  });
}

/** The answer to a write that failed validation: nothing was written. */
export const invalidWrite = (lang: Lang, details: ErrorDetail[], change = false) =>
  unprocessable(
    'validation_failed',
    change
      ? t(lang, 'The change is invalid; nothing was written', '修改无效，未保存任何内容')
      : t(lang, 'The record is invalid; nothing was written', '记录无效，未保存任何内容'),
    details,
  );

/** Entity rules: each applies when its `when` holds and fails when its `assert` does not. */
export function ruleViolations(entity: CompiledEntity, data: Record<string, unknown>, lang: Lang, prefix = ''): RuleViolation[] {
  const out: RuleViolation[] = [];
  for (const rule of entity.doc.rules ?? []) {
    if (rule.when !== undefined && !isTruthy(evaluateRule(rule.when, data))) continue;
    if (isTruthy(evaluateRule(rule.assert, data))) continue;
    out.push({
      path: prefix + (rule.field ? pointer(rule.field) : ''),
      code: 'rule_violation',
      rule: rule.name,
      message: rule.message[lang] ?? rule.message.en,
    });
  }
  return out;
}
