/**
 * Chinese users get Chinese answers (issue 11, item 15): details name fields by their label, patterns
 * are explained in words (the field's patternMessage or help, the type's own), never as a regular
 * expression; deploys, workflows, approvals and auth answer in the caller's language — the user's own
 * `language` first, else Accept-Language.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, L, startEngine, type TestEngine } from '../support/engine.js';

const documents = [
  { kind: 'dictionary', name: 'memo_state', label: L('State'), items: ['draft', 'sent'].map((v) => ({ value: v, label: L(v) })) },
  {
    kind: 'entity',
    name: 'memo',
    label: L('Memo', '备忘'),
    titleField: 'title',
    fields: [
      { name: 'title', type: 'text', label: L('Title', '备忘标题'), required: true },
      {
        name: 'code',
        type: 'text',
        label: L('Code', '编号'),
        pattern: '^M-[0-9]{4}$',
        patternMessage: L('M- and four digits, e.g. M-0001', 'M- 加四位数字，例如 M-0001'),
      },
      {
        name: 'ref',
        type: 'text',
        label: L('Reference', '参考号'),
        pattern: '^[A-Z]+$',
        help: L('Capital letters only', '只能填写大写字母'),
      },
      { name: 'tel', type: 'phone', label: L('Phone', '联系电话') },
      { name: 'pages', type: 'integer', label: L('Pages', '页数'), min: 1 },
      { name: 'state', type: 'picklist', dictionary: 'memo_state', label: L('State', '状态') },
    ],
  },
  {
    kind: 'workflow',
    name: 'memo_flow',
    label: L('Memo flow'),
    entity: 'memo',
    stateField: 'state',
    initial: 'draft',
    states: {
      draft: { on: { send: { target: 'sent', label: L('Send') } } },
      sent: { type: 'final' },
    },
  },
];

describe.each(drivers)("messages in the caller's language on %s", (driver) => {
  let e: TestEngine;
  beforeAll(async () => {
    e = await startEngine(driver);
    expect((await e.call('POST', '/api/meta/deploy', { documents })).status).toBe(201);
  });
  afterAll(() => e?.stop());

  const zh = { 'accept-language': 'zh-CN' };
  const details = (res: { body: any }) => Object.fromEntries(res.body.error.details.map((d: any) => [d.path, d.message]));

  it('names fields by their label and explains patterns in words', async () => {
    const res = await e.call('POST', '/api/data/memo', { title: ' ', code: 'X1', ref: 'abc', tel: 'call me', pages: 0 }, zh);
    expect(res.status).toBe(422);
    expect(details(res)).toEqual({
      '/title': '必须填写 "备忘标题"',
      '/code': '"编号"：M- 加四位数字，例如 M-0001',
      '/ref': '"参考号"：只能填写大写字母',
      '/tel': '"联系电话"：必须是电话号码：数字、空格、括号和连字符，可以 + 开头，可带分机（转 123）',
      '/pages': '"页数"不能小于 1',
    });
    expect(JSON.stringify(res.body)).not.toMatch(/\^|\$"|\[0-9\]/); // no regular expression shown
    const en = await e.call('POST', '/api/data/memo', { code: 'X1' });
    expect(details(en)).toEqual({ '/title': '"Title" is required', '/code': '"Code": M- and four digits, e.g. M-0001' });
  });

  it('answers deploy errors in Chinese, keeping the names at fault', async () => {
    const bad = {
      ...documents[1],
      titleField: undefined,
      fields: [...(documents[1].fields as object[]), { name: 'x', type: 'reference', to: 'nowhere', label: L('X') }],
    };
    const res = await e.call('POST', '/api/meta/deploy', { documents: [bad] }, zh);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/^元数据有误/);
    expect(Object.values(details(res))).toEqual(['实体不存在："nowhere"']);
  });

  it('answers workflow and approval errors in Chinese', async () => {
    const memo = (await e.call('POST', '/api/data/memo', { title: '周报' })).body.data;
    const res = await e.call('POST', `/api/data/memo/${memo.id}/transitions/archive`, undefined, zh);
    expect([res.status, res.body.error.message]).toEqual([409, '当前状态"draft"下不能执行"archive"；可执行：send']);
    const task = await e.call('GET', '/api/approvals/00000000-0000-7000-8000-000000000000', undefined, zh);
    expect([task.status, task.body.error.message]).toEqual([404, '没有您的审批任务 00000000-0000-7000-8000-000000000000']);
  });

  it('says request-format errors in Chinese too, keeping codes and paths; English callers keep English', async () => {
    const badJson = await e.call('POST', '/api/data/memo', '{"title": ', zh);
    expect([badJson.status, badJson.body.error]).toEqual([400, { code: 'invalid_json', message: '请求体不是有效的 JSON' }]);
    const unknown = await e.call('GET', '/api/data/memo?colour=red', undefined, zh);
    expect(unknown.body.error).toMatchObject({
      code: 'unknown_parameter',
      message: '未知的查询参数',
      details: [{ path: '/query/colour' }],
    });
    const memo = (await e.call('POST', '/api/data/memo', { title: '版本' })).body.data;
    const noVersion = await e.call('PATCH', `/api/data/memo/${memo.id}`, { title: '无版本' }, zh);
    expect([noVersion.status, noVersion.body.error.code, noVersion.body.error.message]).toEqual([
      428,
      'version_required',
      '请提供读取时的版本号（If-Match 请求头或请求体中的 version）',
    ]);
    const missing = await e.call('GET', '/api/data/memo/00000000-0000-7000-8000-000000000000', undefined, zh);
    expect(missing.body.error).toEqual({ code: 'record_not_found', message: '记录不存在，或您无权查看' });
    const route = await e.call('GET', '/api/nowhere', undefined, zh);
    expect([route.status, route.body.error.message]).toEqual([404, '接口不存在']);
    const noApproval = await e.call('GET', `/api/data/memo/${memo.id}/approval`, undefined, zh);
    expect([noApproval.status, noApproval.body.error.message]).toEqual([404, '备忘没有审批流程']);
    // A request-format detail without a code of its own is not left in English; its path still names the field.
    const revert = await e.call('POST', `/api/data/memo/${memo.id}/revert`, {}, zh);
    expect(revert.body.error).toMatchObject({ code: 'invalid_request', details: [{ path: '/version', message: '此项不正确' }] });
    // Messages thrown in Chinese stay as they were; English callers read English.
    expect((await e.call('POST', '/api/data/memo', '{"title": ', { 'accept-language': 'en' })).body.error.message).toMatch(
      /^The request body is not valid JSON/,
    );
  });

  it("prefers the user's own language to the browser's", async () => {
    const u = await e.createUser({
      username: 'li',
      display_name: '李',
      roles: [],
      password: 'li password 123',
      language: 'zh_cn',
    });
    const token = await e.login('li', u.password);
    const res = await e.callAs(
      token,
      'POST',
      '/api/auth/password',
      { currentPassword: 'wrong one', newPassword: 'li password 456' },
      { 'accept-language': 'en' },
    );
    expect([res.status, res.body.error.message]).toEqual([403, '当前密码错误']);
  });
});
