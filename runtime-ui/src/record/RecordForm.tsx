/**
 * A record's form: @rjsf with the antd theme on the form model's JSON Schema (the one the server
 * validates with), laid out by the view's record layout (sections, tabs, columns), with a widget per
 * field from the widget registry. Validation before sending: the schema through ajv with messages in the
 * user's language, then the entity's json-logic rules and the layout's required-when conditions.
 * Errors the server still returns come in as `serverErrors` (JSON-pointer paths) and show at their field.
 */
import { memo, useMemo } from 'react';
import { Card, Col, Row, Tabs } from 'antd';
import Form from '@rjsf/antd';
import type { ErrorSchema, ObjectFieldTemplateProps, RJSFValidationError, UiSchema } from '@rjsf/utils';
import { customizeValidator } from '@rjsf/validator-ajv8';
import localizeZh from 'ajv-i18n/localize/zh';
import type { ErrorDetail } from '../api';
import type { Lang } from '../i18n';
import type { FieldInfo, FormModel } from '../meta';
import type { RecordLayout } from '../views';
import { formWidgets } from '../widgets/registry';
import '../widgets/form-widgets';
import { evaluate, ruleViolations, truthy } from './rules';
import { ChildArrayTemplate, ChildItemTemplate, ChildRowTemplate } from './ChildGrid';

/** Validators with ajv's messages in each language (also for transition input dialogs). */
export const validators = {
  en: customizeValidator({ ajvOptionsOverrides: { allErrors: true } }),
  'zh-CN': customizeValidator({ ajvOptionsOverrides: { allErrors: true } }, localizeZh as any),
};

interface LayoutContext {
  layout: RecordLayout;
  formData: Record<string, unknown>;
  fields: Map<string, FieldInfo>;
}

/** Places the properties rjsf rendered into the layout's sections and tabs, in a grid of its columns. */
function LayoutTemplate(props: ObjectFieldTemplateProps) {
  const { layout, formData } = props.registry.formContext as LayoutContext;
  // A row of a child collection (a quote line): its fields side by side, compact.
  if (!isRoot(props)) return <ChildRowTemplate {...props} />;
  const byName = new Map(props.properties.map((p) => [p.name, p]));
  const visible = (name: string) => {
    const cond = layout.visibleWhen?.[name];
    return cond === undefined || truthy(evaluate(cond, formData));
  };
  const placed = new Set(layout.sections.flatMap((s) => s.fields));
  const sections = layout.sections.map((s, i) => ({ ...s, key: String(i) }));
  // Child collections the layout does not place get a full-width section each, after the others.
  for (const c of (props.registry.formContext as { children?: { name: string; label: string }[] }).children ?? [])
    if (!placed.has(c.name) && byName.has(c.name))
      sections.push({ key: `children-${c.name}`, fields: [c.name], columns: 1, label: c.label, tab: undefined } as never);
  // A layout may leave fields out (the rep's compact card); required ones still show, or the form could not be saved.
  const required = new Set((props.schema.required ?? []) as string[]);
  const rest = props.properties.filter((p) => !placed.has(p.name) && !p.hidden && required.has(p.name)).map((p) => p.name);
  if (rest.length) sections.push({ key: 'rest', fields: rest, columns: 2, label: undefined, tab: sections[sections.length - 1]?.tab });
  const renderSection = (s: (typeof sections)[number]) => {
    const items = s.fields.filter((n) => byName.has(n) && !layout.hidden?.includes(n) && visible(n));
    if (!items.length) return null;
    const span = 24 / Math.max(1, Math.min(4, s.columns ?? 2));
    const grid = (
      <Row gutter={16}>
        {items.map((n) => {
          const wide = ['textarea', 'json', 'multipicklist', 'users'].includes(props.registry.formContext.fields.get(n)?.type);
          return (
            <Col key={n} xs={24} md={wide ? 24 : span}>
              {byName.get(n)!.content}
            </Col>
          );
        })}
      </Row>
    );
    return s.label ? (
      <Card key={s.key} size="small" title={s.label} className="mc-section">{grid}</Card>
    ) : (
      <div key={s.key} className="mc-section">{grid}</div>
    );
  };
  const tabs = [...new Set(sections.map((s) => s.tab).filter(Boolean))] as string[];
  if (!tabs.length) return <>{sections.map(renderSection)}</>;
  return (
    <>
      {sections.filter((s) => !s.tab).map(renderSection)}
      <Tabs items={tabs.map((tab) => ({ key: tab, label: tab, children: sections.filter((s) => s.tab === tab).map(renderSection) }))} />
    </>
  );
}

const isRoot = (props: ObjectFieldTemplateProps) => {
  const id = props.fieldPathId?.$id;
  return id === undefined || id === 'root';
};

/** The schema the form shows: what may be written, plus what may only be read (shown read-only). */
export function displaySchema(model: FormModel, mode: 'create' | 'update', layout: RecordLayout) {
  const write = mode === 'create' ? model.create : model.update;
  const properties: Record<string, any> = {};
  for (const f of model.fields) {
    if (f.system) continue;
    if (write.properties?.[f.name]) properties[f.name] = write.properties[f.name];
    else if (mode === 'update' && model.read.properties?.[f.name]) properties[f.name] = { ...model.read.properties[f.name], readOnly: true };
  }
  for (const c of model.children ?? []) {
    if (write.properties?.[c.name]) properties[c.name] = write.properties[c.name];
    else if (model.read.properties?.[c.name]) properties[c.name] = { ...model.read.properties[c.name], readOnly: true };
  }
  for (const name of layout.readOnly ?? []) if (properties[name]) properties[name] = { ...properties[name], readOnly: true };
  const required = ((model.create.required ?? []) as string[]).filter((n) => properties[n] && !properties[n].readOnly);
  // The draft is ajv's concern on the server; rjsf's validator is set up for draft-07 keywords, which these use.
  const { $schema: _draft, $id: _id, ...rest } = write;
  return { ...rest, type: 'object', properties, required, additionalProperties: true };
}

