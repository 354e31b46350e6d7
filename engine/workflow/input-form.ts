/**
 * A transition's input schema as a form in one language: each property gets a `title` — its own
 * `label` (`{ "en", "zh-CN" }`), else the label of the entity's field of the same name, else the
 * property name — and a `description` from its `help` or the field's help; an `enum` over the values
 * of a picklist field of the same name gets the dictionary's labels (`oneOf` of `{ const, title }`).
 * A property that names a record — it declares `x-reference` itself, it has the name of a reference field,
 * or the transition's `set` actions write it into a reference field (`owner_id`: a user) — gets
 * `x-reference` with the target entity, so the UI offers a picker over that entity instead of an id box.
 * The schema the server validates with is unchanged (labels and x-reference are annotations).
 */
import type { AppModel, CompiledEntity } from '../model/compile.js';
import type { Lang } from '../model/language.js';
import type { JsonSchema, LocalizedText } from '../registry/types.js';

const cache = new WeakMap<object, Map<string, JsonSchema>>();

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is LocalizedText => isObject(v) && typeof v.en === 'string' && typeof v['zh-CN'] === 'string';

/** The entity a transition's `set` actions write `$input.<name>` into, by input property name. */
function referencesSetFrom(actions: readonly unknown[], entity: CompiledEntity): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of actions) {
    if (!isObject(a) || a.type !== 'set' || !isObject(a.values)) continue;
    for (const [field, value] of Object.entries(a.values)) {
      const path = isObject(value) && typeof value.var === 'string' ? value.var : undefined;
      if (!path?.startsWith('$input.') || path.split('.').length !== 2) continue;
      // The owner is a system field: always a user.
      const to = field === 'owner_id' ? 'user' : entity.field(field)?.reference?.to;
      if (to) out.set(path.slice('$input.'.length), to);
    }
  }
  return out;
}

export function inputForm(
  schema: JsonSchema,
  entity: CompiledEntity,
  model: AppModel,
  lang: Lang,
  actions: readonly unknown[] = [],
): JsonSchema {
  let perLang = cache.get(schema);
  if (!perLang) cache.set(schema, (perLang = new Map()));
  const key = `${model.version}|${lang}`;
  const cached = perLang.get(key);
  if (cached) return cached;
  const properties = isObject(schema.properties) ? schema.properties : {};
  const setInto = referencesSetFrom(actions, entity);
  const out: JsonSchema = {
    ...schema,
    properties: Object.fromEntries(
      Object.entries(properties).map(([name, p]) => {
        if (!isObject(p)) return [name, p];
        const { label, help, 'x-reference': declared, ...rest } = p as JsonSchema & { label?: unknown; help?: unknown };
        const field = entity.field(name);
        const title = isText(label) ? label[lang] : (field?.doc.label[lang] ?? rest.title ?? name);
        const description = isText(help) ? help[lang] : (rest.description ?? field?.doc.help?.[lang]);
        const to = typeof declared === 'string' ? declared : (field?.reference?.to ?? setInto.get(name));
        const property: JsonSchema = {
          ...rest,
          title,
          ...(description ? { description } : {}),
          ...(to && rest.type === 'string' && model.entity(to) ? { 'x-reference': to } : {}),
        };
        const dictionary = typeof field?.doc.dictionary === 'string' ? model.dictionaries.get(field.doc.dictionary) : undefined;
        if (dictionary && Array.isArray(rest.enum)) {
          const { enum: values, ...others } = property;
          const labelOf = (v: unknown) => dictionary.items.find((i) => i.value === v)?.label[lang] ?? String(v);
          return [name, { ...others, oneOf: (values as unknown[]).map((v) => ({ const: v, title: labelOf(v) })) }];
        }
        return [name, property];
      }),
    ),
  };
  if (perLang.size > 4) perLang.clear(); // a bound: old model versions go
  perLang.set(key, out);
  return out;
}
