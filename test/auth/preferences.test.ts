/** A user's own time zone and language (PATCH /api/auth/me, engine/auth/preferences.ts). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, startEngine, type TestEngine } from '../support/engine.js';

describe.each(drivers)('own preferences on %s', (driver) => {
  let e: TestEngine;
  let token: string;
  let id: string;
  beforeAll(async () => {
    e = await startEngine(driver);
    // No role at all: setting one's own preferences needs no right on the user entity.
    ({ id } = await e.createUser({ username: 'dana', display_name: 'Dana', roles: [], password: 'danas password 1' }));
    token = await e.login('dana', 'danas password 1');
  });
  afterAll(() => e?.stop());

  const me = async () => (await e.callAs(token, 'GET', '/api/auth/me')).body;
  const set = (body: unknown, lang = 'en') => e.callAs(token, 'PATCH', '/api/auth/me', body, { 'accept-language': lang });
  const stored = async () => (await e.call('GET', `/api/data/user/${id}`)).body.data;

  it('stores an IANA time zone on the user and answers it in /me; empty goes back to the default', async () => {
    expect((await me()).timeZone).toBeNull();
    const res = await set({ time_zone: 'America/New_York' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data.time_zone).toBe('America/New_York');
    expect((await me()).timeZone).toBe('America/New_York');
    expect((await stored()).time_zone).toBe('America/New_York');
    expect((await set({ time_zone: '' })).status).toBe(200);
    expect((await me()).timeZone).toBeNull();
    expect((await set({ time_zone: 'Asia/Shanghai' })).status).toBe(200);
  });

  it('refuses what is not a zone with 422 at /time_zone, in the caller’s language, and writes nothing', async () => {
    for (const bad of ['Mars/Olympus', '+08:00', 'Asia/Shanghai; drop table', 42]) {
      const en = await set({ time_zone: bad });
      expect(en.status, JSON.stringify(en.body)).toBe(422);
      expect(en.body.error.code).toBe('validation_failed');
      expect(en.body.error.details).toContainEqual(expect.objectContaining({ path: '/time_zone' }));
      const zh = await set({ time_zone: bad }, 'zh-CN');
      expect(zh.status).toBe(422);
      expect(JSON.stringify(zh.body.error.details)).toMatch(/时区/);
    }
    expect((await set({ time_zone: 'Mars/Olympus' })).body.error.details[0].message).toMatch(/IANA time zone/);
    expect((await stored()).time_zone).toBe('Asia/Shanghai');
  });

  it('sets nothing but preferences: other fields are refused by path, nothing written', async () => {
    const res = await set({ roles: ['admin'], time_zone: 'Europe/Berlin' });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('invalid_body');
    expect(res.body.error.details).toEqual([expect.objectContaining({ path: '/roles' })]);
    const zh = await set({ display_name: 'x' }, 'zh-CN');
    expect(zh.body.error.message).toMatch(/只能设置/);
    expect((await set([1])).status).toBe(422);
    const after = await stored();
    expect(after.roles ?? []).toEqual([]);
    expect(after.time_zone).toBe('Asia/Shanghai');
  });

  it('stores the language, answers it in /me, and answers the user in it whatever Accept-Language says', async () => {
    const refusal = async (acceptLanguage: string) => (await set({ roles: [] }, acceptLanguage)).body.error.message as string;
    expect((await me()).language).toBeNull();
    // No choice yet: the header decides.
    expect(await refusal('zh-CN')).toMatch(/只能设置/);
    expect(await refusal('en')).toMatch(/can be set here/);
    const en = await set({ language: 'en' }, 'zh-CN');
    expect(en.status, JSON.stringify(en.body)).toBe(200);
    expect(en.body.data.language).toBe('en');
    expect((await me()).language).toBe('en');
    expect(await refusal('zh-CN')).toMatch(/can be set here/);
    expect((await set({ language: 'zh_cn' })).status).toBe(200);
    expect((await me()).language).toBe('zh-CN');
    expect(await refusal('en')).toMatch(/只能设置/);
    const bad = await set({ language: 'fr' });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details).toContainEqual(expect.objectContaining({ path: '/language' }));
    expect((await set({ language: null })).status).toBe(200);
    expect((await me()).language).toBeNull();
    expect(await refusal('en')).toMatch(/can be set here/);
  });

  it('takes the field’s default (the organisation’s zone) for users without their own', async () => {
    const user = (await e.call('GET', '/api/meta/documents/entity/user')).body;
    const fields = user.fields.map((f: any) => (f.name === 'time_zone' ? { ...f, default: 'Asia/Shanghai' } : f));
    expect((await e.call('POST', '/api/meta/deploy', { documents: [{ ...user, fields }] })).status).toBe(201);
    expect((await set({ time_zone: null })).status).toBe(200);
    expect((await me()).timeZone).toBe('Asia/Shanghai');
    const bad = await e.call('POST', '/api/meta/deploy', {
      documents: [
        { ...user, fields: user.fields.map((f: any) => (f.name === 'time_zone' ? { ...f, default: 'Nowhere/City' } : f)) },
      ],
    });
    expect(bad.status).toBe(400);
  });
});
