/**
 * The UI's own words (buttons, headings) in zh-CN and en, and the current language. Labels of entities,
 * fields and picklist values are not here: they come from the metadata, already in the language asked.
 * The logged-in user's choice is stored on the server (their `language`, PATCH /api/auth/me), so it follows
 * them to any browser; before login the last choice made in this browser applies, else the browser's own.
 * The current language is sent as Accept-Language with every request.
 */
import { createContext, useContext } from 'react';
import type { Lang } from './lang';

export type { Lang };

const zh = {
  appName: 'metacrm',
  login: '登录', logout: '退出登录', username: '用户名', password: '密码', signIn: '登录',
  loginTitle: '登录到 metacrm', wrongPassword: '用户名或密码错误', lockedUntil: '账户已锁定，解锁时间：{time}',
  sessionExpired: '登录已过期，请重新登录', home: '首页', inbox: '审批待办', settings: '个人设置', recycleBin: '回收站',
  notifications: '通知', noNotifications: '暂无通知', markRead: '标为已读', language: '语言',
  new: '新建', search: '搜索…', filter: '筛选', columns: '列', export: '导出', delete: '删除', assign: '分配',
  restore: '恢复', total: '共 {n} 条', loadMore: '加载更多', selected: '已选 {n} 项', save: '保存', cancel: '取消',
  edit: '编辑', reload: '重新加载', overwrite: '覆盖保存', conflictTitle: '记录已被他人修改',
  conflictText: '在你编辑期间，此记录已被修改。以下字段已变化：', unsaved: '有未保存的修改，确定离开吗？',
  history: '历史', related: '相关记录', details: '详情', revert: '恢复到此版本', share: '共享', shares: '共享',
  owner: '负责人', transitions: '流程操作', timeInStage: '已停留 {d}', stayedIn: '在「{s}」停留 {d}', approval: '审批', submitApproval: '提交审批',
  recall: '撤回', approve: '同意', reject: '驳回', delegate: '转交', comment: '意见', myApprovals: '我的审批待办',
  myTasks: '我的待办任务', unread: '未读通知', recent: '最近浏览', empty: '暂无数据', kanban: '看板', list: '列表',
  addCondition: '添加条件', clear: '清除', apply: '应用', field: '字段', operator: '运算符', value: '值',
  changePassword: '修改密码', currentPassword: '当前密码', newPassword: '新密码', apiTokens: 'API 令牌',
  tokenName: '令牌名称', create: '创建', revoke: '吊销', tokenShownOnce: '令牌只显示这一次，请立即复制：',
  saved: '已保存', created: '已创建', deleted: '已删除', restored: '已恢复', confirmDelete: '确定删除所选记录？', deletedPartly: '已删除 {done} 条，{n} 条未能删除',
  user: '用户', department: '部门', read: '只读', write: '可编辑', permission: '权限', status: '状态', steps: '步骤',
  submittedBy: '提交人', decidedBy: '处理人', record: '记录', open: '打开', createdAt: '创建时间', noAccess: '无权访问',
  notFound: '页面不存在', back: '返回', sum: '合计', moveRefused: '无法移动：{reason}', moved: '已移动',
  systemFields: '系统信息', version: '版本', changedBy: '修改人', action: '操作', fieldsChanged: '修改字段',
  lastDays: '最近 {n} 天', thisMonth: '本月', thisYear: '今年', today: '今天', isEmpty: '为空', isNotEmpty: '不为空',
  includesMe: '包含我', calendar: '日历', calMine: '我的', calTeam: '团队', calDay: '日', calWeek: '周', calMonth: '月',
  calList: '列表', calToday: '今天', rescheduled: '已改期', calConflict: '该记录已被他人修改，已重新加载',
  contains: '包含', equals: '等于', notEquals: '不等于', oneOf: '属于', between: '介于', gte: '大于等于', lte: '小于等于',
  yes: '是', no: '否', requiredBy: '需要角色：{roles}', noPermission: '无权限', pending: '审批中', approved: '已通过',
  rejected: '已驳回', recalled: '已撤回', none: '未提交', apps: '应用', close: '关闭', more: '更多', period: '时间范围', viewAs: '视图', createdBy: '创建人', noTransition: '流程不允许从「{from}」直接到「{to}」', updatedAt: '更新时间', updatedBy: '修改人',
  dashboards: '仪表盘', versus: '较{label}', noTargets: '本期暂无指标', subject: '对象', targetValue: '指标', actual: '实际',
  attainment: '完成率', pacing: '进度达成', widgetError: '无法显示：{reason}', drillFilter: '报表钻取筛选', subtotal: '小计',
  views: '列表视图', myViews: '我的视图', sharedViews: '共享给我的', saveViewAs: '另存为视图', viewName: '视图名称', shareWith: '共享范围',
  onlyMe: '仅自己', myRoles: '我的角色', everyone: '所有人', deleteView: '删除视图「{name}」？', selectAll: '全选', addLine: '添加明细', timeZone: '时区', timeZoneNow: '日期时间按此时区显示，现在是 {time}', listFilter: '已按列表筛选',
};
const en: typeof zh = {
  appName: 'metacrm',
  login: 'Log in', logout: 'Log out', username: 'Username', password: 'Password', signIn: 'Log in',
  loginTitle: 'Log in to metacrm', wrongPassword: 'Wrong username or password', lockedUntil: 'The account is locked until {time}',
  sessionExpired: 'Your session expired; please log in again', home: 'Home', inbox: 'Approvals', settings: 'Settings',
  recycleBin: 'Recycle bin', notifications: 'Notifications', noNotifications: 'No notifications', markRead: 'Mark read',
  language: 'Language', new: 'New', search: 'Search…', filter: 'Filter', columns: 'Columns', export: 'Export',
  delete: 'Delete', assign: 'Assign', restore: 'Restore', total: '{n} records', loadMore: 'Load more',
  selected: '{n} selected', save: 'Save', cancel: 'Cancel', edit: 'Edit', reload: 'Reload', overwrite: 'Overwrite',
  conflictTitle: 'Someone else changed this record', conflictText: 'While you were editing, these fields were changed:',
  unsaved: 'You have unsaved changes. Leave anyway?', history: 'History', related: 'Related', details: 'Details',
  revert: 'Revert to this version', share: 'Share', shares: 'Shares', owner: 'Owner', transitions: 'Actions',
  timeInStage: 'In stage for {d}', stayedIn: '{d} in {s}', approval: 'Approval', submitApproval: 'Submit for approval', recall: 'Recall',
  approve: 'Approve', reject: 'Reject', delegate: 'Delegate', comment: 'Comment', myApprovals: 'My approval tasks',
  myTasks: 'My open tasks', unread: 'Unread notifications', recent: 'Recently viewed', empty: 'Nothing here',
  kanban: 'Kanban', list: 'List', addCondition: 'Add condition', clear: 'Clear', apply: 'Apply', field: 'Field',
  operator: 'Operator', value: 'Value', changePassword: 'Change password', currentPassword: 'Current password',
  newPassword: 'New password', apiTokens: 'API tokens', tokenName: 'Token name', create: 'Create', revoke: 'Revoke',
  tokenShownOnce: 'The token is shown only this once; copy it now:', saved: 'Saved', created: 'Created',
  deleted: 'Deleted', restored: 'Restored', confirmDelete: 'Delete the selected records?', deletedPartly: '{done} deleted, {n} could not be deleted', user: 'User',
  department: 'Department', read: 'Read', write: 'Edit', permission: 'Permission', status: 'Status', steps: 'Steps',
  submittedBy: 'Submitted by', decidedBy: 'Decided by', record: 'Record', open: 'Open', createdAt: 'Created',
  noAccess: 'No access', notFound: 'Page not found', back: 'Back', sum: 'Sum', moveRefused: 'Cannot move: {reason}',
  moved: 'Moved', systemFields: 'System', version: 'Version', changedBy: 'Changed by', action: 'Action',
  fieldsChanged: 'Fields changed', lastDays: 'Last {n} days', thisMonth: 'This month', thisYear: 'This year',
  includesMe: 'includes me', calendar: 'Calendar', calMine: 'Mine', calTeam: 'My team', calDay: 'Day', calWeek: 'Week',
  calMonth: 'Month', calList: 'List', calToday: 'Today', rescheduled: 'Rescheduled',
  calConflict: 'Someone else changed this record; it was reloaded',
  today: 'Today', isEmpty: 'is empty', isNotEmpty: 'is not empty', contains: 'contains', equals: 'equals',
  notEquals: 'not equal', oneOf: 'is one of', between: 'between', gte: '≥', lte: '≤', yes: 'Yes', no: 'No',
  requiredBy: 'Needs role: {roles}', noPermission: 'No permission', pending: 'Pending', approved: 'Approved',
  rejected: 'Rejected', recalled: 'Recalled', none: 'Not submitted', apps: 'Apps', close: 'Close', more: 'More', period: 'in period', viewAs: 'View', createdBy: 'Created by', noTransition: 'the process has no step from “{from}” to “{to}”', updatedAt: 'Updated', updatedBy: 'Updated by',
  dashboards: 'Dashboards', versus: 'vs {label}', noTargets: 'No targets for this period', subject: 'Who', targetValue: 'Target',
  actual: 'Actual', attainment: 'Attainment', pacing: 'Pacing', widgetError: 'Cannot show: {reason}', drillFilter: 'Filtered from a report',
  subtotal: 'Subtotal', views: 'List views', myViews: 'My views', sharedViews: 'Shared with me', saveViewAs: 'Save view as…',
  viewName: 'View name', shareWith: 'Share with', onlyMe: 'Only me', myRoles: 'My roles', everyone: 'Everyone',
  deleteView: 'Delete the view “{name}”?', selectAll: 'Select all', addLine: 'Add line', timeZone: 'Time zone', timeZoneNow: 'Date-times are shown in this zone; it is now {time}', listFilter: 'Filtered like the list',
};

