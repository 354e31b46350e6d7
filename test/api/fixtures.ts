import { L } from '../support/engine.js';

/** A small CRM used by the API tests: accounts, deals (with every kind of field) and notes. */
export const testApp = () => [
  {
    kind: 'dictionary',
    name: 'stage',
    label: L('Stage', '阶段'),
    items: [
      { value: 'new', label: L('New', '新建') },
      { value: 'won', label: L('Won', '赢单') },
      { value: 'lost', label: L('Lost', '输单') },
      { value: 'old', label: L('Old', '旧'), active: false },
    ],
  },
  {
    kind: 'dictionary',
    name: 'tag',
    label: L('Tag', '标签'),
    items: [
      { value: 'hot', label: L('Hot', '热') },
      { value: 'vip', label: L('VIP', '贵宾') },
    ],
  },
  {
    kind: 'dictionary',
    name: 'region',
    label: L('Region', '区域'),
    items: [
      { value: 'east', label: L('East', '华东') },
      { value: 'north', label: L('North', '华北') },
    ],
  },
  {
    kind: 'entity',
    name: 'account',
    label: L('Account', '客户'),
    fields: [
      { name: 'name', type: 'text', label: L('Name', '名称'), required: true, unique: true, searchable: true, maxLength: 100 },
      { name: 'region', type: 'picklist', dictionary: 'region', label: L('Region', '区域'), required: true },
      { name: 'archive_no', type: 'autonumber', pattern: '{region:upper}-{seq:4}', label: L('Archive no.', '档案编号') },
      { name: 'email', type: 'email', label: L('E-mail', '邮箱') },
      { name: 'website', type: 'url', label: L('Website', '网址') },
      { name: 'phone', type: 'phone', label: L('Phone', '电话') },
    ],
    rules: [
      {
        name: 'no_test_names',
        field: 'name',
        assert: { '!=': [{ var: 'name' }, 'Reject Me'] },
        message: L('Not a real name', '名称无效'),
      },
    ],
  },
  {
    kind: 'entity',
    name: 'deal',
    label: L('Deal', '商机'),
    titleField: 'title',
    fields: [
      { name: 'title', type: 'text', label: L('Title', '标题'), required: true, searchable: true, maxLength: 200 },
      { name: 'account', type: 'reference', to: 'account', onDelete: 'restrict', label: L('Account', '客户') },
      { name: 'stage', type: 'picklist', dictionary: 'stage', label: L('Stage', '阶段'), default: 'new', indexed: true },
      { name: 'tags', type: 'multipicklist', dictionary: 'tag', label: L('Tags', '标签'), indexed: true },
      { name: 'amount', type: 'currency', min: 0, label: L('Amount', '金额'), indexed: true },
      { name: 'probability', type: 'percent', label: L('Probability', '可能性') },
      {
        name: 'weighted',
        type: 'formula',
        returns: 'currency',
        label: L('Weighted', '加权金额'),
        expr: { '*': [{ var: 'amount' }, { '/': [{ var: 'probability' }, 100] }] },
      },
      { name: 'big', type: 'formula', returns: 'boolean', label: L('Big', '大单'), expr: { '>': [{ var: 'weighted' }, 10000] } },
      { name: 'quantity', type: 'integer', min: 1, max: 1000, label: L('Quantity', '数量') },
      { name: 'close_date', type: 'date', label: L('Close date', '预计成交日期') },
      { name: 'closed_at', type: 'datetime', label: L('Closed at', '成交时间') },
      { name: 'hot', type: 'boolean', label: L('Hot', '热门'), default: false },
      { name: 'extra', type: 'json', label: L('Extra', '扩展') },
      { name: 'code', type: 'text', pattern: '^[A-Z]{2}-\\d+$', label: L('Code', '编号') },
    ],
    rules: [
      {
        name: 'won_needs_close_date',
        field: 'close_date',
        when: { '==': [{ var: 'stage' }, 'won'] },
        assert: { '!!': [{ var: 'close_date' }] },
        message: { en: 'A won deal needs a close date', 'zh-CN': '赢单必须填写成交日期' },
      },
    ],
  },
  {
    kind: 'entity',
    name: 'note',
    label: L('Note', '备注'),
    fields: [
      { name: 'body', type: 'textarea', label: L('Body', '内容'), required: true },
      { name: 'deal', type: 'reference', to: 'deal', onDelete: 'cascade', label: L('Deal', '商机') },
      { name: 'account', type: 'reference', to: 'account', onDelete: 'set_null', label: L('Account', '客户') },
    ],
  },
];
