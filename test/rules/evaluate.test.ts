import { describe, expect, it } from 'vitest';
import { AppError } from '../../engine/errors.js';
import { evaluateRule, isTruthy, registerOperation } from '../../engine/rules/evaluate.js';
import { checkRule } from '../../engine/rules/check.js';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return `${(e as AppError).status} ${(e as AppError).code}`;
  }
  throw new Error('did not throw');
};

describe('evaluateRule', () => {
  it('evaluates json-logic with $ context variables', () => {
    const data = { owner: 7, status: 'open', $user: { id: 7 } };
    expect(
      evaluateRule(
        { and: [{ '==': [{ var: 'owner' }, { var: '$user.id' }] }, { in: [{ var: 'status' }, ['open', 'new']] }] },
        data,
      ),
    ).toBe(true);
    expect(evaluateRule({ var: 'missing.deep' }, data)).toBe(null);
  });

  it('refuses the method operator', () => {
    expect(code(() => evaluateRule({ method: [{ var: 'name' }, 'toUpperCase'] }, { name: 'x' }))).toBe('400 unsafe_rule');
    expect(code(() => evaluateRule({ or: [false, { method: ['x', 'constructor'] }] }, {}))).toBe('400 unsafe_rule');
  });

  it('refuses prototype var paths, literal or computed', () => {
    for (const name of ['__proto__', 'constructor', 'a.constructor.prototype', 'x.__proto__.polluted', '$user.constructor']) {
      expect(
        code(() => evaluateRule({ var: name }, { a: {}, x: {} })),
        name,
      ).toBe('400 unsafe_rule');
    }
    // A var name built at run time is caught by the safe var operator itself.
    expect(code(() => evaluateRule({ var: { cat: ['__pro', 'to__'] } }, {}))).toBe('400 unsafe_rule');
    expect(code(() => evaluateRule({ missing: ['constructor'] }, {}))).toBe('400 unsafe_rule');
  });

  it('resolves only own properties', () => {
    expect(evaluateRule({ var: 'toString' }, {})).toBe(null);
    expect(evaluateRule({ var: 'name.length' }, { name: 'abc' })).toBe(3);
    expect(evaluateRule({ var: 'tags.1' }, { tags: ['a', 'b'] })).toBe('b');
  });

  it('refuses unknown and dotted operators', () => {
    expect(code(() => evaluateRule({ nope: [1] }, {}))).toBe('400 unknown_operator');
    expect(code(() => evaluateRule({ 'var.prototype.constructor': ['x'] }, {}))).toBe('400 unknown_operator');
  });

  it('uses json-logic truthiness', () => {
    expect([[], [0], '', '0', 0, null, {}].map(isTruthy)).toEqual([false, true, false, true, false, false, true]);
  });

  it('accepts plugin operations but not replacements of built-ins', () => {
    registerOperation('double_it', (x: number) => x * 2);
    expect(evaluateRule({ double_it: [{ var: 'n' }] }, { n: 21 })).toBe(42);
    expect(() => registerOperation('var', () => 1)).toThrow();
    expect(() => registerOperation('method', () => 1)).toThrow();
    expect(() => registerOperation('a.b', () => 1)).toThrow();
  });
});

describe('checkRule', () => {
  const fields = new Set(['status', 'amount', 'tags']);

  it('accepts a valid rule and reports the fields it reads', () => {
    const r = checkRule(
      { and: [{ '==': [{ var: 'status' }, 'open'] }, { '>': [{ var: 'amount.value' }, 1] }, { missing: ['tags'] }] },
      { fields },
    );
    expect(r.errors).toEqual([]);
    expect([...r.fieldsUsed].sort()).toEqual(['amount', 'status', 'tags']);
  });

  it('reports unknown operators, unknown fields and unsafe rules with JSON pointers', () => {
    const r = checkRule(
      {
        and: [
          { '==': [{ var: 'nope' }, 1] },
          { frobnicate: [1] },
          { method: [{ var: 'status' }, 'x'] },
          { var: 'status.__proto__' },
        ],
      },
      { fields, path: '/rules/0/when' },
    );
    expect(r.errors.map((e) => [e.path, e.code])).toEqual([
      ['/rules/0/when/and/0/==/0/var', 'unknown_field'],
      ['/rules/0/when/and/1/frobnicate', 'unknown_operator'],
      ['/rules/0/when/and/2/method', 'unsafe_rule'],
      ['/rules/0/when/and/3/var', 'unsafe_rule'],
    ]);
    expect(r.errors.every((e) => e.message.length > 0)).toBe(true);
    expect(r.fieldsUsed).toEqual(new Set(['nope']));
  });

  it('allows $ context variables only when asked to', () => {
    const rule = { '==': [{ var: '$user.id' }, { var: 'status' }] };
    expect(checkRule(rule, { fields, allowContext: true }).errors).toEqual([]);
    expect(checkRule(rule, { fields }).errors.map((e) => [e.path, e.code])).toEqual([['/==/0/var', 'unknown_field']]);
  });

  it('does not check element variables inside map/filter/all/some against fields', () => {
    const rule = { some: [{ var: 'tags' }, { '==': [{ var: '' }, 'vip'] }] };
    expect(checkRule(rule, { fields }).errors).toEqual([]);
    const bad = { all: [{ var: 'lines' }, { '>': [{ var: 'constructor' }, 0] }] };
    expect(checkRule(bad, { fields }).errors.map((e) => [e.path, e.code])).toEqual([
      ['/all/0/var', 'unknown_field'],
      ['/all/1/>/0/var', 'unsafe_rule'],
    ]);
  });

  it('reports computed var names, bad objects and missing names', () => {
    const r = checkRule({ or: [{ var: { cat: ['sta', 'tus'] } }, { a: 1, b: 2 }, { missing: ['nope'] }] }, { fields });
    expect(r.errors.map((e) => [e.path, e.code])).toEqual([
      ['/or/0/var', 'invalid_rule'],
      ['/or/1', 'invalid_rule'],
      ['/or/2/missing/0', 'unknown_field'],
    ]);
  });

  it('knows plugin operations', () => {
    registerOperation('is_weekday', () => true);
    expect(checkRule({ is_weekday: [{ var: 'status' }] }, { fields }).errors).toEqual([]);
  });
});
