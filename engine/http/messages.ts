/**
 * The last word in the caller's language. Most errors are written in both languages where they are
 * thrown (t(lang, en, zh)); the request-format errors of the edge — bad JSON, an unknown query
 * parameter, a missing version, a route that does not exist — are thrown where no language is known
 * or the message is about the request's syntax. For a Chinese caller such an English message is said
 * again by its code here, so nobody reading Chinese meets an English sentence. Messages that already
 * hold Chinese text are left as they are; details keep their paths, so the field at fault is still named.
 */
import { AppError, type ErrorDetail } from '../errors.js';
import type { Lang } from '../model/language.js';

const ZH: Record<string, string> = {
  invalid_json: '请求体不是有效的 JSON',
  invalid_body: '请求体格式不正确',
  invalid_request: '请求内容不正确，请检查标出的字段',
  invalid_parameter: '查询参数不正确',
  invalid_parameters: '查询参数不正确',
  unknown_parameter: '未知的查询参数',
  invalid_version: '版本号必须是正整数',
  version_required: '请提供读取时的版本号（If-Match 请求头或请求体中的 version）',
  invalid_cursor: '分页游标无效，请从第一页重新查询',
  record_not_found: '记录不存在，或您无权查看',
  task_not_found: '审批任务不存在，或您无权查看',
  document_not_found: '元数据文档不存在',
  version_not_found: '该版本不存在',
  token_not_found: '令牌不存在',
  share_not_found: '共享记录不存在',
  delegation_not_found: '委托不存在',
  notification_not_found: '通知不存在',
  report_not_found: '报表不存在',
  dashboard_not_found: '仪表盘不存在',
  target_not_found: '指标不存在',
  job_not_found: '任务不存在',
  unknown_entity: '实体不存在',
  not_found: '接口不存在',
  unauthenticated: '请先登录',
  invalid_token: '登录凭证无效或已过期，请重新登录',
  forbidden: '您没有执行此操作的权限',
  body_too_large: '请求体过大',
  internal_error: '服务器出错了，请稍后重试；问题已记录',
};

const hasChinese = (text: string) => /[\u3400-\u9fff]/.test(text);

/**
 * A detail said again in Chinese: by its own code when known; in a request-format error, an English
 * detail without one becomes "this value is not right" — its path still names the field at fault.
 */
const detailInChinese = (d: ErrorDetail, requestFormat: boolean): ErrorDetail => {
  if (hasChinese(d.message)) return d;
  if (d.code && ZH[d.code]) return { ...d, message: ZH[d.code] };
  return requestFormat ? { ...d, message: '此项不正确' } : d;
};

/** The error as the caller should read it: for zh-CN, English request-format messages said again in Chinese. */
export function inCallersLanguage(err: AppError, lang: Lang): AppError {
  if (lang !== 'zh-CN') return err;
  const top = hasChinese(err.message) ? undefined : ZH[err.code];
  const details = err.details.map((d) => detailInChinese(d, ZH[err.code] !== undefined));
  if (!top && details.every((d, i) => d === err.details[i])) return err;
  return new AppError(err.status, err.code, top ?? err.message, details, err.headers);
}
