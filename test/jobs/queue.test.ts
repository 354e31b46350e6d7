/**
 * The durable job queue's workers: a backlog of due jobs — the timers that fell due while the server was
 * down, those a demo load sets — is taken in batches, not one job per polling interval; within a batch
 * each job succeeds or fails on its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobQueue } from '../../engine/jobs/queue.js';
import { drivers, startEngine, type TestEngine } from '../support/engine.js';

describe.each(drivers)('job queue workers on %s', (driver) => {
  let e: TestEngine;
  const queues: JobQueue[] = [];
  beforeAll(async () => {
    e = await startEngine(driver);
  }, 120_000);
  afterAll(async () => {
    for (const q of queues) await q.stop();
    await e?.stop();
  });

  /** A queue of its own on the engine's database: `work` false only sends. */
  const queueOf = async (name: string, run: (data: { n: number }) => Promise<void>, work: boolean) => {
    const q = new JobQueue(e.database, { work, pollingSeconds: 60 });
    q.define<{ n: number }>({ name, retryLimit: 0, run });
    await q.start();
    queues.push(q);
    return q;
  };

  it('takes a backlog of due jobs in its first look, not one per polling interval', async () => {
    const ran: number[] = [];
    const sender = await queueOf('test-backlog', async () => {}, false);
    await sender.sendMany(
      'test-backlog',
      Array.from({ length: 12 }, (_, n) => ({ data: { n } })),
    );
    // The worker looks once as it starts, then every 60 s: all twelve must run in that first look.
    await queueOf('test-backlog', async ({ n }) => void ran.push(n), true);
    await expect.poll(() => ran.length, { timeout: 15_000 }).toBe(12);
    expect([...ran].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, n) => n));
  });

  it('fails a failing job of a batch on its own and completes the others', async () => {
    const sender = await queueOf('test-batch-failure', async () => {}, false);
    const ids: string[] = [];
    for (let n = 0; n < 5; n++) ids.push((await sender.send('test-batch-failure', { n }))!);
    const ran: number[] = [];
    await queueOf(
      'test-batch-failure',
      async ({ n }) => {
        ran.push(n);
        if (n === 2) throw new Error('the third job cannot be done');
      },
      true,
    );
    await expect.poll(() => ran.length, { timeout: 15_000 }).toBe(5);
    await expect
      .poll(async () => Promise.all(ids.map(async (id) => (await sender.job('test-batch-failure', id))?.state)), {
        timeout: 15_000,
      })
      .toEqual(['completed', 'completed', 'failed', 'completed', 'completed']);
    const failed = await sender.job('test-batch-failure', ids[2]);
    expect(JSON.stringify(failed?.output)).toContain('the third job cannot be done');
  });
});
