import { L, type TestEngine } from '../support/engine.js';

/** A small app for the import tests: companies matched by credit code, else name; people by mobile. */
export const importApp = () => [
  {
    kind: 'dictionary',
    name: 'industry',
    label: L('Industry', '行业'),
    items: [
      { value: 'manufacturing', label: L('Manufacturing', '制造业') },
      { value: 'it', label: L('Information technology', '信息技术') },
    ],
  },
  {
    kind: 'entity',
    name: 'company',
    label: L('Company', '公司'),
    titleField: 'name',
    fields: [
      { name: 'name', type: 'text', label: L('Company name', '公司名称'), required: true, unique: true, maxLength: 100 },
      { name: 'credit_code', type: 'text', label: L('Credit code', '信用代码'), unique: true, maxLength: 18 },
      { name: 'industry', type: 'picklist', dictionary: 'industry', label: L('Industry', '行业') },
      { name: 'founded', type: 'date', label: L('Founded', '成立日期') },
      { name: 'revenue', type: 'currency', min: 0, label: L('Revenue', '营收') },
      { name: 'listed', type: 'boolean', label: L('Listed', '上市') },
      { name: 'secret', type: 'text', label: L('Secret', '机密') },
      { name: 'no', type: 'autonumber', pattern: 'C-{seq:6}', label: L('Number', '编号') },
      {
        name: 'double',
        type: 'formula',
        returns: 'currency',
        expr: { '*': [{ var: 'revenue' }, 2] },
        label: L('Double', '双倍'),
      },
    ],
    rules: [
      { name: 'not_bad', field: 'name', assert: { '!=': [{ var: 'name' }, 'Bad Co'] }, message: L('Not allowed', '不允许') },
    ],
    import: {
      match: [{ fields: ['credit_code'] }, { fields: ['name'] }],
      mode: 'upsert',
      overwrite: ['industry', 'revenue', 'listed', 'founded'],
    },
  },
  {
    kind: 'entity',
    name: 'person',
    label: L('Person', '联系人'),
    titleField: 'name',
    fields: [
      { name: 'name', type: 'text', label: L('Name', '姓名'), required: true, maxLength: 100 },
      { name: 'mobile', type: 'phone', label: L('Mobile', '手机') },
      { name: 'company', type: 'reference', to: 'company', onDelete: 'restrict', label: L('Company', '公司') },
    ],
    import: { match: [{ fields: ['mobile'] }] },
  },
  {
    kind: 'role',
    name: 'importer',
    label: L('Importer', '导入员'),
    grants: [
      {
        entity: 'company',
        read: 'all',
        create: 'all',
        update: 'all',
        delete: 'all',
        import: 'all',
        export: 'all',
        fields: { write: ['name', 'credit_code', 'industry', 'founded', 'revenue', 'listed'] },
      },
      { entity: 'person', read: 'all', create: 'all', update: 'all', import: 'all' },
    ],
  },
  {
    kind: 'role',
    name: 'clerk',
    label: L('Clerk', '文员'),
    grants: [{ entity: 'company', read: 'all', create: 'all', update: 'all', export: 'all' }],
  },
];

/** Uploads a file (bytes) and answers the upload. */
export async function upload(e: TestEngine, entity: string, bytes: Uint8Array | string, token = e.admin.token, lang = 'en') {
  const res = await e.app.request(`/api/data/${entity}/import/files?name=test`, {
    method: 'POST',
    body: (typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes) as BodyInit,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'accept-language': lang },
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
