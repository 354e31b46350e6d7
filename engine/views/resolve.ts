/**
 * The view of an entity as one user sees it (GET /api/meta/views/:entity): the deployed `view`
 * documents of the entity that are for them (roles, shared lists), labels in their language, fields
 * they may not read left out — or, where nothing is deployed, defaults generated from the entity: the
 * first columns, a kanban by the workflow's state field (else the first picklist) summing the first
 * currency field, one two-column section of every field, and every entity that references this one as a
 * related list.
 */
import { AppError } from '../errors.js';
import type { AppModel, CompiledEntity } from '../model/compile.js';
import type { Principal } from '../access/principal.js';
import { canRead, Policy } from '../access/policy.js';
import type { Lang } from '../model/language.js';
import type { ViewDoc } from './kind.js';

type Label = { en: string; 'zh-CN': string } | undefined;

export interface ResolvedView {
  entity: string;
  lists: { name: string; label: string; columns: string[]; sort?: string; filter?: unknown; view: string | null }[];
  kanban: { groupBy: string; cardFields: string[]; sumField?: string } | null;
  /** Only where a view declares one (and the user may read its time fields). */
  calendar: { start: string; end?: string; title?: string; color?: string; people?: string } | null;
  layouts: {
    name: string;
    label: string;
    roles?: string[];
    sections: { label?: string; tab?: string; columns: number; fields: string[] }[];
    readOnly: string[];
    hidden: string[];
    visibleWhen: Record<string, unknown>;
    requiredWhen: Record<string, unknown>;
    related: { entity: string; via: string; label: string; columns: string[] }[];
  }[];
}

const NOT_IN_LISTS = new Set(['textarea', 'json']);
const text = (label: Label, lang: Lang, fallback = '') => label?.[lang] ?? label?.en ?? fallback;

export function resolveView(model: AppModel, entityName: string, principal: Principal, lang: Lang): ResolvedView {
  const entity = model.entity(entityName);
  const policy = new Policy(model);
  const access = entity ? policy.access(principal, entity) : undefined;
  if (!entity || !access?.scopes.read?.length) throw new AppError(404, 'unknown_entity', `No entity ${entityName} you may read`);
  const readable = (name: string) => canRead(access, name);
  const mayReadEntity = (e: CompiledEntity) => Boolean(policy.access(principal, e).scopes.read?.length);
  const forMe = (roles: string[] | undefined) => !roles?.length || roles.some((r) => principal.roles.includes(r));
  const docs = model.documents
    .all<ViewDoc>('view')
    .filter((v) => v.entity === entity.name)
    .sort((a, b) => a.name.localeCompare(b.name));

  const fieldNames = entity.fields.map((f) => f.name).filter(readable);
  const title = entity.titleField && readable(entity.titleField) ? [entity.titleField] : [];
  const defaultColumns = [
    ...title,
    ...fieldNames.filter((n) => !title.includes(n) && !NOT_IN_LISTS.has(entity.field(n)!.doc.type)),
  ].slice(0, 8);

  const lists: ResolvedView['lists'] = docs.flatMap((v) =>
    (v.lists ?? [])
      .filter((l) => l.shared === undefined || l.shared === true || (Array.isArray(l.shared) && forMe(l.shared)))
      .map((l) => ({
        name: l.name,
        label: text(l.label, lang, l.name),
        columns: l.columns.filter(readable),
        sort: l.sort,
        filter: l.filter,
        view: v.name,
      })),
  );
  // Lists of views made for one of the user's roles first: a rep lands on "my customers".
  const mine = new Set(docs.filter((v) => v.roles?.some((r) => principal.roles.includes(r))).map((v) => v.name));
  lists.sort((a, b) => Number(mine.has(b.view ?? '')) - Number(mine.has(a.view ?? '')));
  if (!lists.length)
    lists.push({ name: 'all', label: text(entity.label, lang), columns: defaultColumns, sort: '-updated_at', view: null });

  const declared = docs.find((v) => v.kanban && forMe(v.roles))?.kanban;
  const workflowField = entity.workflows[0]?.doc.stateField;
  const picklist = entity.fields.find((f) => f.doc.type === 'picklist' && readable(f.name))?.name;
  const sum = entity.fields.find((f) => f.doc.type === 'currency' && readable(f.name))?.name;
  const groupBy = declared?.groupBy ?? (workflowField && readable(workflowField) ? workflowField : picklist);
  const kanban =
    groupBy && readable(groupBy)
      ? {
          groupBy,
          cardFields: (declared?.cardFields ?? defaultColumns.filter((c) => c !== groupBy).slice(0, 4)).filter(readable),
          sumField: declared ? (declared.sumField && readable(declared.sumField) ? declared.sumField : undefined) : sum,
        }
      : null;

  const cal = docs.find((v) => v.calendar && forMe(v.roles))?.calendar;
  const calendar =
    cal && readable(cal.start) && (cal.end === undefined || readable(cal.end))
      ? {
          start: cal.start,
          ...(cal.end ? { end: cal.end } : {}),
          ...((cal.title ?? entity.titleField) && readable(cal.title ?? entity.titleField!)
            ? { title: cal.title ?? entity.titleField }
            : {}),
          ...(cal.color && readable(cal.color) ? { color: cal.color } : {}),
          ...(cal.people && readable(cal.people) ? { people: cal.people } : {}),
        }
      : null;

  const relatedDefault = () =>
    entity.referencedBy
      .filter((r) => r.entity !== entity.name)
      .map((r) => ({ entity: r.entity, via: r.field, label: undefined as Label, columns: [] as string[] }));
  const related = (list: { entity: string; via: string; label?: Label; columns?: string[] }[]) =>
    list.flatMap((r) => {
      const other = model.entity(r.entity);
      if (!other || !mayReadEntity(other)) return [];
      const otherAccess = policy.access(principal, other);
      return [
        {
          entity: r.entity,
          via: r.via,
          label: text(r.label, lang, text((other.doc.pluralLabel as Label) ?? other.label, lang)),
          columns: (r.columns ?? []).filter((c) => canRead(otherAccess, c)),
        },
      ];
    });
  const layouts: ResolvedView['layouts'] = docs
    .filter((v) => v.layout && forMe(v.roles))
    .map((v) => ({
      name: v.name,
      label: text(v.label, lang, v.name),
      ...(v.roles ? { roles: v.roles } : {}),
      sections: v.layout!.sections.map((s) => ({
        ...(s.label ? { label: text(s.label, lang) } : {}),
        ...(s.tab ? { tab: text(s.tab, lang) } : {}),
        columns: s.columns ?? 2,
        fields: s.fields.filter(readable),
      })),
      readOnly: v.layout!.readOnly ?? [],
      hidden: v.layout!.hidden ?? [],
      visibleWhen: v.layout!.visibleWhen ?? {},
      requiredWhen: v.layout!.requiredWhen ?? {},
      related: related(v.layout!.related ?? []),
    }));
  if (!layouts.length)
    layouts.push({
      name: 'default',
      label: text(entity.label, lang),
      sections: [{ columns: 2, fields: fieldNames }],
      readOnly: [],
      hidden: [],
      visibleWhen: {},
      requiredWhen: {},
      related: related(relatedDefault()),
    });
  return { entity: entity.name, lists, kanban, calendar, layouts };
}