export type MessageKey = keyof typeof zh;
const messages: Record<Lang, typeof zh> = { 'zh-CN': zh, en };
/** English singulars, used when the `n` parameter is 1 (Chinese has no plural forms). */
const enOne: Partial<Record<MessageKey, string>> = { total: '{n} record' };

export function translate(lang: Lang, key: MessageKey, params: Record<string, string | number> = {}): string {
  const text = (lang === 'en' && params.n === 1 && enOne[key]) || messages[lang][key];
  return text.replace(/\{(\w+)\}/g, (_, p) => String(params[p] ?? ''));
}

export interface LangState {
  lang: Lang;
  /** Switches the language; once a user is logged in, also saves it as theirs on the server. */
  setLang(lang: Lang): void;
  /** The logged-in user (or none) and the language saved on the server for them, which then applies. */
  adoptUser(id: string | undefined, saved?: Lang | null): void;
  /** The user adopted last (undefined before login). */
  userId?: string;
  t(key: MessageKey, params?: Record<string, string | number>): string;
}
export const LangContext = createContext<LangState>({ lang: 'zh-CN', setLang() {}, adoptUser() {}, t: (k, p) => translate('zh-CN', k, p) });
export const useLang = () => useContext(LangContext);

/** The language before login: the last one used in this browser, else the browser's. */
export function storedLang(): Lang {
  const saved = localStorage.getItem('mc.lang');
  if (saved === 'en' || saved === 'zh-CN') return saved;
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}
export function storeLang(lang: Lang) {
  localStorage.setItem('mc.lang', lang);
}
/** The user entity's `language` values are dictionary identifiers: zh_cn stands for zh-CN. */
export const serverLanguage = (lang: Lang) => (lang === 'zh-CN' ? 'zh_cn' : 'en');
