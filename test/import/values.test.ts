/**
 * Import of values beyond plain text (issue 15): users fields (several users by username or display name
 * in one cell), text that needs escaping on its way into the database (tab, newline, backslash, quotes —
 * the batch is loaded with COPY), and a batch the database refuses (a unique value), retried row by row.
 * On PGlite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, L, startEngine, type TestEngine } from '../support/engine.js';
import { upload } from './fixtures.js';

const app = [
  {
    kind: 'dictionary',
    name: 'topic',
    label: L('Topic', '议题'),
    items: [
      { value: 'a', label: L('Alpha', '甲') },
      { value: 'b', label: L('Beta', '乙') },
    ],
  },
  {
    kind: 'entity',
    name: 'meeting',
    label: L('Meeting', '会议'),
    titleField: 'title',
    fields: [
      { name: 'code', type: 'text', label: L('Code', '编号'), maxLength: 20 },
      { name: 'title', type: 'text', label: L('Title', '标题'), required: true, unique: true, maxLength: 200 },
      { name: 'attendees', type: 'users', label: L('Attendees', '参会人') },
      { name: 'topics', type: 'multipicklist', dictionary: 'topic', label: L('Topics', '议题') },
      { name: 'notes', type: 'textarea', label: L('Notes', '纪要') },
    ],
    import: { match: [{ fields: ['code'] }], mode: 'insert' },
  },
];

describe.each(drivers)('import values on %s', (driver) => {
  let e: TestEngine;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    e = await startEngine(driver);
    const res = await e.call('POST', '/api/meta/deploy', { documents: app });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    for (const [username, display_name] of [
      ['alice', '张三'],
      ['bob', 'Bob Lee'],
      ['li1', '李四'],
      ['li2', '李四'],
    ])
      ids[username] = (await e.createUser({ username, display_name, roles: [], password: `${username} password 123` })).id;
  }, 120_000);
  afterAll(() => e?.stop());

  const run = (body: unknown, lang = 'en') => e.call('POST', '/api/data/meeting/import', body, { 'accept-language': lang });

  it('takes several users by username or display name, reports each unknown one, keeps escaped text, retries a refused batch', async () => {
    const existing = await e.call('POST', '/api/data/meeting', { title: 'Taken' });
    expect(existing.status, JSON.stringify(existing.body)).toBe(201);
    const csv = [
      'Code,Title,Attendees,Topics,Notes',
      'M1,"Plan\tA \\ ""quoted""","alice、Bob Lee；张三",甲|b,"line 1\nline 2\\n"',
      'M2,Second,"alice, nobody，ghost",,',
      'M3,Third,李四,,',
      'M4,Taken,bob,,',
      'M5,Fifth,,a,',
    ].join('\r\n');
    const up = await upload(e, 'meeting', csv);
    expect(up.status, JSON.stringify(up.body)).toBe(201);
    expect(up.body.data.mapping).toMatchObject({ Attendees: 'attendees', Title: 'title' });
    const res = await run({ file: up.body.data.id, atomic: false }, 'zh-CN');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data.counts).toMatchObject({ rows: 5, create: 2, error: 3 });

    const rows = (await e.call('GET', `/api/data/meeting/import/${up.body.data.id}/rows?outcome=error`)).body.data;
    // (lines of the file: M1's notes take two)
    expect(rows.map((r: any) => r.line)).toEqual([4, 5, 6]);
    // one error per unknown name, each with the column and the cell
    expect(rows[0].errors).toEqual([
      expect.objectContaining({
        column: 'Attendees',
        field: 'attendees',
        value: 'alice, nobody，ghost',
        code: 'invalid_reference',
        message: expect.stringContaining('“nobody”'),
      }),
      expect.objectContaining({ column: 'Attendees', code: 'invalid_reference', message: expect.stringContaining('“ghost”') }),
    ]);
    expect(rows[1].errors).toEqual([
      expect.objectContaining({
        column: 'Attendees',
        value: '李四',
        code: 'ambiguous_reference',
        message: expect.stringContaining('2'),
      }),
    ]);
    // the database refused the batch (a title taken): the row at fault is named, the others went in
    expect(rows[2].errors).toEqual([expect.objectContaining({ code: 'unique', message: '必须唯一' })]);

    const list = (await e.call('GET', '/api/data/meeting?sort=code')).body.data;
    const m1 = list.find((r: any) => r.code === 'M1');
    expect(m1.title).toBe('Plan\tA \\ "quoted"');
    expect(m1.notes).toBe('line 1\nline 2\\n');
    expect(new Set(m1.attendees)).toEqual(new Set([ids.alice, ids.bob]));
    expect(m1.attendees).toHaveLength(2);
    expect(m1.topics).toEqual(['a', 'b']);
    expect(list.find((r: any) => r.code === 'M5')).toMatchObject({ title: 'Fifth', topics: ['a'] });
    expect(list.filter((r: any) => ['M2', 'M3', 'M4'].includes(r.code))).toEqual([]);
    // audited like any create, under the import's note
    const history = await e.call('GET', `/api/data/meeting/${m1.id}/history`);
    expect(history.body.data[0]).toMatchObject({ action: 'create', note: `import:${up.body.data.id}` });
  });

  it('says in English which user is unknown', async () => {
    // (an empty line is skipped but counted: the row is line 3 of the file)
    const up = await upload(e, 'meeting', 'Code,Title,Attendees\r\n\r\nE1,English,"bob;nobody"\r\n');
    const res = await run({ file: up.body.data.id }, 'en');
    expect(res.body.data).toMatchObject({ committed: false, counts: { error: 1 } });
    const rows = (await e.call('GET', `/api/data/meeting/import/${up.body.data.id}/rows`)).body.data;
    expect(rows[0].line).toBe(3);
    expect(rows[0].errors).toEqual([
      expect.objectContaining({ column: 'Attendees', value: 'bob;nobody', message: 'No User "nobody" that you may read' }),
    ]);
  });
});
