/**
 * The hot statements made without drizzle's builder: a record's INSERT and versioned UPDATE as text
 * (engine/data/writes.ts) store and return exactly what drizzle's insert and update did, for every
 * column type, NULL and a column left to its default; a stale version writes nothing. A read by id with
 * rights is made into text once per entity, principal and actions (engine/data/find.ts): it still
 * answers per principal, and a scope that reads the time ($now) is bound anew on every read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { drivers, L, startEngine, type TestEngine } from '../support/engine.js';
import { insertRecords, updateVersioned } from '../../engine/data/writes.js';
import { toColumnValues, toRecord } from '../../engine/data/records.js';
import { loadPrincipal } from '../../engine/access/principal.js';
import { uuidv7 } from '../../engine/model/ids.js';

const app = [
  { kind: 'dictionary', name: 'sample_tag', label: L('Tag'), items: ['vip', 'new'].map((v) => ({ value: v, label: L(v) })) },
  {
    kind: 'role',
    name: 'own_reader',
    label: L('Own reader'),
    grants: [{ entity: 'sample', read: 'own', update: 'own' }],
  },
  {
    kind: 'role',
    name: 'until_due',
    label: L('Until due'),
    // A scope that reads the time: the record is readable until it is due.
    grants: [{ entity: 'sample', read: { when: { '>': [{ var: 'due_at' }, { var: '$now' }] } } }],
  },
  {
    kind: 'entity',
    name: 'sample',
    label: L('Sample'),
    titleField: 'title',
    fields: [
      { name: 'title', type: 'text', label: L('Title'), required: true },
      { name: 'amount', type: 'currency', label: L('Amount') },
      { name: 'ratio', type: 'percent', label: L('Ratio') },
      { name: 'count', type: 'integer', label: L('Count') },
      { name: 'done', type: 'boolean', label: L('Done') },
      { name: 'due_on', type: 'date', label: L('Due on') },
      { name: 'due_at', type: 'datetime', label: L('Due at') },
      { name: 'tags', type: 'multipicklist', dictionary: 'sample_tag', label: L('Tags') },
      { name: 'watchers', type: 'users', label: L('Watchers') },
      { name: 'details', type: 'json', label: L('Details') },
    ],
  },
];

describe.each(drivers)('writes as text on %s', (driver) => {
  let e: TestEngine;
  beforeAll(async () => {
    e = await startEngine(driver);
    const res = await e.call('POST', '/api/meta/deploy', { documents: app });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  });
  afterAll(() => e?.stop());

  const values = (overrides: Record<string, unknown> = {}) => ({
    title: `它's "quoted" — ${Math.random()}`,
    amount: 1234.56,
    ratio: 12.5,
    count: 7,
    done: true,
    due_on: '2026-02-28',
    due_at: '2026-03-01T08:09:10.123Z',
    tags: ['大客户', 'a,b', 'x"y', ''],
    watchers: [e.admin.id],
    details: { nested: [1, 'two', null], 中文: true },
    created_by: null,
    updated_by: null,
    owner_id: e.admin.id,
    ...overrides,
  });

  it('inserts and updates as drizzle did: every column type, NULL, a column left to its default', async () => {
    const entity = e.data.entity('sample');
    const now = new Date('2026-01-02T03:04:05.678Z');
    const stamps = { created_at: now.toISOString(), updated_at: now.toISOString() };
    await e.database.db.transaction(async (tx) => {
      const rows = [
        { id: uuidv7(), ...stamps, ...values() },
        // NULLs, and version left out: its column default (1).
        { id: uuidv7(), ...stamps, ...values({ amount: null, tags: null, details: null, due_at: null, done: false }) },
      ];
      const ours = await insertRecords(
        tx,
        entity,
        rows.map((r) => toColumnValues(entity, r)),
      );
      const again = rows.map((r) => ({ ...r, id: uuidv7() }));
      const drizzles = (
        await tx
          .insert(entity.table)
          .values(again.map((r) => toColumnValues(entity, r)))
          .returning()
      ).map(toRecord);
      expect(ours.map((r) => r.version)).toEqual([1, 1]);
      expect(ours.map(({ id: _, ...r }) => r)).toEqual(drizzles.map(({ id: _, ...r }) => r));
      // What a read returns is what the insert returned.
      const [read] = await e.data
        .findWithRights(tx, e.data.guard({ principal: null, privileged: true, lang: 'en' }), entity, ours[0].id as string, [])
        .then((r) => [r.record]);
      expect(read).toEqual(ours[0]);

      const change = {
        count: 8,
        tags: ['新'],
        details: { a: 1 },
        due_at: new Date('2026-04-01T00:00:00.000Z'),
        amount: undefined,
        ratio: null,
      };
      const updated = await updateVersioned(tx, entity, ours[0].id as string, 1, change);
      const [theirs] = (
        await tx
          .update(entity.table)
          .set({ ...change, version: sql`${entity.columns.version} + 1` })
          .where(sql`${entity.columns.id} = ${drizzles[0].id}`)
          .returning()
      ).map(toRecord);
      expect(updated).toMatchObject({
        version: 2,
        count: 8,
        tags: ['新'],
        amount: 1234.56,
        ratio: null,
        due_at: '2026-04-01T00:00:00.000Z',
      });
      const { id: _a, ...mine } = updated!;
      const { id: _b, ...drizzle } = theirs;
      expect(mine).toEqual(drizzle);
    });
  });

  it('updates nothing at a stale version or on a deleted record', async () => {
    const entity = e.data.entity('sample');
    const created = (await e.data.create({ principal: null, privileged: true, lang: 'en' }, 'sample', { title: 'v' })) as {
      id: string;
    };
    await e.database.db.transaction(async (tx) => {
      expect(await updateVersioned(tx, entity, created.id, 2, { title: 'stale' })).toBeUndefined();
      expect(await updateVersioned(tx, entity, created.id, 1, { title: 'fresh' })).toMatchObject({ title: 'fresh', version: 2 });
      await tx.execute(sql`update sample set deleted_at = now() where id = ${created.id}`);
      expect(await updateVersioned(tx, entity, created.id, 2, { title: 'gone' })).toBeUndefined();
    });
    const [row] = await e.database.rows(sql`select title, version from sample where id = ${created.id}`);
    expect(row).toEqual({ title: 'fresh', version: 2 });
  });

  it("logs each statement once to drizzle's logger, whichever way it runs", async () => {
    const entity = e.data.entity('sample');
    const created = (await e.data.create({ principal: null, privileged: true, lang: 'en' }, 'sample', { title: 'logged' })) as {
      id: string;
    };
    const logged: string[] = [];
    await e.database.db.transaction(async (tx) => {
      (tx as unknown as { session: { logger: unknown } }).session.logger = { logQuery: (text: string) => logged.push(text) };
      await e.database.rows(sql`select 1 as one`, tx);
      await updateVersioned(tx, entity, created.id, 1, { title: 'logged again' });
      const engine = e.data.guard({ principal: null, privileged: true, lang: 'en' });
      await e.data.findWithRights(tx, engine, entity, created.id, ['update']);
    });
    expect(logged).toHaveLength(3);
    expect(logged[0]).toBe('select 1 as one');
    expect(logged[1]).toMatch(/^update "sample" set "title" = \$1/);
    expect(logged[2]).toMatch(/^select "id"/);
  });

  it('answers a read by id per principal, and binds the time anew for a scope that reads it', async () => {
    const a = await e.createUser({
      username: 'writes_a',
      display_name: 'A',
      roles: ['own_reader'],
      password: 'password writes a',
    });
    const b = await e.createUser({
      username: 'writes_b',
      display_name: 'B',
      roles: ['own_reader'],
      password: 'password writes b',
    });
    const c = await e.createUser({
      username: 'writes_c',
      display_name: 'C',
      roles: ['until_due'],
      password: 'password writes c',
    });
    const engine = { principal: null, privileged: true, lang: 'en' } as const;
    const soon = new Date(Date.now() + 1500).toISOString();
    const mine = (await e.data.create(engine, 'sample', { title: 'A 的', owner_id: a.id, due_at: soon })) as { id: string };
    const entity = e.data.entity('sample');
    const guardOf = async (id: string) =>
      e.data.guard({ principal: (await loadPrincipal(e.database, e.data.model(), id))!, lang: 'en' });
    const [ga, gb, gc] = [await guardOf(a.id), await guardOf(b.id), await guardOf(c.id)];
    const status = (g: typeof ga, actions: 'update'[] = []) =>
      e.data.findWithRights(e.database.db, g, entity, mine.id, actions).then(
        (r) => ({ found: true, ...r.rights }),
        (err) => ({ found: false, status: err.status }),
      );
    // Twice each, in turns: a text made for one principal never answers for another.
    for (let round = 0; round < 2; round++) {
      expect(await status(ga, ['update'])).toEqual({ found: true, update: true });
      expect(await status(gb, ['update'])).toEqual({ found: false, status: 404 });
      expect(await status(ga)).toEqual({ found: true });
      expect(await status(gc)).toEqual({ found: true });
    }
    await new Promise((r) => setTimeout(r, Math.max(0, new Date(soon).getTime() - Date.now() + 200)));
    // Due now: the scope's $now is the time of this read, not of the first one.
    expect(await status(gc)).toEqual({ found: false, status: 404 });
    expect(await status(ga)).toEqual({ found: true });
  });
});
