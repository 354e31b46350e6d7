/**
 * What the UI knows of the deployed metadata, as TanStack queries: the caller (GET /api/auth/me, with
 * what they may do per entity), the apps, and per entity the form model (GET /api/meta/forms/:entity:
 * JSON Schemas, uiSchema, fields with labels and picklist options, rules — all in the user's language
 * and already cut down to what the caller may read and write) and its view (GET /api/meta/views/:entity).
 */
import { useQuery } from '@tanstack/react-query';
import { get } from './api';
import { translate, useLang, type Lang, type MessageKey } from './i18n';

export type Label = { en: string; 'zh-CN': string } | string | undefined;
export const pick = (label: Label | null, lang: string, fallback = ''): string =>
  label === undefined || label === null ? fallback : typeof label === 'string' ? label : (label as Record<string, string>)[lang] ?? label.en ?? fallback;

export interface Me {
  /** The zone date-times are shown in (the user's, else the organisation's); null: the browser's. */
  timeZone?: string | null;
  /** The language the user saved (PATCH /api/auth/me); null: none, the browser's choice applies. */
  language?: Lang | null;
  user: { id: string; username: string; displayName: string; department: string | null };
  roles: string[];
  /** The roles' labels ({ en, zh-CN }), null for a role without a document. */
  roleLabels?: Record<string, { en: string; 'zh-CN': string } | null>;
  system: string[];
  permissions: Record<string, { actions: Record<string, string[]>; readableFields: string[] | null; writableFields: string[] | null }>;
}

/** Whether the user may read records of `entity` at all (some scope of the read action). */
export const mayRead = (me: Me | undefined, entity: string): boolean => Boolean(me?.permissions[entity]?.actions.read?.length);

export interface FieldOption {
  value: string;
  label: string;
  color?: string;
}
export interface FieldInfo {
  name: string;
  type: string;
  label: string;
  required?: boolean;
  readable?: boolean;
  writable?: boolean;
  sortable?: boolean;
  filterable?: boolean;
  dictionary?: string | null;
  to?: string | null;
  options?: FieldOption[];
  /** Present for fields the server computes (formula, autonumber) and system fields. */
  system?: boolean;
}
export interface Rule {
  name: string;
  field?: string;
  when?: unknown;
  assert: unknown;
  message: string;
}
export interface FormModel {
  entity: { name: string; label: string; pluralLabel?: string; titleField: string | null; workflow: string | null; approval: string | null; copy?: string | null };
  create: any;
  update: any;
  read: any;
  uiSchema: Record<string, any>;
  fields: FieldInfo[];
  /** Child collections edited with the record (a quote's lines): an editable table each. */
  children?: { name: string; label: string; entity: string; fields: FieldInfo[] }[];
  rules: Rule[];
}

export const useMe = () => useQuery({ queryKey: ['me'], queryFn: () => get<Me>('/api/auth/me'), staleTime: 60_000, retry: false });

export interface AppDoc {
  name: string;
  label: Label;
  modules?: string[];
}
export function useApps() {
  return useQuery({ queryKey: ['apps'], queryFn: () => get<{ data: AppDoc[] }>('/api/meta/documents?kind=app').then((r) => r.data), staleTime: 300_000 });
}
export interface EntityDoc {
  name: string;
  label: Label;
  pluralLabel?: Label;
  titleField?: string;
  fields: { name: string; type: string; to?: string; label: Label }[];
}
/** The deployed entity documents by name (labels in both languages, title fields, references for related lists). */
export function useEntityLabels() {
  return useQuery({
    queryKey: ['entity-labels'],
    queryFn: () =>
      get<{ data: EntityDoc[] }>('/api/meta/documents?kind=entity').then((r) =>
        Object.fromEntries(r.data.map((e) => [e.name, e])),
      ),
    staleTime: 300_000,
  });
}

const SYSTEM_FIELDS: [string, string, MessageKey][] = [
  ['owner_id', 'user', 'owner'], ['created_at', 'datetime', 'createdAt'], ['created_by', 'user', 'createdBy'],
  ['updated_at', 'datetime', 'updatedAt'], ['updated_by', 'user', 'updatedBy'], ['version', 'integer', 'version'],
];
/** The system fields every record has, as fields lists and filters can use, labelled in the language. */
function withSystemFields(model: FormModel, lang: Lang): FormModel {
  const have = new Set(model.fields.map((f) => f.name));
  const extra = SYSTEM_FIELDS.filter(([name]) => !have.has(name)).map(([name, type, label]) => ({
    name, type: type === 'user' ? 'reference' : type, label: translate(lang, label), system: true, readable: true, writable: false,
    sortable: true, filterable: true, to: type === 'user' ? 'user' : null,
  }));
  return { ...model, fields: [...model.fields.map((f) => (SYSTEM_FIELDS.some(([n]) => n === f.name) ? { ...f, system: true } : f)), ...extra] };
}

export function formQuery(entity: string, lang: string) {
  return { queryKey: ['form', entity, lang], queryFn: () =>
      get<{ data: FormModel }>(`/api/meta/forms/${entity}?lang=${lang}`).then((r) => withSystemFields(r.data, lang as Lang)),
    staleTime: 300_000 };
}
export function useForm(entity: string | undefined) {
  const { lang } = useLang();
  return useQuery({ ...formQuery(entity ?? '', lang), enabled: Boolean(entity) });
}

/** Field info by name. */
export const fieldMap = (model: FormModel) => new Map(model.fields.map((f) => [f.name, f]));
