/**
 * Workflow timers are jobs in the database queue: they fire the state's event after a delay or at a
 * date of the record, only for the stay that started them, survive a restart, and run once with two
 * server processes on one database.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../engine/engine.js';
import { engineContext } from '../../engine/data/service.js';
import { drivers, L, startEngine, type TestEngine } from '../support/engine.js';

const app = [
  {
    kind: 'dictionary',
    name: 'claim_state',
    label: L('State'),
    items: ['waiting', 'reminded', 'expired', 'done'].map((v) => ({ value: v, label: L(v) })),
  },
  {
    kind: 'entity',
    name: 'claim',
    label: L('Claim'),
    fields: [
      { name: 'title', type: 'text', label: L('Title'), required: true },
      { name: 'due', type: 'datetime', label: L('Due') },
      { name: 'state', type: 'picklist', dictionary: 'claim_state', label: L('State'), required: true },
      { name: 'hold', type: 'boolean', label: L('Hold') },
    ],
  },
  {
    kind: 'workflow',
    name: 'claim_flow',
    label: L('Claim flow'),
    entity: 'claim',
    stateField: 'state',
    initial: 'waiting',
    states: {
      waiting: {
        on: {
          expire: { target: 'expired', guard: { '!': [{ var: 'hold' }] } },
          remind: { target: 'reminded' },
          finish: { target: 'done' },
        },
        timers: [{ event: 'expire', after: 'PT1S' }],
      },
      reminded: {
        on: { finish: { target: 'done' }, back: { target: 'waiting' } },
        timers: [{ event: 'finish', at: 'due', offset: '-PT1H' }],
      },
      expired: { type: 'final' },
      done: { type: 'final' },
    },
  },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits until check() holds (the queue polls every half second). */
async function eventually(check: () => Promise<boolean>, ms = 8000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await sleep(200);
  }
  return false;
}

describe.each(drivers)('workflow timers on %s', (driver) => {
  let e: TestEngine;
  beforeAll(async () => {
    e = await startEngine(driver);
    expect((await e.call('POST', '/api/meta/deploy', { documents: app })).status).toBe(201);
  });
  afterAll(() => e?.stop());

  const claim = async (id: string) => (await e.call('GET', `/api/data/claim/${id}`)).body.data;
  const history = async (id: string) => (await e.call('GET', `/api/data/claim/${id}/workflow-history`)).body.data.transitions;

  it('fires a state timer after its delay, as the engine, with the timer named in the history', async () => {
    const c = (await e.call('POST', '/api/data/claim', { title: '超时' })).body.data;
    expect(c.state).toBe('waiting');
    expect(await eventually(async () => (await claim(c.id)).state === 'expired')).toBe(true);
    const [entry] = await history(c.id);
    expect(entry).toMatchObject({ event: 'expire', from: 'waiting', to: 'expired', actor: null, comment: 'timer: PT1S' });
  });

  it('does not fire for a stay that has ended, even when the state is entered again later', async () => {
    const c = (
      await e.call('POST', '/api/data/claim', { title: '已处理', due: new Date(Date.now() + 3_600_000 * 48).toISOString() })
    ).body.data;
    expect((await e.call('POST', `/api/data/claim/${c.id}/transitions/remind`)).status).toBe(200);
    await sleep(1800); // the first stay's timer is due now, and must not fire
    expect((await claim(c.id)).state).toBe('reminded');
    // Back in waiting: a new stay with its own timer, which fires once.
    expect((await e.call('POST', `/api/data/claim/${c.id}/transitions/back`)).status).toBe(200);
    expect(await eventually(async () => (await claim(c.id)).state === 'expired')).toBe(true);
    expect((await history(c.id)).map((h: any) => h.event)).toEqual(['expire', 'back', 'remind']);
  });

  it('leaves the record alone when the guard does not hold at the time', async () => {
    const c = (await e.call('POST', '/api/data/claim', { title: '暂缓', hold: true })).body.data;
    // Await the timer's job itself, not a fixed sleep: once it has run, the record must be as it was.
    const ran = async () =>
      (
        await e.database.rows(
          sql`select 1 from jobs.job where name = 'workflow-timer' and data->>'id' = ${c.id} and state = 'completed'`,
        )
      ).length > 0;
    expect(await eventually(ran)).toBe(true);
    expect((await claim(c.id)).state).toBe('waiting');
    expect(await history(c.id)).toEqual([]);
  });

  it('fires at a date field plus offset, and follows the date when it moves', async () => {
    const c = (
      await e.call('POST', '/api/data/claim', {
        title: '到期',
        hold: true,
        due: new Date(Date.now() + 3_600_000 * 24).toISOString(),
      })
    ).body.data;
    expect((await e.call('POST', `/api/data/claim/${c.id}/transitions/remind`)).status).toBe(200);
    await sleep(1500);
    expect((await claim(c.id)).state).toBe('reminded'); // due tomorrow, minus an hour
    // Moving the date so that due − 1h has passed sets the timer again: it fires now.
    const now = await claim(c.id);
    const moved = await e.call('PATCH', `/api/data/claim/${c.id}`, {
      due: new Date(Date.now() + 3_600_000 - 60_000).toISOString(),
      version: now.version,
    });
    expect(moved.status).toBe(200);
    expect(await eventually(async () => (await claim(c.id)).state === 'done')).toBe(true);
    expect((await history(c.id))[0]).toMatchObject({ event: 'finish', comment: 'timer: due-PT1H' });
  });

  it('refuses a timer naming an event the state lacks, or a field that is not a date', async () => {
    const bad = structuredClone(app[2]) as any;
    bad.states.waiting.timers = [{ event: 'nope', after: 'PT1M' }];
    bad.states.reminded.timers = [{ event: 'finish', at: 'title' }];
    const res = await e.call('POST', '/api/meta/deploy', { documents: [bad] });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: any) => [d.path, d.code])).toEqual([
      ['/documents/0/states/waiting/timers/0/event', 'unknown_event'],
      ['/documents/0/states/reminded/timers/0/at', 'invalid_timer_field'],
    ]);
    const malformed = structuredClone(app[2]) as any;
    malformed.states.waiting.timers = [{ event: 'expire', after: '3 days' }];
    const res2 = await e.call('POST', '/api/meta/deploy', { documents: [malformed] });
    expect(res2.status).toBe(400);
    expect(res2.body.error.details[0].path).toBe('/documents/0/states/waiting/timers/0/after');
  });
});

