/**
 * Which column of the file fills which field: suggested by comparing each header with the fields'
 * names and labels in both languages (ignoring case, spaces, punctuation and a required-field "*"),
 * and checked before anything is read: a column must name a field the caller may write, once.
 */
import { AppError, badRequest, pointer, type ErrorDetail } from '../errors.js';
import type { CompiledEntity } from '../model/compile.js';
import { t, type Lang } from '../model/language.js';
import type { Guard } from '../access/guard.js';
import { OWNER, type Binding } from './convert.js';

/** header → field name (null or absent: the column is not imported). */
export type Mapping = Record<string, string | null>;

/** What a column may fill: writable stored fields, the owner, and id (to match existing records). */
export function targets(entity: CompiledEntity) {
  return [
    { name: 'id', label: { en: 'ID', 'zh-CN': 'ID' } },
    ...entity.fields.filter((f) => !f.readOnly).map((f) => ({ name: f.name, label: f.doc.label })),
    { name: 'owner_id', label: OWNER },
  ];
}

/** Full-width to half-width, lower case, without spaces, punctuation and the "*" of required columns. */
export const normalize = (s: string) =>
  s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s_\-*:：()（）[\]【】.·/\\]/g, '');

export function suggest(entity: CompiledEntity, header: string[], writable: (field: string) => boolean = () => true): Mapping {
  const byKey = new Map<string, string>();
  for (const target of targets(entity).filter((f) => f.name === 'id' || writable(f.name))) {
    for (const key of [target.name, target.label.en, target.label['zh-CN']]) {
      const k = normalize(key);
      if (k && !byKey.has(k)) byKey.set(k, target.name);
    }
  }
  const used = new Set<string>();
  const mapping: Mapping = {};
  for (const column of header) {
    if (!column || column in mapping) continue;
    const field = byKey.get(normalize(column));
    mapping[column] = field && !used.has(field) ? field : null;
    if (field) used.add(field);
  }
  return mapping;
}

/**
 * The mapping as bindings to column positions, refused with every problem named: an unknown column or
 * field, a field mapped twice, a computed field, a field the caller may not write.
 */
export function bind(entity: CompiledEntity, header: string[], mapping: Mapping, guard: Guard, lang: Lang): Binding[] {
  const errors: ErrorDetail[] = [];
  const allowed = new Set(targets(entity).map((f) => f.name));
  const bindings: Binding[] = [];
  const seen = new Map<string, string>();
  for (const [column, field] of Object.entries(mapping)) {
    if (field === null || field === undefined || field === '') continue;
    const at = pointer('mapping', column);
    const index = header.indexOf(column);
    if (index < 0) {
      errors.push({
        path: at,
        code: 'unknown_column',
        message: t(lang, `The file has no column "${column}"`, `文件中没有“${column}”列`),
      });
      continue;
    }
    if (typeof field !== 'string' || !allowed.has(field)) {
      const computed = entity.field(String(field))?.readOnly;
      errors.push({
        path: at,
        code: computed ? 'computed_field' : 'unknown_field',
        message: computed
          ? t(
              lang,
              `${field} is computed and cannot be imported`,
              `${entity.field(String(field))!.doc.label['zh-CN']}是计算得出的，不能导入`,
            )
          : t(lang, `${entity.name} has no field "${field}"`, `${entity.label['zh-CN']}没有字段“${field}”`),
      });
      continue;
    }
    if (seen.has(field)) {
      errors.push({
        path: at,
        code: 'duplicate_field',
        message: t(lang, `${field} is already filled from "${seen.get(field)}"`, `该字段已由“${seen.get(field)}”列填写`),
      });
      continue;
    }
    seen.set(field, column);
    bindings.push({ index, column, field });
  }
  if (!bindings.length && !errors.length)
    errors.push({
      path: '/mapping',
      code: 'empty_mapping',
      message: t(lang, 'Map at least one column to a field', '请至少为一列选择字段'),
    });
  const writable = bindings.map((b) => b.field).filter((f) => f !== 'id');
  try {
    guard.assertWritable(entity, writable);
  } catch (e) {
    for (const d of (e as { details?: ErrorDetail[] }).details ?? []) {
      const field = d.path.slice(1);
      errors.push({
        path: pointer('mapping', seen.get(field) ?? field),
        code: 'field_not_writable',
        message: t(lang, `You may not write ${field}`, `您无权填写${entity.field(field)?.doc.label['zh-CN'] ?? field}`),
      });
    }
    if (!errors.length) throw e;
  }
  if (errors.length) {
    const forbidden = errors.every((e) => e.code === 'field_not_writable');
    const message = forbidden
      ? t(lang, 'The mapping fills fields you may not write', '映射中有您无权填写的字段')
      : t(lang, 'The column mapping does not fit the file or the entity', '列映射与文件或对象不符');
    if (forbidden) throw new AppError(403, 'field_not_writable', message, errors);
    throw badRequest('invalid_mapping', message, errors);
  }
  return bindings;
}
