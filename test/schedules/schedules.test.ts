/**
 * Schedules (issue 16): the `users` field type (a list of active users: checked in the write's
 * transaction with the failing position, filtered with "contains" / "some of", read by role scopes),
 * the sales app's schedule entity (team and participants see it, appointments may not overlap for the
 * owner or any participant: 409 schedule_overlap), the calendar of a view (deploy-checked with paths),
 * and issue 12's form fixes (approval status read-only in forms, transition inputs labelled per language).
 */
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPackage } from '../../metadata/loader.js';
import { drivers, q, startEngine, type TestEngine } from '../support/engine.js';
import { seedDemoOrganisation } from '../support/demo-org.js';

const root = resolve(import.meta.dirname, '..', '..');
const sales = join(root, 'sample-apps', 'sales');
const NOBODY = '01900000-0000-7000-8000-000000000000';

/** A day well ahead, at a UTC hour: appointments of a test do not meet the other tests' ones. */
const at = (day: number, hour: number, minute = 0) => new Date(Date.UTC(2031, 0, day, hour, minute)).toISOString();

describe.each(drivers)('schedules and the users field on %s', (driver) => {
  let e: TestEngine;
  let ids: Record<string, string>;
  let tokens: Record<string, string>;
  beforeAll(async () => {
    e = await startEngine(driver);
    const res = await e.call('POST', '/api/meta/deploy', { documents: await loadPackage(sales) });
    expect(res.status, JSON.stringify(res.body).slice(0, 500)).toBe(201);
    ({ ids, tokens } = await seedDemoOrganisation(e, [sales]));
  }, 300_000);
  afterAll(() => e?.stop());

  const as = (user: string, method: string, path: string, body?: unknown) => e.callAs(tokens[user], method, path, body);
  const appointment = (day: number, from: number, to: number, extra: Record<string, unknown> = {}) => ({
    subject: `拜访 ${day}-${from}`,
    plan_kind: 'appointment',
    schedule_type: 'visit',
    start_at: at(day, from),
    end_at: at(day, to),
    ...extra,
  });

  it('stores a list of users and shows it in reads and lists', async () => {
    const made = await as(
      'rep_east',
      'POST',
      '/api/data/schedule',
      appointment(1, 1, 2, { participants: [ids.manager_east, ids.rep_north] }),
    );
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body.data.participants).toEqual([ids.manager_east, ids.rep_north]);
    const read = await as('rep_east', 'GET', `/api/data/schedule/${made.body.data.id}`);
    expect(read.body.data.participants).toEqual([ids.manager_east, ids.rep_north]);
    const list = await as('rep_east', 'GET', `/api/data/schedule?filter=${q({ '==': [{ var: 'id' }, made.body.data.id] })}`);
    expect(list.body.data[0].participants).toEqual([ids.manager_east, ids.rep_north]);
    // an export names the users
    const csv = await e.callAs(
      tokens.rep_east,
      'GET',
      `/api/data/schedule/export?format=csv&fields=subject,participants&filter=${q({ '==': [{ var: 'id' }, made.body.data.id] })}`,
      undefined,
      { 'accept-language': 'zh-CN' },
    );
    expect(csv.status).toBe(200);
    expect(String(csv.body)).toContain('王经理, 钱销售');
    // the form describes it for the user picker
    const form = await as('rep_east', 'GET', '/api/meta/forms/schedule');
    expect(form.body.data?.uiSchema?.participants?.['ui:widget'] ?? form.body.uiSchema?.participants?.['ui:widget']).toBe(
      'users',
    );
  });

  it('refuses an unknown or departed user with the position in the list, and writes nothing', async () => {
    const before = (await e.call('GET', `/api/data/schedule?count=true&limit=1`)).body.total;
    const unknown = await as(
      'rep_east',
      'POST',
      '/api/data/schedule',
      appointment(2, 1, 2, { participants: [ids.manager_east, NOBODY] }),
    );
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.details).toEqual([expect.objectContaining({ path: '/participants/1', code: 'invalid_reference' })]);
    const zh = await e.callAs(tokens.rep_east, 'POST', '/api/data/schedule', appointment(2, 1, 2, { participants: [NOBODY] }), {
      'accept-language': 'zh-CN',
    });
    expect(zh.body.error.details[0].message).toContain('在职用户');
    const notUuid = await as('rep_east', 'POST', '/api/data/schedule', appointment(2, 1, 2, { participants: ['rep_north'] }));
    expect([notUuid.status, notUuid.body.error.details[0].path]).toEqual([422, '/participants/0']);
    const twice = await as(
      'rep_east',
      'POST',
      '/api/data/schedule',
      appointment(2, 1, 2, { participants: [ids.rep_north, ids.rep_north] }),
    );
    expect([twice.status, twice.body.error.details[0].path]).toEqual([422, '/participants']);
    // a user who has left
    const left = await e.createUser({
      username: 'gone',
      display_name: '已离职',
      roles: ['sales_rep'],
      password: 'gone password 123',
    });
    const version = (await e.call('GET', `/api/data/user/${left.id}`)).body.data.version;
    expect((await e.call('PATCH', `/api/data/user/${left.id}`, { employment_status: 'left', version })).status).toBe(200);
    const departed = await as('rep_east', 'POST', '/api/data/schedule', appointment(2, 1, 2, { participants: [left.id] }));
    expect([departed.status, departed.body.error.details[0].path]).toEqual([422, '/participants/0']);
    // a PATCH too
    const ok = await as('rep_east', 'POST', '/api/data/schedule', appointment(2, 3, 4));
    const patched = await as('rep_east', 'PATCH', `/api/data/schedule/${ok.body.data.id}`, {
      participants: [NOBODY],
      version: 1,
    });
    expect([patched.status, patched.body.error.details[0].path]).toEqual([422, '/participants/0']);
    expect((await e.call('GET', `/api/data/schedule/${ok.body.data.id}`)).body.data.participants).toBeNull();
    expect((await e.call('GET', `/api/data/schedule?count=true&limit=1`)).body.total).toBe(before + 1);
  });

  it('filters by "contains" (a user, or me) and "some of", and refuses a filter value that is no user id', async () => {
    const mine = await as('manager_east', 'POST', '/api/data/schedule', appointment(3, 1, 2, { participants: [ids.rep_east] }));
    expect(mine.status, JSON.stringify(mine.body)).toBe(201);
    const other = await as('manager_east', 'POST', '/api/data/schedule', appointment(3, 3, 4, { participants: [ids.director] }));
    expect(other.status).toBe(201);
    const day3 = { '>=': [{ var: 'start_at' }, at(3, 0)] };
    const found = async (user: string, filter: unknown) =>
      ((await as(user, 'GET', `/api/data/schedule?filter=${q({ and: [day3, filter] })}`)).body.data as any[])
        .map((r) => r.id)
        .sort();
    expect(await found('manager_east', { in: [ids.rep_east, { var: 'participants' }] })).toEqual([mine.body.data.id]);
    expect(await found('rep_east', { in: [{ var: '$user.id' }, { var: 'participants' }] })).toEqual([mine.body.data.id]);
    expect(
      await found('manager_east', { some: [{ var: 'participants' }, { in: [{ var: '' }, [ids.director, ids.rep_north]] }] }),
    ).toEqual([other.body.data.id]);
    expect(await found('manager_east', { '!': { in: [ids.rep_east, { var: 'participants' }] } })).toEqual([other.body.data.id]);
    const bad = await as('manager_east', 'GET', `/api/data/schedule?filter=${q({ in: ['rep_east', { var: 'participants' }] })}`);
    expect([bad.status, bad.body.error.code]).toEqual([400, 'type_mismatch']);
    const equality = await as(
      'manager_east',
      'GET',
      `/api/data/schedule?filter=${q({ in: [{ var: 'participants' }, [ids.rep_east]] })}`,
    );
    expect(equality.status).toBe(400);
  });

  it('shows a schedule to the owner team and to its participants, not to others', async () => {
    const made = await as('rep_east', 'POST', '/api/data/schedule', appointment(4, 1, 2, { participants: [ids.rep_north] }));
    const hidden = await as('rep_east', 'POST', '/api/data/schedule', appointment(4, 3, 4));
    const visible = async (user: string, id: string) => (await as(user, 'GET', `/api/data/schedule/${id}`)).status;
    expect(await visible('manager_east', made.body.data.id)).toBe(200); // same department
    expect(await visible('rep_north', made.body.data.id)).toBe(200); // a participant
    expect(await visible('rep_north', hidden.body.data.id)).toBe(404); // neither
    // participants read it; they may not change it
    expect(
      (await as('rep_north', 'PATCH', `/api/data/schedule/${made.body.data.id}`, { subject: '改', version: 1 })).status,
    ).toBe(403);
  });

  it('refuses an appointment overlapping one of its owner or of a participant, with 409 schedule_overlap', async () => {
    const first = await as('rep_east', 'POST', '/api/data/schedule', appointment(5, 2, 4, { participants: [ids.manager_east] }));
    expect(first.status).toBe(201);
    const total = async () => (await e.call('GET', `/api/data/schedule?count=true&limit=1`)).body.total;
    const before = await total();
    // the owner again, half an hour into it
    const own = await as('rep_east', 'POST', '/api/data/schedule', { ...appointment(5, 3, 5), start_at: at(5, 3, 30) });
    expect(own.status).toBe(409);
    expect(own.body.error).toMatchObject({ code: 'schedule_overlap', details: [expect.objectContaining({ path: '/start_at' })] });
    const zh = await e.callAs(tokens.rep_east, 'POST', '/api/data/schedule', appointment(5, 3, 5), {
      'accept-language': 'zh-CN',
    });
    expect(zh.body.error.message).toContain('冲突');
    // another owner whose participant is busy then
    const viaParticipant = await as(
      'rep_north',
      'POST',
      '/api/data/schedule',
      appointment(5, 1, 3, { participants: [ids.rep_east] }),
    );
    expect([viaParticipant.status, viaParticipant.body.error?.code]).toEqual([409, 'schedule_overlap']);
    // the participant of the first one, as owner
    const participantOwns = await as('manager_east', 'POST', '/api/data/schedule', appointment(5, 3, 6));
    expect(participantOwns.status).toBe(409);
    // two participants in common
    const shared = await as('director', 'POST', '/api/data/schedule', appointment(5, 3, 6, { participants: [ids.manager_east] }));
    expect(shared.status).toBe(409);
    expect(await total()).toBe(before);
    // back to back, plans, and other people are fine
    expect((await as('rep_east', 'POST', '/api/data/schedule', appointment(5, 4, 5))).status).toBe(201);
    expect((await as('rep_east', 'POST', '/api/data/schedule', appointment(5, 0, 8, { plan_kind: 'daily_plan' }))).status).toBe(
      201,
    );
    expect((await as('rep_north', 'POST', '/api/data/schedule', appointment(5, 2, 4))).status).toBe(201);
    // moving one into a busy slot is refused too, and leaves it where it was
    const later = await as('rep_east', 'POST', '/api/data/schedule', appointment(5, 6, 7));
    const moved = await as('rep_east', 'PATCH', `/api/data/schedule/${later.body.data.id}`, {
      start_at: at(5, 3),
      end_at: at(5, 7),
      version: 1,
    });
    expect([moved.status, moved.body.error.code, moved.body.error.details[0].path]).toEqual([
      409,
      'schedule_overlap',
      '/start_at',
    ]);
    expect((await e.call('GET', `/api/data/schedule/${later.body.data.id}`)).body.data.start_at).toBe(at(5, 6));
    // its own old time does not count against it
    const shifted = await as('rep_east', 'PATCH', `/api/data/schedule/${later.body.data.id}`, {
      start_at: at(5, 6, 30),
      version: 1,
    });
    expect(shifted.status).toBe(200);
    // the end must follow the start
    const backwards = await as('rep_east', 'POST', '/api/data/schedule', appointment(6, 4, 3));
    expect([backwards.status, backwards.body.error.details[0].path]).toEqual([422, '/end_at']);
  });

  it('gives the calendar of the view and checks calendars at deploy with paths', async () => {
    const view = await as('rep_east', 'GET', '/api/meta/views/schedule');
    expect(view.body.data.calendar).toEqual({
      start: 'start_at',
      end: 'end_at',
      title: 'subject',
      color: 'schedule_type',
      people: 'participants',
    });
    const bad = {
      kind: 'view',
      name: 'schedule_bad',
      label: { en: 'Bad', 'zh-CN': '错' },
      entity: 'schedule',
      calendar: { start: 'subject', end: 'nope', color: 'location', people: 'account' },
    };
    const res = await e.call('POST', '/api/meta/deploy', { documents: [bad] });
    expect(res.status).toBe(400);
    const paths = (res.body.error.details as any[]).map((d) => d.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/\/calendar\/start$/),
        expect.stringMatching(/\/calendar\/end$/),
        expect.stringMatching(/\/calendar\/color$/),
        expect.stringMatching(/\/calendar\/people$/),
      ]),
    );
    const mixed = await e.call('POST', '/api/meta/deploy', {
      documents: [{ ...bad, calendar: { start: 'start_at', end: 'created_at' } }],
    });
    expect(mixed.status).toBe(400);
  });

  it('keeps the approval status out of editable form fields and labels transition inputs in each language', async () => {
    const form = await as('rep_east', 'GET', '/api/meta/forms/quote');
    const model = form.body.data ?? form.body;
    expect(model.fields.find((f: any) => f.name === 'approval_status')?.writable).toBe(false);
    expect(model.create.properties.approval_status?.readOnly).toBe(true);
    const lead = await as('rep_east', 'POST', '/api/data/lead', {
      company: '测试公司',
      contact_name: '测试',
      mobile: '13800138000',
      source: 'referral',
    });
    expect(lead.status, JSON.stringify(lead.body)).toBe(201);
    for (const [lang, want] of [
      ['zh-CN', '新负责人'],
      ['en', 'New owner'],
    ] as const) {
      const res = await e.callAs(tokens.manager_east, 'GET', `/api/data/lead/${lead.body.data.id}/transitions`, undefined, {
        'accept-language': lang,
      });
      const assign = (res.body.data?.transitions ?? res.body.transitions).find((t: any) => t.input?.properties?.owner);
      expect(assign?.input.properties.owner.title).toBe(want);
      expect(assign?.input.properties.owner.label).toBeUndefined();
      // The assign action writes the input into owner_id: the UI is told it names a user (a user picker).
      expect(assign?.input.properties.owner['x-reference']).toBe('user');
    }
    // a property naming a field takes the field's label
    const deploy = await e.call('POST', '/api/meta/deploy', {
      documents: [
        {
          ...((await loadPackage(sales)).find((d: any) => d.kind === 'workflow' && d.name === 'lead_handling') as object),
          states: {
            new: {
              on: {
                x: { target: 'new', input: { type: 'object', properties: { y: { type: 'string', label: { en: 'only en' } } } } },
              },
            },
          },
        },
      ],
    });
    expect(deploy.status).toBe(400);
    expect(JSON.stringify(deploy.body.error.details)).toContain('/states/new/on/x/input/properties/y/label');
  });

  it('tells each user the labels of their roles', async () => {
    const me = await as('rep_east', 'GET', '/api/auth/me');
    expect(me.body.roleLabels).toEqual({ sales_rep: { en: 'Sales representative', 'zh-CN': '销售' } });
  });
});
