import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, L, startEngine, type TestEngine } from '../../test/support/engine.js';
import rating from './index.js';

const survey = {
  kind: 'entity',
  name: 'survey',
  label: L('Survey', '满意度调查'),
  fields: [
    { name: 'customer', type: 'text', label: L('Customer', '客户'), required: true },
    { name: 'score', type: 'rating', max: 3, label: L('Score', '评分'), indexed: true },
  ],
};

describe.each(drivers)('rating plugin on %s', (driver) => {
  let e: TestEngine;
  beforeAll(async () => {
    e = await startEngine(driver, { plugins: [rating] });
  });
  afterAll(() => e?.stop());

  it('adds a field type that validates, stores and documents itself like a built-in one', async () => {
    expect((await e.call('POST', '/api/meta/deploy', { documents: [survey] })).status).toBe(201);
    expect((await e.call('POST', '/api/data/survey', { customer: 'A', score: 3 })).status).toBe(201);
    const tooHigh = await e.call('POST', '/api/data/survey', { customer: 'B', score: 4 });
    expect(tooHigh.status).toBe(422);
    expect(tooHigh.body.error.details[0]).toMatchObject({ path: '/score', code: 'maximum' });
    const sorted = await e.call('GET', `/api/data/survey?filter=${encodeURIComponent('{">=":[{"var":"score"},2]}')}&sort=-score`);
    expect(sorted.body.data.map((r: any) => r.score)).toEqual([3]);
    const openapi = (await e.call('GET', '/api/openapi.json')).body;
    expect(openapi.components.schemas.SurveyCreate.properties.score).toMatchObject({ maximum: 3, 'x-widget': 'rating' });
    const badOption = await e.call('POST', '/api/meta/deploy', {
      documents: [{ ...survey, fields: [survey.fields[0], { ...survey.fields[1], max: 11 }] }],
    });
    expect(badOption.status).toBe(400);
    expect(badOption.body.error.details[0].path).toBe('/documents/0/fields/1/max');
  });
});

describe('without the rating plugin', () => {
  it('refuses documents that use its field type', async () => {
    const e = await startEngine('pglite');
    try {
      const res = await e.call('POST', '/api/meta/deploy', { documents: [survey] });
      expect(res.status).toBe(400);
      expect(res.body.error.details[0].path).toBe('/documents/0/fields/1/type');
    } finally {
      await e.stop();
    }
  });
});
