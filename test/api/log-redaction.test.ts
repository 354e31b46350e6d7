/**
 * Error logs name the failure, never the values bound to the query (issue 11, item 10): a failed query's
 * parameters may hold a token's hash or a password hash. Driven through a real failed query on each driver.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { drivers, startEngine, type TestEngine } from '../support/engine.js';
import { describeFailure } from '../../engine/log.js';
import { createApp } from '../../engine/http/app.js';
import { Inbox } from '../../engine/notifications/inbox.js';

describe.each(drivers)('log redaction on %s', (driver) => {
  let e: TestEngine;
  beforeAll(async () => {
    e = await startEngine(driver);
  });
  afterAll(() => e?.stop());

  it('logs a failed query without its parameters, and answers 500 without details', async () => {
    const secret = 'f'.repeat(64); // as a token hash looks
    // A fresh app over the same engine, so a failing route can be added before the first request.
    const app = createApp({ ...e, inbox: new Inbox(e.database), driver });
    app.get('/api/test-failure', async () => {
      await e.database.db.execute(sql`select ${secret}::uuid from auth.sessions where token_hash = ${secret}`);
      return new Response('unreachable');
    });
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const response = await app.request('/api/test-failure', { headers: { authorization: `Bearer ${e.admin.token}` } });
      const res = { status: response.status, body: await response.json() };
      expect([res.status, res.body.error.code]).toEqual([500, 'internal_error']);
      expect(JSON.stringify(res.body)).not.toContain(secret);
      const logged = spy.mock.calls.map((args) => args.map(String).join(' ')).join('\n');
      expect(logged).toContain('GET /api/test-failure');
      expect(logged).toContain('token_hash'); // the SQL text, to find the fault
      expect(logged).not.toContain(secret);
    } finally {
      spy.mockRestore();
    }
  });

  it('follows causes and keeps their codes', () => {
    const failure = describeFailure(
      Object.assign(new Error('Failed query: select 1\nparams: secret,another'), {
        cause: Object.assign(new Error('boom'), { code: '22P02' }),
      }),
    );
    expect(JSON.stringify(failure)).not.toContain('secret');
    expect(failure).toMatchObject({
      message: 'Failed query: select 1\nparams: [redacted]',
      cause: { code: '22P02', message: 'boom' },
    });
  });
});
