/**
 * The widget registry: one entry per widget name of the form model's uiSchema ("picklist", "currency",
 * "reference", …). Each entry renders a value read-only (list cells, kanban cards, read-only fields) and
 * may give the @rjsf widget that edits it. Built-in widgets and plugin widgets register the same way:
 * a plugin folder with a `ui.tsx` (plugins/<name>/ui.tsx) registers its widgets when the UI loads.
 */
import type { ComponentType, ReactNode } from 'react';
import type { WidgetProps } from '@rjsf/utils';
import type { Lang } from '../i18n';
import type { FieldInfo } from '../meta';

export interface CellContext {
  lang: Lang;
  field: FieldInfo;
  options: Record<string, any>;
  /** The record the value belongs to (references: the expanded record sits in the value). */
  record?: Record<string, any>;
}
export interface WidgetDefinition {
  /** Shows a value read-only. */
  cell?: (value: any, ctx: CellContext) => ReactNode;
  /** Edits a value in an @rjsf form. */
  form?: ComponentType<WidgetProps>;
}

const widgets = new Map<string, WidgetDefinition>();

export function registerWidget(name: string, definition: WidgetDefinition) {
  widgets.set(name, { ...widgets.get(name), ...definition });
}
export const widget = (name: string | undefined): WidgetDefinition | undefined => (name ? widgets.get(name) : undefined);
export const formWidgets = (): Record<string, ComponentType<WidgetProps>> =>
  Object.fromEntries([...widgets].filter(([, w]) => w.form).map(([n, w]) => [n, w.form!]));
