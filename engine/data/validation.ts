/**
 * Record validation: the entity's JSON Schema (ajv, compiled once per model version) and its
 * json-logic rules. Messages come in the caller's language; paths are JSON pointers into the body.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import localizeZh from 'ajv-i18n/localize/zh/index.js';
import type { ErrorDetail } from '../errors.js';
import { pointer } from '../errors.js';
import type { CompiledEntity } from '../model/compile.js';
import { evaluateRule, isTruthy } from '../rules/evaluate.js';
import { isStorableText } from '../model/text.js';
import { t } from '../i18n.js';

import type { Lang } from '../i18n.js';

export { languageOf, type Lang } from '../i18n.js';

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
    if (f.type.textual && f.kind === 'text' && typeof out[f.name] === 'string') out[f.name] = (out[f.name] as string).trim();
  }
  return out;
}

/** Text anywhere in the input that PostgreSQL cannot store as given (NUL, a lone surrogate). */
export function unstorableText(value: unknown, lang: Lang, path = ''): ErrorDetail[] {
  if (typeof value === 'string') {
    return isStorableText(value) ? [] : [{ path, code: 'invalid_text', message: t(lang, 'must not contain NUL characters or unpaired surrogates', '不能包含空字符（NUL）或不成对的代理字符') }];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => unstorableText(v, lang, path + pointer(i)));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => [...unstorableText(k, lang, path + pointer(k)), ...unstorableText(v, lang, path + pointer(k))]);
  }
  return [];
}

export function schemaErrors(validate: ValidateFunction, value: unknown, lang: Lang, prefix = ''): ErrorDetail[] {
  const text = unstorableText(value, lang, prefix);
  if (text.length) return text;
  if (validate(value)) return [];
  const errors = (validate.errors ?? []).map((e) => ({ ...e }));
  if (lang === 'zh-CN') localizeZh(errors as ErrorObject[]);
  return errors.map((e) => {
    if (e.keyword === 'additionalProperties') {
      const name = String(e.params.additionalProperty);
      return { path: prefix + e.instancePath + pointer(name), code: 'unknown_field', message: lang === 'zh-CN' ? `未知或只读字段 "${name}"` : `Unknown or read-only field "${name}"` };
    }
    if (e.keyword === 'required' || (e.keyword === 'minLength' && e.params.limit === 1)) {
      if (e.keyword === 'minLength') {
        const name = e.instancePath.split('/').pop()!;
        return { path: prefix + e.instancePath, code: 'required', message: lang === 'zh-CN' ? `必须填写 "${name}"` : `"${name}" is required` };
      }
      const name = String(e.params.missingProperty);
      return { path: prefix + e.instancePath + pointer(name), code: 'required', message: lang === 'zh-CN' ? `必须填写 "${name}"` : `"${name}" is required` };
    }
    const allowed = e.keyword === 'enum' ? `: ${(e.params.allowedValues as unknown[]).filter((v) => v !== null).join(', ')}` : '';
    return { path: prefix + e.instancePath, code: e.keyword, message: (e.message ?? 'is invalid') + allowed };
  });
}

/** Entity rules: each applies when its `when` holds and fails when its `assert` does not. */
export function ruleViolations(entity: CompiledEntity, data: Record<string, unknown>, lang: Lang, prefix = ''): RuleViolation[] {
  const out: RuleViolation[] = [];
  for (const rule of entity.doc.rules ?? []) {
    if (rule.when !== undefined && !isTruthy(evaluateRule(rule.when, data))) continue;
    if (isTruthy(evaluateRule(rule.assert, data))) continue;
    out.push({ path: prefix + (rule.field ? pointer(rule.field) : ''), code: 'rule_violation', rule: rule.name, message: rule.message[lang] });
  }
  return out;
}