export function uiSchemaOf(model: FormModel, lang: Lang): UiSchema {
  const ui: UiSchema = { 'ui:submitButtonOptions': { norender: true } };
  for (const [name, entry] of Object.entries(model.uiSchema)) {
    if (name.startsWith('ui:')) continue;
    // The schema's description is already shown as the field's help: ui:help would repeat it.
    const { 'ui:help': help, ...rest } = entry as Record<string, unknown>;
    // A value of any type (a json field's schema names none): rjsf picks a field by the schema's type and
    // would render "unsupported field"; its StringField renders whatever widget the uiSchema names.
    const schema = model.create.properties?.[name] ?? model.read.properties?.[name];
    if (schema && schema.type === undefined && !schema.enum && rest['ui:widget']) rest['ui:field'] = 'StringField';
    ui[name] = model.read.properties?.[name]?.description || model.create.properties?.[name]?.description ? rest : { ...rest, ...(help ? { 'ui:help': help } : {}) };
  }
  void lang;
  return ui;
}

/** The server's errors (JSON pointers) as rjsf's error schema, so each shows at its field. */
export function errorSchemaOf(details: ErrorDetail[]): ErrorSchema {
  const out: any = {};
  for (const d of details) {
    const parts = (d.path ?? '').split('/').filter(Boolean);
    let node = out;
    for (const p of parts) node = node[p] ??= {};
    (node.__errors ??= []).push(d.message);
  }
  return out;
}

export interface RecordFormProps {
  model: FormModel;
  layout: RecordLayout;
  mode: 'create' | 'update';
  lang: Lang;
  formData: Record<string, unknown>;
  context: Record<string, unknown>;
  serverErrors?: ErrorSchema;
  onChange(data: Record<string, unknown>): void;
  onSubmit(data: Record<string, unknown>): void;
  formRef?: React.Ref<any>;
}

export const RecordForm = memo(function RecordForm(props: RecordFormProps) {
  const { model, layout, mode, lang, formData } = props;
  // Fields the layout's requiredWhen makes required for the record as it now stands: required in the
  // schema too, so that their labels carry the mark and an absent value is refused like any required one.
  const requiredNow = Object.entries(layout.requiredWhen ?? {})
    .filter(([, cond]) => truthy(evaluate(cond, { ...props.context, ...formData })))
    .map(([name]) => name)
    .join(',');
  const schema = useMemo(() => {
    const base = displaySchema(model, mode, layout);
    if (!requiredNow) return base;
    return { ...base, required: [...new Set([...((base.required ?? []) as string[]), ...requiredNow.split(',')])] };
  }, [model, mode, layout, requiredNow]);
  const uiSchema = useMemo(() => uiSchemaOf(model, lang), [model, lang]);
  const widgets = useMemo(() => formWidgets(), []);
  const fields = useMemo(() => new Map(model.fields.map((f) => [f.name, f])), [model]);
  const labelOf = (name: string) => fields.get(name)?.label ?? name;

  // Messages as the server words them (engine/data/validation.ts), with the field's label.
  const transformErrors = (errors: RJSFValidationError[]) =>
    errors.map((e) => {
      if (e.name === 'required') {
        const name = String(e.params?.missingProperty ?? '');
        return { ...e, message: lang === 'zh-CN' ? `必须填写 "${labelOf(name)}"` : `"${labelOf(name)}" is required`, stack: labelOf(name) };
      }
      return e;
    });
  const customValidate = (data: any, errors: any) => {
    const full = { ...props.context, ...data };
    for (const v of ruleViolations(model.rules ?? [], full)) (v.field && errors[v.field] ? errors[v.field] : errors).addError(v.message);
    for (const [name, cond] of Object.entries(layout.requiredWhen ?? {}))
      // An absent value is refused by the schema (above); an empty one here.
      if (truthy(evaluate(cond, full)) && (data[name] === null || data[name] === '') && errors[name])
        errors[name].addError(lang === 'zh-CN' ? `必须填写 "${labelOf(name)}"` : `"${labelOf(name)}" is required`);
    return errors;
  };

  return (
    <Form
      ref={props.formRef}
      className="mc-form"
      schema={schema}
      uiSchema={uiSchema}
      formData={formData}
      validator={validators[lang] as any}
      widgets={widgets}
      templates={{ ObjectFieldTemplate: LayoutTemplate, ArrayFieldTemplate: ChildArrayTemplate, ArrayFieldItemTemplate: ChildItemTemplate }}
      formContext={{ layout, formData, fields, lang, children: model.children ?? [], readonlyAsDisabled: false } satisfies LayoutContext & Record<string, unknown>}
      customValidate={customValidate}
      transformErrors={transformErrors}
      extraErrors={props.serverErrors}
      // Picklists are oneOf lists of consts: without this rjsf takes the first value as a default (and locks it).
      experimental_defaultFormStateBehavior={{ constAsDefaults: 'never', emptyObjectFields: 'skipDefaults' }}
      showErrorList={false}
      noHtml5Validate
      focusOnFirstError
      onChange={(e) => props.onChange(e.formData)}
      onError={() => undefined /* shown at the fields; without a handler rjsf logs them as console errors */}
      onSubmit={(e) => props.onSubmit(e.formData)}
    />
  );
});
