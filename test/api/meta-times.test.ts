/** The metadata API gives times as ISO 8601 in UTC, on both drivers (what the records API does too). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, L, startEngine, type TestEngine } from '../support/engine.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe.each(drivers)('metadata times on %s', (driver) => {
  let e: TestEngine;
  beforeAll(async () => {
    e = await startEngine(driver);
  });
  afterAll(() => e?.stop());

  it('lists deployments and document versions with ISO 8601 times', async () => {
    const doc = {
      kind: 'entity',
      name: 'stamp',
      label: L('Stamp', '印章'),
      fields: [{ name: 'name', type: 'text', label: L('Name', '名称') }],
    };
    expect((await e.call('POST', '/api/meta/deploy', { documents: [doc] })).status).toBe(201);
    const deployments = (await e.call('GET', '/api/meta/deployments')).body.data;
    expect(deployments.length).toBeGreaterThan(1);
    for (const d of deployments) {
      expect(d.deployed_at).toMatch(ISO);
      expect(typeof d.version).toBe('number');
    }
    expect(Math.abs(Date.parse(deployments[0].deployed_at) - Date.now())).toBeLessThan(10 * 60_000);
    expect(deployments[0].summary).toBeTypeOf('object');
    const versions = (await e.call('GET', '/api/meta/documents/entity/stamp/versions')).body.data;
    expect(versions[0].deployed_at).toMatch(ISO);
  });
});