/** Two engines on one database, one after the other (a restart) or side by side (two processes). */
async function sharedDatabase(driver: 'pglite' | 'postgres') {
  if (driver === 'pglite') {
    const dataDir = await mkdtemp(join(tmpdir(), 'metacrm-timers-'));
    return {
      open: () => createEngine({ dataDir, jobs: { pollingSeconds: 0.5 } }),
      drop: () => rm(dataDir, { recursive: true, force: true }),
    };
  }
  const admin = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
  const name = `metacrm_timers_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  await admin.unsafe(`create database ${name}`);
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/${name}`;
  return {
    open: () => createEngine({ url: url.toString(), jobs: { pollingSeconds: 0.5 } }),
    drop: async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

describe.each(drivers)('durable timers on %s', (driver) => {
  it('survive a restart: a timer due while the server is down fires when it is back', async () => {
    const db = await sharedDatabase(driver);
    let engine: Engine | undefined;
    try {
      engine = await db.open();
      await engine.metadata.deploy({ documents: app as never });
      const c = (await engine.data.create(engineContext(), 'claim', { title: '重启' })) as Record<string, unknown>;
      await engine.close();
      await sleep(1500); // due while nothing runs
      engine = await db.open();
      const state = async () =>
        ((await engine!.data.get(engineContext(), 'claim', c.id as string)) as Record<string, unknown>).state;
      expect(await eventually(async () => (await state()) === 'expired')).toBe(true);
    } finally {
      await engine?.close();
      await db.drop();
    }
  }, 90_000); // two engine starts on a file-backed PGlite, each deploying the system package

  it.skipIf(driver === 'pglite')('run once with two server processes on one database', async () => {
    const db = await sharedDatabase(driver);
    const engines: Engine[] = [];
    try {
      engines.push(await db.open());
      await engines[0].metadata.deploy({ documents: app as never });
      engines.push(await db.open());
      const ids: string[] = [];
      for (let i = 0; i < 6; i++)
        ids.push(((await engines[i % 2].data.create(engineContext(), 'claim', { title: `并发 ${i}` })) as { id: string }).id);
      const expired = async () =>
        Number(
          (
            await engines[0].database.rows<{ n: number }>(
              sql`select count(*)::int as n from claim where state = 'expired' and id in ${ids}`,
            )
          )[0].n,
        );
      expect(await eventually(async () => (await expired()) === 6)).toBe(true);
      await sleep(1000);
      const fired = await engines[0].database.rows<{ record_id: string; n: number }>(
        sql`select record_id, count(*)::int as n from workflow.history where event = 'expire' and record_id in ${ids} group by record_id`,
      );
      expect(fired.map((f) => Number(f.n))).toEqual([1, 1, 1, 1, 1, 1]);
      const jobs = await engines[0].database.rows<{ state: string; n: number }>(
        sql`select state, count(*)::int as n from jobs.job where name = 'workflow-timer' group by state`,
      );
      expect(jobs).toEqual([{ state: 'completed', n: 6 }]);
    } finally {
      for (const engine of engines) await engine.close();
      await db.drop();
    }
  });
});
