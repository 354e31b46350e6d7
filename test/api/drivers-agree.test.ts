/**
 * The same requests answer the same JSON on both drivers (issue 11, item 17): decimals as plain JSON
 * numbers (12, not "12.0000"), times as ISO 8601 (not PostgreSQL's '2026-11-27 08:43:57.667+00'),
 * counts and ids with one type. With DATABASE_URL set the script runs on PGlite and on PostgreSQL and the
 * answers are compared; without it only the forms are checked, on PGlite.
 */
import { describe, expect, it } from 'vitest';
import { drivers, L, startEngine, type Driver } from '../support/engine.js';

const documents = [
  { kind: 'dictionary', name: 'lot_state', label: L('State'), items: ['open', 'closed'].map((v) => ({ value: v, label: L(v) })) },
  { kind: 'role', name: 'clerk', label: L('Clerk'), grants: [{ entity: 'lot', read: 'all', create: 'all', update: 'all' }] },
  {
    kind: 'entity',
    name: 'lot',
    label: L('Lot'),
    titleField: 'title',
    fields: [
      { name: 'title', type: 'text', label: L('Title') },
      { name: 'price', type: 'currency', label: L('Price') },
      { name: 'share', type: 'percent', label: L('Share') },
      { name: 'rate', type: 'decimal', precision: 12, scale: 4, label: L('Rate') },
      { name: 'pieces', type: 'integer', label: L('Pieces') },
      {
        name: 'total',
        type: 'formula',
        returns: 'decimal',
        expr: { '*': [{ var: 'price' }, { var: 'rate' }] },
        label: L('Total'),
      },
      { name: 'day', type: 'date', label: L('Day') },
      { name: 'at', type: 'datetime', label: L('At') },
      { name: 'state', type: 'picklist', dictionary: 'lot_state', label: L('State') },
    ],
  },
  {
    kind: 'workflow',
    name: 'lot_flow',
    label: L('Lot flow'),
    entity: 'lot',
    stateField: 'state',
    initial: 'open',
    states: {
      open: { on: { close: { target: 'closed', label: L('Close') } } },
      closed: { type: 'final' },
    },
  },
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
const PG_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}/;

/** Runs the same requests on a fresh engine and returns each answer, with ids and instants replaced. */
async function script(driver: Driver) {
  const e = await startEngine(driver);
  try {
    const answers: Record<string, unknown> = {};
    const keep = async (name: string, method: string, path: string, body?: unknown) => {
      const res = await e.call(method, path, body);
      expect(res.status, `${name}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
      answers[name] = res.body;
      return res.body;
    };
    await keep('deploy', 'POST', '/api/meta/deploy', { documents });
    const lot = (
      await keep('create', 'POST', '/api/data/lot', {
        title: 'A',
        price: 580000,
        share: 12,
        rate: 1.5,
        pieces: 3,
        day: '2026-11-27',
        at: '2026-11-27T08:43:57.667Z',
      })
    ).data;
    await keep('create2', 'POST', '/api/data/lot', { title: 'B', price: 0.1, share: 12.25, rate: 0.0001 });
    await keep('get', 'GET', `/api/data/lot/${lot.id}`);
    await keep('list', 'GET', '/api/data/lot?sort=price&count=true');
    await keep('patch', 'PATCH', `/api/data/lot/${lot.id}`, { price: 12, version: 1 });
    await keep('transition', 'POST', `/api/data/lot/${lot.id}/transitions/close`);
    await keep('history', 'GET', `/api/data/lot/${lot.id}/history`);
    await keep('workflowHistory', 'GET', `/api/data/lot/${lot.id}/workflow-history`);
    await keep('deployments', 'GET', '/api/meta/deployments');
    await keep('token', 'POST', '/api/auth/tokens', { name: 'compare', expiresAt: '2030-01-01T00:00:00Z' });
    await keep('tokens', 'GET', '/api/auth/tokens');
    await keep('loginHistory', 'GET', '/api/auth/history');
    await keep('versions', 'GET', '/api/meta/documents/entity/lot/versions');
    return answers;
  } finally {
    await e.stop();
  }
}

/** Checks the forms and blanks out what differs by nature (ids, instants, tokens). */
function normalise(value: unknown, path: string, problems: string[]): unknown {
  if (typeof value === 'string') {
    if (PG_TIME.test(value)) problems.push(`${path}: "${value}" is not ISO 8601`);
    if (/^-?\d+\.\d*0$/.test(value)) problems.push(`${path}: "${value}" is a decimal as text with trailing zeros`);
    if (UUID.test(value)) return '<uuid>';
    if (ISO.test(value)) return '<instant>';
    if (/^mc[st]_/.test(value)) return '<token>';
    return value;
  }
  if (Array.isArray(value)) return value.map((v, i) => normalise(v, `${path}/${i}`, problems));
  if (value && typeof value === 'object') {
    // Durations depend on how long each run took, not on the driver.
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, k === 'seconds' ? '<seconds>' : normalise(v, `${path}/${k}`, problems)]),
    );
  }
  return value;
}

describe('both drivers answer the same JSON', () => {
  it(`in ISO 8601 times and plain decimal numbers${drivers.length < 2 ? ' (PGlite only: set DATABASE_URL to compare with PostgreSQL)' : ''}`, async () => {
    const results = [];
    for (const driver of drivers) {
      const problems: string[] = [];
      const answers = normalise(await script(driver), '', problems) as Record<string, any>;
      expect(problems, driver).toEqual([]);
      expect(answers.get.data).toMatchObject({
        price: 580000,
        share: 12,
        rate: 1.5,
        total: 870000,
        pieces: 3,
        day: '2026-11-27',
      });
      results.push(answers);
    }
    if (results.length === 2) {
      for (const key of Object.keys(results[0])) expect(results[1][key], key).toEqual(results[0][key]);
    }
  }, 60_000);
});
