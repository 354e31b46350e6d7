/**
 * What every entity page loads first: the form model (fields, schemas, labels in the language), the
 * deployed entity documents (for related lists and reference titles), the view, and the caller's
 * rights on the entity — plus a cell renderer that shows any field's value through the widget registry.
 */
import { createElement, useCallback, useMemo } from 'react';
import { useLang } from './i18n';
import { fieldMap, mayRead, pick, useEntityLabels, useForm, useMe, type FieldInfo, type FormModel } from './meta';
import { useView } from './views';
import { widget } from './widgets/registry';

export function widgetName(model: FormModel, field: FieldInfo): string {
  // System user fields (owner_id, created_by…) hold ids the API does not expand.
  if (field.system && field.to === 'user') return 'user';
  const ui = model.uiSchema[field.name]?.['ui:widget'];
  if (typeof ui === 'string') return ui;
  if (field.type === 'reference') return 'reference';
  if (field.type === 'datetime') return 'datetime';
  if (field.type === 'integer') return 'integer';
  return 'text';
}

export function useEntityPage(entity: string) {
  const { lang } = useLang();
  const me = useMe();
  const form = useForm(entity);
  const entities = useEntityLabels();
  const view = useView(entity);
  const fields = useMemo(() => (form.data ? fieldMap(form.data) : new Map<string, FieldInfo>()), [form.data]);
  const actions = me.data?.permissions[entity]?.actions ?? {};
  const can = useCallback((action: string) => Boolean(actions[action]?.length), [actions]);
  /**
   * Whether the caller may read records of `target`: a reference to an entity they may not read (a
   * receivable's campaign, for finance) is neither expanded — the API refuses the whole list for it —
   * nor looked up; its cell says so instead.
   */
  const readable = useCallback((target: string) => mayRead(me.data, target), [me.data]);

  /** A value as the user reads it: tags, links, ¥, dates… through the widget registry. */
  const cell = useCallback(
    (name: string, value: unknown, record?: Record<string, unknown>) => {
      const field = fields.get(name);
      if (!field || !form.data) return value === null || value === undefined ? null : String(value);
      const options = { ...(form.data.uiSchema[name]?.['ui:options'] ?? {}) };
      if (field.to && !options.entity) options.entity = field.to;
      if (field.to && !field.system && !readable(field.to)) options.unreadable = true;
      if (field.to && !options.titleField) options.titleField = entities.data?.[field.to]?.titleField;
      const def = widget(widgetName(form.data, field)) ?? widget('text');
      return def?.cell ? def.cell(value, { lang, field, options, record }) : createElement('span', null, String(value ?? ''));
    },
    [fields, form.data, entities.data, lang, readable],
  );

  /** The reference fields among `names`, for the list's `expand` (their titles and links in one query each). */
  const expandOf = useCallback(
    (names: string[]) =>
      names
        .filter((n) => {
          const f = fields.get(n);
          return f?.type === 'reference' && !f.system && Boolean(f.to) && readable(f.to!);
        })
        .join(',') || undefined,
    [fields, readable],
  );

  /** The entity's plural label in the language (lists, kanban titles). */
  const pluralLabel = pick(entities.data?.[entity]?.pluralLabel ?? entities.data?.[entity]?.label, lang, form.data?.entity.label ?? entity);

  const error = form.error ?? view.error ?? entities.error;
  const ready = Boolean(form.data && view.data && entities.data && me.data);
  return { me: me.data, model: form.data, fields, view: view.data, entities: entities.data, can, cell, expandOf, pluralLabel, ready, error };
}
