/**
 * Static checking of json-logic rules at metadata deploy time, so that a bad rule is a 400/422 with a
 * JSON pointer when it is deployed rather than a surprise when a record is saved or a list filtered.
 *
 * It checks that every operator exists, that variables name known fields (or `$` context variables
 * where those exist) and that nothing reaches for prototypes. It also reports which fields a rule
 * reads (`fieldsUsed`), e.g. to order formulas and detect cycles.
 */
import { pointer, type ErrorDetail } from '../errors.js';
import { SCOPED_OPERATIONS, hasUnsafeSegment, isKnownOperation, isLogic, varSegments } from './evaluate.js';

export interface CheckOptions {
  /** Names a variable's first path segment may use. */
  fields: ReadonlySet<string>;
  /** Whether `$`-prefixed context variables ($user, $now…) are available where the rule runs. */
  allowContext?: boolean;
  /** JSON pointer of the rule inside the document, prefixed to every error path. */
  path?: string;
  /** Record variables are the record's own columns (a role scope compiled to SQL): `account.region` is refused. */
  noPaths?: boolean;
}

export interface CheckResult {
  errors: ErrorDetail[];
  /** First segments of the record variables the rule reads (known or not; `$` variables excluded). */
  fieldsUsed: Set<string>;
  /** Whole names of the record variables with more than one segment (`product.list_price`). */
  pathsUsed: Set<string>;
}

export function checkRule(rule: unknown, options: CheckOptions): CheckResult {
  const errors: ErrorDetail[] = [];
  const fieldsUsed = new Set<string>();
  const pathsUsed = new Set<string>();
  const fail = (path: string, code: string, message: string) => errors.push({ path, code, message });

  /** A literal variable name; `scoped` = inside map/filter/…, where names refer to the current element. */
  const checkName = (name: string | number, path: string, scoped: boolean) => {
    if (hasUnsafeSegment(name)) {
      fail(
        path,
        'unsafe_rule',
        `Variable "${name}" is not allowed: __proto__, prototype and constructor can't be used in variable names`,
      );
      return;
    }
    if (scoped) return;
    const first = varSegments(name)[0]!;
    if (first.startsWith('$')) {
      if (!options.allowContext) fail(path, 'unknown_field', `Context variable "${first}" is not available here`);
      return;
    }
    fieldsUsed.add(first);
    if (varSegments(name).length > 1) pathsUsed.add(String(name));
    if (!options.fields.has(first)) fail(path, 'unknown_field', `Unknown field "${first}"`);
    else if (options.noPaths && varSegments(name).length > 1)
      fail(path, 'unknown_field', `"${name}": only the record's own fields can be used here, not paths through references`);
  };

  const walk = (node: unknown, path: string, scoped: boolean): void => {
    if (Array.isArray(node)) {
      node.forEach((n, i) => walk(n, path + pointer(i), scoped));
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    if (!isLogic(node)) {
      fail(path, 'invalid_rule', 'An object in a rule must have exactly one key: the operator');
      return;
    }
    const op = Object.keys(node)[0]!;
    const at = path + pointer(op);
    const raw = node[op];
    // `{"op": x}` is shorthand for `{"op": [x]}`; the lone argument sits at the operator's own path.
    const args = Array.isArray(raw) ? raw : [raw];
    const argPath = (i: number) => (Array.isArray(raw) ? at + pointer(i) : at);

    if (op === 'method') return void fail(at, 'unsafe_rule', 'The "method" operator is not allowed');
    if (!isKnownOperation(op)) {
      fail(at, 'unknown_operator', `Unknown operator "${op}"`);
      walk(raw, at, scoped);
      return;
    }
    if (op === 'var') {
      const name = args[0];
      if (typeof name === 'string' || typeof name === 'number') {
        if (name === '' && !scoped) fail(argPath(0), 'invalid_rule', 'A variable needs a field name');
        else if (name !== '') checkName(name, argPath(0), scoped);
      } else if (name === undefined || name === null) {
        if (!scoped) fail(argPath(0), 'invalid_rule', 'A variable needs a field name');
      } else {
        fail(argPath(0), 'invalid_rule', 'Variable names must be literal strings');
      }
      if (args.length > 1) walk(args[1], argPath(1), scoped); // default value
      return;
    }
    // missing/missing_some take variable names as arguments: `{"missing": ["a", "b"]}`,
    // `{"missing": [["a", "b"]]}`, `{"missing_some": [1, ["a", "b"]]}`.
    const checkNames = (names: unknown[], base: string) =>
      names.forEach((n, i) =>
        typeof n === 'string' || typeof n === 'number'
          ? checkName(n, base + pointer(i), scoped)
          : walk(n, base + pointer(i), scoped),
      );
    if (op === 'missing') {
      if (Array.isArray(raw) && raw.length === 1 && Array.isArray(raw[0])) checkNames(raw[0], at + pointer(0));
      else if (Array.isArray(raw)) checkNames(raw, at);
      else if (typeof raw === 'string' || typeof raw === 'number') checkName(raw, at, scoped);
      else walk(raw, at, scoped);
      return;
    }
    if (op === 'missing_some') {
      walk(args[0], argPath(0), scoped);
      if (Array.isArray(raw) && Array.isArray(raw[1])) checkNames(raw[1], at + pointer(1));
      else if (args.length > 1) walk(args[1], argPath(1), scoped);
      return;
    }
    if (SCOPED_OPERATIONS.has(op) && Array.isArray(raw)) {
      walk(raw[0], argPath(0), scoped); // the array: evaluated against the record
      if (raw.length > 1) walk(raw[1], argPath(1), true); // the per-element rule
      if (raw.length > 2) walk(raw[2], argPath(2), scoped); // reduce's initial value
      return;
    }
    walk(raw, at, scoped);
  };

  walk(rule, options.path ?? '', false);
  return { errors, fieldsUsed, pathsUsed };
}
