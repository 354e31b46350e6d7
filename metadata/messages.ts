/**
 * Deploy errors in Chinese. The checks (meta-schemas, kinds' cross-checks, the planner, PostgreSQL) write
 * their details in English with the names at fault in quotes; for a Chinese caller each detail is said
 * again by its code, keeping those quoted names (identifiers read the same in both languages).
 */
import { AppError, type ErrorDetail } from '../engine/errors.js';
import type { Lang } from '../engine/model/language.js';

const TOP: Record<string, string> = {
  invalid_request: '部署请求格式不正确',
  invalid_metadata: '元数据有误，未部署任何内容',
  destructive_change: '此次部署会丢失数据；确认无误后请带上 allowDestructive: true 再次部署',
  deploy_failed: '数据库结构变更失败，未部署任何内容',
  table_busy: '数据表被其他事务长时间占用，未部署任何内容，请稍后重试',
};

const DETAIL: Record<string, string> = {
  // meta-schema (ajv keywords)
  required: '缺少必填属性',
  additionalProperties: '未知属性',
  type: '类型不正确',
  enum: '不是允许的值',
  const: '不是允许的值',
  pattern: '格式不正确（标识符须为小写字母开头，仅含小写字母、数字和下划线）',
  maxLength: '过长',
  minLength: '过短',
  maxItems: '项目过多',
  minItems: '项目过少',
  minimum: '过小',
  maximum: '过大',
  uniqueItems: '含有重复项',
  format: '格式不正确',
  // cross-checks
  unknown_entity: '实体不存在',
  unknown_field: '字段不存在',
  unknown_state: '状态不存在',
  unknown_event: '事件不存在',
  unknown_role: '角色不存在',
  unknown_dictionary: '字典不存在',
  unknown_action: '动作类型不存在',
  unknown_kind: '未知的文档类型',
  invalid_pattern: '模式无效',
  invalid_status_field: '状态字段无效',
  invalid_option: '选项无效',
  invalid_time_zone: '时区无效',
  invalid_cron: 'cron 表达式无效',
  invalid_action: '此处不能使用该动作',
  invalid_timer_field: '计时字段无效',
  invalid_state_field: '状态字段无效',
  invalid_reference_field: '关联字段无效',
  invalid_grant: '授权无效',
  invalid_default: '默认值无效',
  invalid_approver_field: '审批人字段必须是关联到用户的字段',
  circular_formula: '公式循环引用',
  unreachable_state: '状态不可达',
  dead_end: '状态无法结束（没有出口）',
  final_with_transitions: '终止状态不能有转换',
  reserved_name: '名称为系统保留',
  not_deployed: '未部署',
  engine_field_required: '系统依赖此字段，不能删除',
  duplicate_value: '值重复',
  duplicate_step: '步骤重复',
  duplicate_rule: '规则重复',
  duplicate_field: '字段重复',
  duplicate_document: '文档重复',
  duplicate_approval: '该实体已有审批流程',
  // planner steps (destructive changes, failed statements)
  drop_column: '将删除列及其数据',
  drop_table: '将删除表及其数据',
  alter_column_type: '将改变列类型，可能丢失数据',
};

const quoted = (message: string) => [...new Set(message.match(/"[^"]+"/g) ?? [])];

function detailZh(d: ErrorDetail): string {
  const base = DETAIL[d.code ?? ''] ?? '有误';
  const names = quoted(d.message);
  return names.length ? `${base}：${names.join('、')}` : base;
}

/** The error in the caller's language (English errors pass as they are). */
export function localizeDeployError(error: unknown, lang: Lang): unknown {
  if (lang !== 'zh-CN' || !(error instanceof AppError)) return error;
  const top = TOP[error.code] ?? '部署失败，未部署任何内容';
  const count = error.details.length;
  return new AppError(
    error.status,
    error.code,
    error.code === 'invalid_metadata' ? `${top}（${count} 个问题）` : top,
    error.details.map((d) => ({ ...d, message: detailZh(d) })),
    error.headers,
  );
}
