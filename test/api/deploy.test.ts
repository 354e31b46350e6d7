import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createEngine } from '../../engine/engine.js';
import { drivers, L, startEngine, type TestEngine } from '../support/engine.js';
import { testApp } from './fixtures.js';

const entity = (name: string, fields: unknown[], extra: Record<string, unknown> = {}) => ({
  kind: 'entity',
  name,
  label: L(name),
  fields,
  ...extra,
});
const text = (name: string, extra: Record<string, unknown> = {}) => ({ name, type: 'text', label: L(name), ...extra });

describe.each(drivers)('metadata deploy on %s', (driver) => {
  let e: TestEngine;
  const version = async () => (await e.call('GET', '/api/health')).body.metadataVersion as number;
  const tableExists = async (name: string) =>
    (await e.database.rows<{ t: string | null }>(sql`select to_regclass(${'public.' + name})::text as t`))[0].t !== null;
  const columns = async (table: string) =>
    await e.database.rows<{ column_name: string; data_type: string }>(
      sql`select column_name, data_type from information_schema.columns where table_schema = 'public' and table_name = ${table} order by ordinal_position`,
    );

  beforeAll(async () => {
    e = await startEngine(driver);
    expect((await e.call('POST', '/api/meta/deploy', { documents: testApp() })).status).toBe(201);
  });
  afterAll(() => e?.stop());

  it('creates real tables with typed columns, system columns, foreign keys and indexes', async () => {
    const cols = Object.fromEntries((await columns('deal')).map((c) => [c.column_name, c.data_type]));
    expect(cols).toMatchObject({
      id: 'uuid',
      created_at: 'timestamp with time zone',
      owner_id: 'uuid',
      version: 'integer',
      deleted_at: 'timestamp with time zone',
      title: 'text',
      account: 'uuid',
      amount: 'numeric',
      probability: 'numeric',
      quantity: 'integer',
      hot: 'boolean',
      close_date: 'date',
      closed_at: 'timestamp with time zone',
      tags: 'ARRAY',
      extra: 'jsonb',
      weighted: 'numeric',
      big: 'boolean',
    });
    const fks = await e.database.rows<{ def: string }>(
      sql`select pg_get_constraintdef(oid) as def from pg_constraint where conrelid = 'public.deal'::regclass and contype = 'f'`,
    );
    expect(fks.map((f) => f.def)).toEqual(['FOREIGN KEY (account) REFERENCES account(id) ON DELETE RESTRICT']);
    const indexes = (
      await e.database.rows<{ indexdef: string }>(sql`select indexdef from pg_indexes where tablename = 'deal'`)
    ).map((i) => i.indexdef);
    expect(indexes.some((d) => /USING btree \(account NULLS FIRST, id\)/.test(d))).toBe(true);
    expect(indexes.some((d) => /USING gin \(tags\)/.test(d))).toBe(true);
    expect(indexes.some((d) => /USING btree \(amount NULLS FIRST, id\)/.test(d))).toBe(true);
    const unique = (
      await e.database.rows<{ indexdef: string }>(sql`select indexdef from pg_indexes where tablename = 'account'`)
    ).map((i) => i.indexdef);
    expect(unique.some((d) => /UNIQUE INDEX .* \(name\) WHERE \(deleted_at IS NULL\)/.test(d))).toBe(true);
  });

  it('refuses invalid metadata with a path for every problem and deploys nothing', async () => {
    const before = await version();
    const res = await e.call('POST', '/api/meta/deploy', {
      documents: [
        entity(
          'widget',
          [
            text('Bad Name'),
            { name: 'kind_of', type: 'hologram', label: L('x') },
            { name: 'stage', type: 'picklist', dictionary: 'no_such_dict', label: L('s') },
            { name: 'owner', type: 'reference', to: 'no_such_entity', label: L('o') },
            {
              name: 'calc',
              type: 'formula',
              returns: 'integer',
              label: L('c'),
              expr: { method: [{ var: 'title' }, 'toString'] },
            },
            text('title'),
            text('title'),
            text('version'),
            { name: 'no', type: 'autonumber', pattern: 'W-{nope}', label: L('n') },
            { name: 'qty', type: 'integer', label: L('q'), default: 'many' },
            { name: 'note', type: 'text', label: { en: 'Note' } },
          ],
          {
            titleField: 'missing',
            rules: [{ name: 'r1', field: 'ghost', assert: { '==': [{ var: 'phantom' }, 1] }, message: L('m') }],
          },
        ),
        { kind: 'dictionary', name: 'empty', label: L('e'), items: [] },
        { kind: 'spaceship', name: 'x', label: L('x') },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_metadata');
    const paths = res.body.error.details.map((d: any) => d.path);
    // schema errors come first; cross-reference checks run once the documents are well-formed
    expect(paths).toEqual(
      expect.arrayContaining([
        '/documents/0/fields/0/name',
        '/documents/0/fields/1/type',
        '/documents/0/fields/10/label/zh-CN',
        '/documents/1/items',
        '/documents/2/kind',
      ]),
    );
    expect(await version()).toBe(before);
    expect(await tableExists('widget')).toBe(false);

    const cross = await e.call('POST', '/api/meta/deploy', {
      documents: [
        entity(
          'widget',
          [
            text('title'),
            text('title'),
            text('version'),
            { name: 'stage', type: 'picklist', dictionary: 'no_such_dict', label: L('s') },
            { name: 'owner', type: 'reference', to: 'no_such_entity', label: L('o') },
            {
              name: 'calc',
              type: 'formula',
              returns: 'integer',
              label: L('c'),
              expr: { method: [{ var: 'title' }, 'toString'] },
            },
            { name: 'no', type: 'autonumber', pattern: 'W-{nope}', label: L('n') },
            { name: 'qty', type: 'integer', label: L('q'), default: 'many' },
            { name: 'a', type: 'formula', returns: 'integer', label: L('a'), expr: { '+': [{ var: 'b' }, 1] } },
            { name: 'b', type: 'formula', returns: 'integer', label: L('b'), expr: { '+': [{ var: 'a' }, 1] } },
            { name: 'lvl', type: 'formula', returns: 'integer', dictionary: 'nope', label: L('l'), expr: 1 },
            { name: 'lvl2', type: 'formula', returns: 'text', dictionary: 'nope', label: L('l'), expr: 'x' },
          ],
          {
            titleField: 'missing',
            rules: [{ name: 'r1', field: 'ghost', assert: { '==': [{ var: 'phantom' }, 1] }, message: L('m') }],
          },
        ),
      ],
    });
    expect(cross.status).toBe(400);
    const byPath = Object.fromEntries(cross.body.error.details.map((d: any) => [d.path, d.code]));
    expect(byPath).toMatchObject({
      '/documents/0/fields/1/name': 'duplicate_field',
      '/documents/0/fields/2/name': 'reserved_name',
      '/documents/0/fields/3/dictionary': 'unknown_dictionary',
      '/documents/0/fields/4/to': 'unknown_entity',
      '/documents/0/fields/7/default': 'invalid_default',
      '/documents/0/fields/10/dictionary': 'invalid_option',
      '/documents/0/fields/11/dictionary': 'unknown_dictionary',
      '/documents/0/titleField': 'unknown_field',
      '/documents/0/rules/0/field': 'unknown_field',
    });
    expect(paths.length).toBeGreaterThan(0);
    const codes = cross.body.error.details.map((d: any) => d.code);
    expect(codes).toEqual(expect.arrayContaining(['circular_formula', 'invalid_pattern']));
    expect(cross.body.error.details.some((d: any) => d.path.startsWith('/documents/0/fields/5/expr'))).toBe(true);
    expect(cross.body.error.details.some((d: any) => d.path.startsWith('/documents/0/rules/0/assert'))).toBe(true);
    expect(await version()).toBe(before);
  });

  it('refuses a role scope that reads a path through a reference (scopes compile to SQL over the record)', async () => {
    const before = await version();
    const res = await e.call('POST', '/api/meta/deploy', {
      documents: [
        entity('parent', [text('title')]),
        entity('child', [{ name: 'parent', type: 'reference', to: 'parent', label: L('p') }]),
        {
          kind: 'role',
          name: 'path_scoper',
          label: L('Path scoper'),
          grants: [
            { entity: 'child', read: { when: { '==': [{ var: 'parent.owner_id' }, { var: '$user.id' }] } } },
            { entity: 'parent', read: { when: { '==': [{ var: 'owner_id' }, { var: '$user.id' }] } } },
          ],
        },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: any) => [d.path, d.code])).toEqual([
      ['/documents/2/grants/0/read/when/==/0/var', 'unknown_field'],
    ]);
    expect(await version()).toBe(before);
  });

  it('refuses a malformed deploy request', async () => {
    expect((await e.call('POST', '/api/meta/deploy', '{"documents": [')).body.error.code).toBe('invalid_json');
    const res = await e.call('POST', '/api/meta/deploy', { docs: [] });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.details.map((d: any) => d.path).sort()).toEqual(['/docs', '/documents']);
  });

  it('returns the plan without applying it on a dry run', async () => {
    const before = await version();
    const res = await e.call('POST', '/api/meta/deploy', {
      dryRun: true,
      documents: [entity('gadget', [text('name'), { name: 'deal', type: 'reference', to: 'deal', label: L('d') }])],
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      dryRun: true,
      applied: false,
      version: before,
      changes: [{ kind: 'entity', name: 'gadget', change: 'created' }],
    });
    expect(res.body.plan.map((s: any) => s.op)).toEqual([
      'create_table',
      'add_foreign_key',
      'create_index',
      'create_index',
      'create_index', // the search bigrams of the title field (engine/model/search.ts)
      'create_index',
    ]);
    expect(res.body.plan[0].sql[0]).toContain('create table "gadget"');
    expect(await tableExists('gadget')).toBe(false);
  });

  it('is idempotent: deploying the same documents changes nothing', async () => {
    const before = await version();
    const res = await e.call('POST', '/api/meta/deploy', { documents: testApp() });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ applied: false, changes: [], plan: [], version: before });
  });

  it('adds a nullable field without rewriting the table', async () => {
    await e.call(
      'POST',
      '/api/data/note',
      Array.from({ length: 500 }, (_, i) => ({ body: `note ${i}` })),
    );
    const fileOf = async () =>
      (await e.database.rows<{ f: number }>(sql`select relfilenode as f from pg_class where oid = 'public.note'::regclass`))[0].f;
    const before = await fileOf();
    const note = testApp().find((d: any) => d.name === 'note') as any;
    const res = await e.call('POST', '/api/meta/deploy', {
      documents: [
        {
          ...note,
          fields: [
            ...note.fields,
            text('topic', { indexed: false }),
            { name: 'mood', type: 'integer', label: L('m'), required: true },
          ],
        },
      ],
    });
    expect(res.status).toBe(201);
    expect(res.body.plan.map((s: any) => `${s.op} ${s.field}`)).toEqual(['add_column topic', 'add_column mood']);
    expect(await fileOf()).toBe(before); // same file on disk: no rewrite
    const row = (await e.call('GET', '/api/data/note?limit=1')).body.data[0];
    expect(row).toMatchObject({ topic: null, mood: null });
    // the new required field is enforced by the API from now on
    expect((await e.call('POST', '/api/data/note', { body: 'x' })).status).toBe(422);
    expect((await e.call('POST', '/api/data/note', { body: 'x', mood: 3 })).status).toBe(201);
  });

  it('widens types freely but refuses destructive steps unless allowed', async () => {
    const base = [text('name'), { name: 'score', type: 'integer', label: L('s') }, text('obsolete')];
    expect((await e.call('POST', '/api/meta/deploy', { documents: [entity('gauge', base)] })).status).toBe(201);
    await e.call('POST', '/api/data/gauge', { name: 'g1', score: 41, obsolete: 'bye' });

    const widened = await e.call('POST', '/api/meta/deploy', {
      documents: [
        entity('gauge', [base[0], { name: 'score', type: 'decimal', precision: 12, scale: 2, label: L('s') }, base[2]]),
      ],
    });
    expect(widened.status).toBe(201);
    expect(widened.body.plan).toMatchObject([{ op: 'alter_column_type', destructive: false }]);
    expect((await e.call('GET', '/api/data/gauge')).body.data[0].score).toBe(41);

    const before = await version();
    const dropping = { documents: [entity('gauge', [base[0], { name: 'score', type: 'integer', label: L('s') }])] };
    const refused = await e.call('POST', '/api/meta/deploy', dropping);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('destructive_change');
    expect(refused.body.error.details.map((d: any) => d.code).sort()).toEqual(['alter_column_type', 'drop_column']);
    expect(await version()).toBe(before);
    expect((await columns('gauge')).some((c) => c.column_name === 'obsolete')).toBe(true);

    const allowed = await e.call('POST', '/api/meta/deploy', { ...dropping, allowDestructive: true });
    expect(allowed.status).toBe(201);
    expect((await columns('gauge')).some((c) => c.column_name === 'obsolete')).toBe(false);
    expect((await e.call('GET', '/api/data/gauge')).body.data[0]).toMatchObject({ name: 'g1', score: 41 });
    expect((await e.call('POST', '/api/data/gauge', { name: 'g2', obsolete: 'x' })).status).toBe(422);
  });

  it('applies all or nothing: a failing step rolls back the whole deploy', async () => {
    await e.call('POST', '/api/data/gauge', [{ name: 'same' }, { name: 'same' }]);
    const before = await version();
    const res = await e.call('POST', '/api/meta/deploy', {
      documents: [
        entity('fresh', [text('name')]),
        entity('gauge', [text('name', { unique: true }), { name: 'score', type: 'integer', label: L('s') }]),
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('deploy_failed');
    expect(res.body.error.details[0].path).toBe('/gauge');
    expect(await tableExists('fresh')).toBe(false);
    expect(await version()).toBe(before);
    expect((await e.call('GET', '/api/meta/documents/entity/fresh')).status).toBe(404);
  });

  it('keeps every version of a document and lists deployments', async () => {
    const versions = await e.call('GET', '/api/meta/documents/entity/gauge/versions');
    expect(versions.status).toBe(200);
    expect(versions.body.data.map((v: any) => v.version)).toEqual([3, 2, 1]);
    expect(versions.body.data[2].body.fields.map((f: any) => f.name)).toEqual(['name', 'score', 'obsolete']);
    const current = await e.call('GET', '/api/meta/documents/entity/gauge');
    expect(current.body.fields.map((f: any) => f.name)).toEqual(['name', 'score']);
    const deployments = await e.call('GET', '/api/meta/deployments');
    expect(deployments.body.data[0].version).toBe(await version());
    expect((await e.call('GET', '/api/meta/documents/entity/nothing/versions')).status).toBe(404);
    const schema = await e.call('GET', '/api/meta/schemas/entity');
    expect(schema.body.required).toEqual(['kind', 'name', 'label', 'fields']);
  });

  it('deletes documents only when allowed and when nothing refers to them', async () => {
    const refused = await e.call('POST', '/api/meta/deploy', {
      documents: [],
      delete: [{ kind: 'entity', name: 'account' }],
      allowDestructive: true,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details.some((d: any) => d.code === 'unknown_entity')).toBe(true);
    const dictInUse = await e.call('POST', '/api/meta/deploy', {
      documents: [],
      delete: [{ kind: 'dictionary', name: 'stage' }],
    });
    expect(dictInUse.status).toBe(400);
    expect(dictInUse.body.error.details[0].code).toBe('unknown_dictionary');
    expect(
      (await e.call('POST', '/api/meta/deploy', { documents: [], delete: [{ kind: 'entity', name: 'gauge' }] })).status,
    ).toBe(409);
    expect(
      (
        await e.call('POST', '/api/meta/deploy', {
          documents: [],
          delete: [{ kind: 'entity', name: 'gauge' }],
          allowDestructive: true,
        })
      ).status,
    ).toBe(201);
    expect(await tableExists('gauge')).toBe(false);
    expect((await e.call('GET', '/api/data/gauge')).status).toBe(404);
  });
});

describe.each(drivers)('indexes on tables that have records, on %s', (driver) => {
  let e: TestEngine;
  beforeAll(async () => {
    e = await startEngine(driver);
  });
  afterAll(() => e?.stop());

  const indexes = async (table: string) =>
    new Map(
      (
        await e.database.rows<{ name: string; valid: boolean; def: string }>(
          sql`select c.relname as name, i.indisvalid as valid, pg_get_indexdef(i.indexrelid) as def from pg_index i join pg_class c on c.oid = i.indexrelid join pg_class t on t.oid = i.indrelid where t.relname = ${table}`,
        )
      ).map((r) => [r.name, r]),
    );

  it('builds a new non-unique index after the deploy, concurrently, and a unique one inside it', async () => {
    // A new entity's indexes are built with its table, in the deploy: no job.
    const created = await e.call('POST', '/api/meta/deploy', { documents: [entity('gizmo', [text('name', { indexed: true })])] });
    expect(created.status).toBe(201);
    expect(created.body.jobs).toBeUndefined();
    expect((await indexes('gizmo')).get('i__gizmo__name')?.valid).toBe(true);
    expect(
      (
        await e.call(
          'POST',
          '/api/data/gizmo',
          Array.from({ length: 20 }, (_, i) => ({ name: `G${i}` })),
        )
      ).status,
    ).toBe(201);

    const next = entity('gizmo', [
      text('name', { indexed: true }),
      text('code', { indexed: true }),
      text('serial', { unique: true }),
    ]);
    const dry = await e.call('POST', '/api/meta/deploy', { documents: [next], dryRun: true });
    const steps = dry.body.plan.filter((s: { op: string }) => s.op === 'create_index');
    expect(steps.find((s: { index: string }) => s.index === 'i__gizmo__code')).toMatchObject({
      afterCommit: true,
      sql: [expect.stringContaining('create index concurrently if not exists "i__gizmo__code"')],
    });
    expect(steps.find((s: { index: string }) => s.index.includes('serial'))).not.toHaveProperty('afterCommit');

    const deployed = await e.call('POST', '/api/meta/deploy', { documents: [next] });
    expect(deployed.status).toBe(201);
    // The unique index is a constraint: in force when the deploy answers.
    const unique = [...(await indexes('gizmo')).values()].find((i) => i.name.includes('serial'));
    expect(unique?.valid).toBe(true);
    expect(unique?.def).toContain('UNIQUE');
    // The other is the job's: it reports, and the index arrives valid.
    expect(deployed.body.jobs).toEqual([
      expect.objectContaining({ queue: 'schema.build', entity: 'gizmo', id: expect.any(String) }),
    ]);
    const job = deployed.body.jobs[0];
    for (
      let i = 0;
      i < 100 && (await e.call('GET', `/api/meta/jobs/${job.queue}/${job.id}`)).body.data.state !== 'completed';
      i++
    )
      await new Promise((r) => setTimeout(r, 200));
    expect((await e.call('GET', `/api/meta/jobs/${job.queue}/${job.id}`)).body.data.state).toBe('completed');
    const built = (await indexes('gizmo')).get('i__gizmo__code');
    expect(built?.valid).toBe(true);
    expect(built?.def).toContain('(code NULLS FIRST, id)');
  });

  it('drops an invalid leftover of a failed build and builds the index again', async () => {
    // A half-built index (what a failed CREATE INDEX CONCURRENTLY leaves) is rebuilt by the job.
    await e.database.exec(`update pg_index set indisvalid = false where indexrelid = '"i__gizmo__code"'::regclass`);
    expect((await indexes('gizmo')).get('i__gizmo__code')?.valid).toBe(false);
    await e.schemaBuilds.run({ op: 'create_index', entity: 'gizmo', index: 'i__gizmo__code' });
    expect((await indexes('gizmo')).get('i__gizmo__code')?.valid).toBe(true);
  });
});

describe.each(drivers)('a reference field added to a table that has records, on %s', (driver) => {
  let e: TestEngine;
  beforeAll(async () => {
    e = await startEngine(driver);
  });
  afterAll(() => e?.stop());

  const keyOf = async () =>
    (
      await e.database.rows<{ validated: boolean; def: string }>(
        sql`select convalidated as validated, pg_get_constraintdef(oid) as def from pg_constraint where conname = 'f__widget__maker'`,
      )
    )[0];

  it('adds the key NOT VALID in the deploy, enforces it at once, and validates it after commit', async () => {
    expect(
      (
        await e.call('POST', '/api/meta/deploy', {
          documents: [entity('maker', [text('name')]), entity('widget', [text('name')])],
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await e.call(
          'POST',
          '/api/data/widget',
          Array.from({ length: 10 }, (_, i) => ({ name: `W${i}` })),
        )
      ).status,
    ).toBe(201);
    const maker = (await e.call('POST', '/api/data/maker', { name: 'ACME' })).body.data.id;

    const deployed = await e.call('POST', '/api/meta/deploy', {
      documents: [
        entity('widget', [
          text('name'),
          { name: 'maker', type: 'reference', to: 'maker', onDelete: 'restrict', label: L('Maker') },
        ]),
      ],
    });
    expect(deployed.status).toBe(201);
    const add = deployed.body.plan.find((s: { op: string }) => s.op === 'add_foreign_key');
    expect(add.sql[0]).toMatch(/ not valid$/);
    expect(deployed.body.plan.find((s: { op: string }) => s.op === 'validate_foreign_key')).toMatchObject({
      afterCommit: true,
      field: 'maker',
    });
    expect(deployed.body.jobs.map((j: { description: string }) => j.description)).toEqual(
      expect.arrayContaining([expect.stringContaining('Validate foreign key widget.maker')]),
    );
    // Enforced from the deploy on: a dangling id is refused by the database itself.
    const dangling = await e.database
      .rows(sql`insert into widget (id, name, maker) values (gen_random_uuid(), 'x', gen_random_uuid())`)
      .then(
        () => undefined,
        (err) => err,
      );
    expect(((dangling as { cause?: { code?: string } })?.cause ?? dangling)?.code).toBe('23503'); // foreign_key_violation, not any error
    expect((await e.call('POST', '/api/data/widget', { name: 'made', maker })).status).toBe(201);
    // …and validated by the job.
    for (let i = 0; i < 100 && !(await keyOf())?.validated; i++) await new Promise((r) => setTimeout(r, 200));
    expect(await keyOf()).toMatchObject({
      validated: true,
      def: expect.stringContaining('REFERENCES maker(id) ON DELETE RESTRICT'),
    });
  });
});

describe.runIf(drivers.includes('postgres'))('a deploy behind a long transaction', () => {
  it('gives up after the lock timeout with 503 table_busy and changes nothing, instead of stalling the table', async () => {
    const e = await startEngine('postgres', { deployLockTimeoutMs: 500 });
    const { default: postgres } = await import('postgres');
    const other = postgres(e.url!, { max: 1, onnotice: () => {} });
    try {
      expect((await e.call('POST', '/api/meta/deploy', { documents: [entity('ledger', [text('memo')])] })).status).toBe(201);
      expect((await e.call('POST', '/api/data/ledger', { memo: 'before' })).status).toBe(201);
      const version = (await e.call('GET', '/api/meta/documents/entity/ledger/versions')).body.data.length;
      // Another client keeps a transaction open on the table (a long report, say).
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const reading = other.begin(async (tx) => {
        await tx`select count(*) from ledger`;
        await held;
      });
      await new Promise((r) => setTimeout(r, 100));
      const started = Date.now();
      const blocked = await e.call('POST', '/api/meta/deploy', { documents: [entity('ledger', [text('memo'), text('note')])] });
      expect(blocked.status).toBe(503);
      expect(blocked.body.error.code).toBe('table_busy');
      expect(blocked.body.error.details[0]).toMatchObject({ path: '/ledger/note', code: 'add_column' });
      expect(Date.now() - started).toBeLessThan(5000);
      // Nothing deployed: no new version, no column, and the table serves writes meanwhile.
      expect((await e.call('GET', '/api/meta/documents/entity/ledger/versions')).body.data.length).toBe(version);
      expect(e.metadata.model.entity('ledger')!.field('note')).toBeUndefined();
      expect(
        (
          await e.database.rows(
            sql`select column_name from information_schema.columns where table_name = 'ledger' and column_name = 'note'`,
          )
        ).length,
      ).toBe(0);
      expect((await e.call('POST', '/api/data/ledger', { memo: 'during' })).status).toBe(201);
      release();
      await reading;
      // Once the transaction ends, the same deploy goes through.
      expect(
        (await e.call('POST', '/api/meta/deploy', { documents: [entity('ledger', [text('memo'), text('note')])] })).status,
      ).toBe(201);
    } finally {
      await other.end();
      await e.stop();
    }
  });
});

describe.runIf(drivers.includes('postgres'))('several processes on one PostgreSQL', () => {
  it('recompiles the model in every process when one deploys (LISTEN/NOTIFY)', async () => {
    const first = await startEngine('postgres');
    const second = await createEngine({ url: first.url });
    try {
      const res = await first.call('POST', '/api/meta/deploy', { documents: [entity('shared', [text('name')])] });
      expect(res.status).toBe(201);
      for (let i = 0; i < 50 && !second.metadata.model.entity('shared'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(second.metadata.model.version).toBe(res.body.version);
      // a session started in one process is honoured by the other: the processes share nothing but the database
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${first.admin.token}` };
      const created = await second.app.request('/api/data/shared', {
        method: 'POST',
        body: JSON.stringify({ name: 'from B' }),
        headers,
      });
      expect(created.status).toBe(201);
      // and a logout in one is a logout in the other
      expect((await first.call('POST', '/api/auth/logout')).status).toBe(200);
      for (let i = 0; i < 50 && (await second.app.request('/api/auth/me', { headers })).status !== 401; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect((await second.app.request('/api/auth/me', { headers })).status).toBe(401);
    } finally {
      await second.close();
      await first.stop();
    }
  });
});
