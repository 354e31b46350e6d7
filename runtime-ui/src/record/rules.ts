/**
 * The entity's json-logic rules evaluated in the browser exactly as the server evaluates them (same
 * rules from the form model, same messages in the language, same context: the record with $user and
 * $now), so a rule violation shows at its field before anything is sent. It is the server's own
 * evaluator (engine/rules/evaluate.ts: json-logic-js with the same safety changes) with the same
 * operations: the core ones from engine/rules/operations.ts and every plugin's from
 * plugins/<name>/operations.ts — one home each, imported by server and browser alike.
 */
import { evaluateRule, isKnownOperation, isTruthy, registerOperation } from '../../../engine/rules/evaluate';
import { coreOperations } from '../../../engine/rules/operations';
import type { Rule } from '../meta';

type Operation = { name: string; evaluate: (...args: any[]) => unknown };
const pluginOperations = import.meta.glob<Operation[]>('../../../plugins/*/operations.ts', { eager: true, import: 'operations' });
for (const op of [...coreOperations, ...Object.values(pluginOperations).flat()])
  registerOperation(op.name, op.evaluate as Operation['evaluate']);

/** The operations this evaluator knows (for tests: they must be the server's). */
export const knowsOperation = isKnownOperation;

export const truthy = (v: unknown) => isTruthy(v);

/** The rule's value, or undefined when it cannot be evaluated here (the server then decides). */
export function evaluate(logic: unknown, data: Record<string, unknown>): unknown {
  try {
    return evaluateRule(logic, data);
  } catch {
    return undefined;
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
    // The form model sends `when: null` for a rule that always applies.
    if (rule.when !== undefined && rule.when !== null && !truthy(evaluate(rule.when, data))) continue;
    const holds = evaluate(rule.assert, data);
    // A rule this browser cannot evaluate blocks nothing: the server, which can, still checks it.
    if (holds === undefined || truthy(holds)) continue;
    out.push({ field: rule.field, rule: rule.name, message: rule.message });
  }
  return out;
}
