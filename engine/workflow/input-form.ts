/**
 * A transition's input schema as a form in one language: each property gets a `title` — its own
 * `label` (`{ "en", "zh-CN" }`), else the label of the entity's field of the same name, else the
 * property name — and a `description` from its `help` or the field's help; an `enum` over the values
 * of a picklist field of the same name gets the dictionary's labels (`oneOf` of `{ const, title }`).
 * The schema the server validates with is unchanged (labels are annotations).
 */
import type { AppModel, CompiledEntity } from '../model/compile.js';
import type { Lang } from '../model/language.js';
import type { JsonSchema, LocalizedText } from '../registry/types.js';

const cache = new WeakMap<object, Map<string, JsonSchema>>();

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is LocalizedText => isObject(v) && typeof v.en === 'string' && typeof v['zh-CN'] === 'string';

export function inputForm(schema: JsonSchema, entity: CompiledEntity, model: AppModel, lang: Lang): JsonSchema {
  let perLang = cache.get(schema);
  if (!perLang) cache.set(schema, (perLang = new Map()));
  const key = `${model.version}|${lang}`;
  const cached = perLang.get(key);
  if (cached) return cached;
  const properties = isObject(schema.properties) ? schema.properties : {};
  const out: JsonSchema = {
    ...schema,
    properties: Object.fromEntries(
      Object.entries(properties).map(([name, p]) => {
        if (!isObject(p)) return [name, p];
        const { label, help, ...rest } = p as JsonSchema & { label?: unknown; help?: unknown };
        const field = entity.field(name);
        const title = isText(label) ? label[lang] : (field?.doc.label[lang] ?? rest.title ?? name);
        const description = isText(help) ? help[lang] : (rest.description ?? field?.doc.help?.[lang]);
        const property: JsonSchema = { ...rest, title, ...(description ? { description } : {}) };
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
