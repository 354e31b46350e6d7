/**
 * TEMPORARY: the form model built in the browser from the deployed documents, used only while the server
 * has no GET /api/meta/forms/:entity (being built in engine/forms; see brief FORMS-CONTRACT). Delete
 * once it has landed: the server's module is the one home of these schemas.
 */
import { get } from './api';
import type { FieldInfo, FormModel, Me } from './meta';
import { pick } from './meta';

const WIDGETS: Record<string, string> = {
  textarea: 'textarea', picklist: 'picklist', multipicklist: 'multipicklist', reference: 'reference', date: 'date',
  datetime: 'datetime', boolean: 'switch', integer: 'integer', decimal: 'decimal', number: 'decimal', currency: 'currency',
  percent: 'percent', email: 'email', phone: 'phone', url: 'url', json: 'json', formula: 'readonly', autonumber: 'readonly', rating: 'rating',
};

export async function fallbackForm(entityName: string, lang: string): Promise<FormModel> {
  const [entity, dicts, me] = await Promise.all([
    get<any>(`/api/meta/documents/entity/${entityName}`),
    get<{ data: any[] }>('/api/meta/documents?kind=dictionary').then((r) => new Map(r.data.map((d) => [d.name, d]))),
    get<Me>('/api/auth/me'),
  ]);
  const wf = await get<{ data: any[] }>('/api/meta/documents?kind=workflow').then((r) => r.data.find((w) => w.entity === entityName));
  const ap = await get<{ data: any[] }>('/api/meta/documents?kind=approval').then((r) => r.data.find((w) => w.entity === entityName));
  const access = me.permissions[entityName];
  const readable = access?.readableFields ? new Set(access.readableFields) : null;
  const writable = access?.writableFields ? new Set(access.writableFields) : null;
  const fields: FieldInfo[] = [];
  const props: Record<string, any> = {};
  const uiSchema: Record<string, any> = { 'ui:order': [] };
  const required: string[] = [];
  for (const f of entity.fields) {
    if (readable && !readable.has(f.name)) continue;
    const computed = f.type === 'formula' || f.type === 'autonumber';
    const dict = f.dictionary ? dicts.get(f.dictionary) : undefined;
    const options = dict?.items.map((i: any) => ({ value: i.value, label: pick(i.label, lang), color: i.color }));
    const info: FieldInfo = {
      name: f.name, type: f.type, label: pick(f.label, lang, f.name), required: Boolean(f.required), readable: true,
      writable: !computed && (!writable || writable.has(f.name)), sortable: f.type !== 'multipicklist' && f.type !== 'json',
      filterable: true, dictionary: f.dictionary ?? null, to: f.to ?? null, options,
    };
    fields.push(info);
    let s: any = { title: info.label };
    if (f.help) s.description = pick(f.help, lang);
    switch (f.type) {
      case 'picklist': s = { ...s, type: 'string', oneOf: options!.map((o: any) => ({ const: o.value, title: o.label })) }; break;
      case 'multipicklist': s = { ...s, type: 'array', uniqueItems: true, items: { type: 'string', oneOf: options!.map((o: any) => ({ const: o.value, title: o.label })) } }; break;
      case 'integer': case 'rating': s = { ...s, type: 'integer' }; break;
      case 'decimal': case 'currency': case 'percent': case 'number': s = { ...s, type: 'number' }; break;
      case 'boolean': s = { ...s, type: 'boolean' }; break;
      case 'date': s = { ...s, type: 'string', format: 'date' }; break;
      case 'datetime': s = { ...s, type: 'string', format: 'date-time' }; break;
      case 'email': s = { ...s, type: 'string', format: 'email' }; break;
      case 'reference': s = { ...s, type: 'string', format: 'uuid' }; break;
      case 'json': s = { ...s }; break;
      default: s = { ...s, type: 'string' };
    }
    if (f.maxLength) s.maxLength = f.maxLength;
    if (f.min !== undefined) s.minimum = f.min;
    if (f.max !== undefined) s.maximum = f.max;
    if (computed) s.readOnly = true;
    if (f.default !== undefined) s.default = f.default;
    props[f.name] = s;
    if (f.required && !computed) required.push(f.name);
    uiSchema['ui:order'].push(f.name);
    uiSchema[f.name] = {
      ...(WIDGETS[f.type] ? { 'ui:widget': WIDGETS[f.type] } : {}),
      ...(f.type === 'reference' ? { 'ui:options': { entity: f.to } } : {}),
      ...(f.type === 'currency' ? { 'ui:options': { currency: f.currencyCode ?? 'CNY' } } : {}),
      ...(f.type === 'rating' ? { 'ui:options': { max: f.max ?? 5 } } : {}),
      ...(!info.writable ? { 'ui:readonly': true } : {}),
    };
  }
  const writableProps = Object.fromEntries(Object.entries(props).filter(([n, s]) => !s.readOnly && fields.find((f) => f.name === n)?.writable));
  return {
    entity: { name: entityName, label: pick(entity.label, lang), pluralLabel: pick(entity.pluralLabel, lang), titleField: entity.titleField ?? null, workflow: wf?.name ?? null, approval: ap?.name ?? null },
    create: { type: 'object', properties: writableProps, required: required.filter((r) => writableProps[r]) },
    update: { type: 'object', properties: writableProps },
    read: { type: 'object', properties: props },
    uiSchema,
    fields,
    rules: (entity.rules ?? []).map((r: any) => ({ ...r, message: pick(r.message, lang) })),
  };
}
