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

export { languageOf, type Lang } from '../model/language.js';
import type { Lang } from '../model/language.js';

export interface RuleViolation extends ErrorDetail {
  rule: string;
}

export function schemaErrors(validate: ValidateFunction, value: unknown, lang: Lang, prefix = ''): ErrorDetail[] {
  if (validate(value)) return [];
  const errors = (validate.errors ?? []).map((e) => ({ ...e }));
  if (lang === 'zh-CN') localizeZh(errors as ErrorObject[]);
  return errors.map((e) => {
    if (e.keyword === 'additionalProperties') {
      const name = String(e.params.additionalProperty);
      return { path: prefix + e.instancePath + pointer(name), code: 'unknown_field', message: lang === 'zh-CN' ? `未知或只读字段 "${name}"` : `Unknown or read-only field "${name}"` };
    }
    if (e.keyword === 'required') {
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
