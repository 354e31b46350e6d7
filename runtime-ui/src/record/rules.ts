/**
 * The entity's json-logic rules evaluated in the browser exactly as the server evaluates them (same
 * rules from the form model, same messages in the language, same context: the record with $user and
 * $now), so a rule violation shows at its field before anything is sent. Core operations the server
 * registers (days_between) are registered here with the same meaning.
 */
import jsonLogic from 'json-logic-js';
import type { Rule } from '../meta';

const DAY = 86_400_000;
const toTime = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? Date.parse(String(v)) : NaN);
jsonLogic.add_operation('days_between', (a: unknown, b: unknown) => {
  const x = toTime(a);
  const y = toTime(b);
  return Number.isNaN(x) || Number.isNaN(y) ? null : Math.floor((y - x) / DAY);
});

export const truthy = (v: unknown) => jsonLogic.truthy(v);

export function evaluate(logic: unknown, data: Record<string, unknown>): unknown {
  try {
    return jsonLogic.apply(logic as any, data);
  } catch {
    return null;
  }
}

export interface Violation {
  field?: string;
  rule: string;
  message: string;
}

export function ruleViolations(rules: Rule[], data: Record<string, unknown>): Violation[] {
  const out: Violation[] = [];
  for (const rule of rules) {
    if (rule.when !== undefined && !truthy(evaluate(rule.when, data))) continue;
    if (truthy(evaluate(rule.assert, data))) continue;
    out.push({ field: rule.field, rule: rule.name, message: rule.message });
  }
  return out;
}
