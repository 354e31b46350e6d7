/**
 * No row cap (issue 15): 100,000 rows imported as a job in the queue, with progress seen while it runs,
 * two imports at once, and the records all there. On PostgreSQL only (PGlite holds one connection, so a
 * long import there keeps other requests waiting — see docs/import-export.md); slow by nature.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type TestEngine } from '../support/engine.js';
import { importApp, upload } from './fixtures.js';

const ROWS = 100_000;

describe.runIf(Boolean(process.env.DATABASE_URL))('a 100,000-row import on postgres', () => {
  let e: TestEngine;
  beforeAll(async () => {
    e = await startEngine('postgres');
    expect((await e.call('POST', '/api/meta/deploy', { documents: importApp() })).status).toBe(201);
  }, 120_000);
  afterAll(() => e?.stop());

  it('runs as a job with progress, next to a second import, and creates every row', async () => {
    const lines = ['公司名称,行业,成立日期,营收'];
    for (let i = 0; i < ROWS; i++) lines.push(`公司${i},${i % 2 ? '制造业' : 'it'},2026/${(i % 12) + 1}/${(i % 28) + 1},${i}`);
    const big = await upload(e, 'company', lines.join('\r\n'));
    expect(big.body.data.size).toBeGreaterThan(1024 * 1024); // over the inline limit: queued
    const small = await upload(e, 'person', '姓名,手机\r\n并行,13900000000\r\n');
    const started = await e.call('POST', '/api/data/company/import', { file: big.body.data.id, atomic: false });
    expect(started.status).toBe(202);
    const other = await e.call('POST', '/api/data/person/import', { file: small.body.data.id, async: true });
    expect(other.status).toBe(202);
    const progress: number[] = [];
    let state = started.body.data;
    const deadline = Date.now() + 170_000;
    while (state.state !== 'done' && state.state !== 'failed' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      state = (await e.call('GET', `/api/data/company/import/${big.body.data.id}`)).body.data;
      progress.push(state.progress);
    }
    expect(state, JSON.stringify(state)).toMatchObject({
      state: 'done',
      committed: true,
      counts: { rows: ROWS, create: ROWS, error: 0 },
    });
    expect(
      progress.some((p) => p > 0 && p < 1),
      `progress seen: ${progress.join(', ')}`,
    ).toBe(true);
    // the other import ran at the same time, not after
    const person = (await e.call('GET', `/api/data/person/import/${small.body.data.id}`)).body.data;
    expect(person).toMatchObject({ state: 'done', counts: { create: 1 } });
    expect(new Date(person.finishedAt).getTime()).toBeLessThan(new Date(state.finishedAt).getTime());
    expect((await e.call('GET', '/api/data/company?count=true&limit=1')).body.total).toBe(ROWS);
    const last = (
      await e.call(
        'GET',
        `/api/data/company?filter=${encodeURIComponent(JSON.stringify({ '==': [{ var: 'name' }, `公司${ROWS - 1}`] }))}`,
      )
    ).body.data[0];
    expect(last).toMatchObject({
      industry: 'manufacturing',
      revenue: ROWS - 1,
      double: (ROWS - 1) * 2,
      no: `C-${String(ROWS).padStart(6, '0')}`,
    });
  }, 240_000);
});
