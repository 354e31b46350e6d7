import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { evaluateRule, isTruthy } from '../../engine/rules/evaluate.js';
import { drivers, L, q, startEngine, type TestEngine } from '../../test/support/engine.js';
import textMatch from './index.js';

const ALPHABET = ['a', 'b', 'A', '%', '_', '\\', '-', '华'];
const word = fc.array(fc.constantFrom(...ALPHABET), { maxLength: 4 }).map((cs) => cs.join(''));

describe.each(drivers)('starts_with operation on %s', (driver) => {
  let e: TestEngine;
  let rows: { id: string; code: string | null }[];
  beforeAll(async () => {
    e = await startEngine(driver, { plugins: [textMatch] });
    await e.call('POST', '/api/meta/deploy', {
      documents: [
        {
          kind: 'entity',
          name: 'item',
          label: L('Item', '物品'),
          fields: [{ name: 'code', type: 'text', label: L('Code', '编号') }],
        },
      ],
    });
    const values = fc.sample(fc.option(word, { nil: null, freq: 5 }), { numRuns: 60, seed: 42 });
    rows = (
      await e.call(
        'POST',
        '/api/data/item',
        values.map((code) => ({ code })),
      )
    ).body.data;
  });
  afterAll(() => e?.stop());

  it('selects in SQL exactly the rows it accepts in memory, negated or not, with LIKE wildcards in the prefix', async () => {
    await fc.assert(
      fc.asyncProperty(word, fc.boolean(), async (prefix, negate) => {
        const atom = { starts_with: [{ var: 'code' }, prefix] };
        const rule = negate ? { '!': atom } : atom;
        const want = rows
          .filter((r) => isTruthy(evaluateRule(rule, r)))
          .map((r) => r.id)
          .sort();
        const res = await e.call('GET', `/api/data/item?limit=500&filter=${q(rule)}`);
        expect(res.status).toBe(200);
        expect(res.body.data.map((r: any) => r.id).sort()).toEqual(want);
      }),
      { numRuns: 60, seed: 7 },
    );
  });

  it('refuses misuse with a 400 that points at it', async () => {
    const res = await e.call('GET', `/api/data/item?filter=${q({ and: [true, { starts_with: ['x', 'y'] }] })}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_filter', details: [{ path: '/query/filter/and/1/starts_with' }] });
    const wrongKind = await e.call('GET', `/api/data/item?filter=${q({ starts_with: [{ var: 'created_at' }, '2026'] })}`);
    expect(wrongKind.body.error.code).toBe('type_mismatch');
  });
});
