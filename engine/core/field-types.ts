/**
 * The built-in field types. They are contributed through the same FieldTypeDefinition contract a plugin
 * uses (see engine/core/index.ts), so nothing in the engine special-cases a type by name.
 */
import { sql } from 'drizzle-orm';
import type { ErrorDetail } from '../errors.js';
import type { FieldDoc, FieldTypeDefinition, FieldWriteArgs, JsonSchema, LocalizedText } from '../registry/types.js';
import { checkRule } from '../rules/check.js';
import { evaluateRule } from '../rules/evaluate.js';
import { rowsOf } from '../db/database.js';
import type { ValueKind } from '../registry/value-kind.js';
import { isTimeZone } from '../model/time-zone.js';
import { columnRange } from '../model/formats.js';
import { computedWidget } from '../registry/computed-widget.js';
import type { AppModel } from '../model/compile.js';
import { checkPath, followPaths, groupPaths } from '../data/reference-values.js';

const label = (en: string, zh: string): LocalizedText => ({ en, 'zh-CN': zh });
const int = (minimum = 0): JsonSchema => ({ type: 'integer', minimum });
const num: JsonSchema = { type: 'number' };

const opt = <T>(field: FieldDoc, name: string) => field[name] as T | undefined;
/** Only the keys whose value is defined, so generated schemas stay tidy. */
const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

function textType(name: string, lbl: LocalizedText, defaultMax: number, extra: JsonSchema = {}): FieldTypeDefinition {
  return {
    name,
    label: lbl,
    options: {
      maxLength: int(1),
      minLength: int(0),
      pattern: { type: 'string', minLength: 1, maxLength: 500 },
      // What a value must look like, in words: users are told this, never the regular expression.
      patternMessage: { $ref: 'common.schema.json#/$defs/label' },
    },
    kind: () => 'text',
    columnType: () => 'text',
    textual: true,
    valueSchema: (f) =>
      defined({
        type: 'string',
        maxLength: opt(f, 'maxLength') ?? defaultMax,
        minLength: opt(f, 'minLength'),
        pattern: opt(f, 'pattern'),
        ...extra,
      }),
    check: (f) => {
      const pattern = opt<string>(f, 'pattern');
      if (pattern === undefined) return [];
      try {
        new RegExp(pattern, 'u');
        return [];
      } catch (e) {
        return [
          {
            path: '/pattern',
            code: 'invalid_pattern',
            message: `pattern is not a valid regular expression: ${(e as Error).message}`,
          },
        ];
      }
    },
  };
}

function numberType(
  name: string,
  lbl: LocalizedText,
  column: (f: FieldDoc) => string,
  kind: ValueKind,
  extraOptions: Record<string, JsonSchema> = {},
  defaults: { min?: number; max?: number } = {},
): FieldTypeDefinition {
  return {
    name,
    label: lbl,
    options: { min: num, max: num, ...extraOptions },
    kind: () => kind,
    columnType: column,
    // The column's own range bounds every value, next to the field's min and max: 2^31 in an integer
    // column or 1e16 in numeric(18,2) would pass a bare JSON Schema number and fail in PostgreSQL.
    valueSchema: (f) => {
      const range = columnRange(column(f));
      const tighter = (a: number | undefined, b: number | undefined, pick: (x: number, y: number) => number) =>
        a === undefined ? b : b === undefined ? a : pick(a, b);
      return defined({
        type: kind === 'integer' ? 'integer' : 'number',
        minimum: tighter(opt(f, 'min') ?? defaults.min, range.minimum, Math.max),
        maximum: tighter(opt(f, 'max') ?? defaults.max, range.maximum, Math.min),
        exclusiveMinimum: range.exclusiveBound === undefined ? undefined : -range.exclusiveBound,
        exclusiveMaximum: range.exclusiveBound,
      });
    },
  };
}

const dictionaryOption = { dictionary: { type: 'string', pattern: '^[a-z][a-z0-9_]*$', maxLength: 30 } };
const checkDictionary: FieldTypeDefinition['check'] = (f, ctx) =>
  ctx.dictionary(String(f.dictionary))
    ? []
    : [{ path: '/dictionary', code: 'unknown_dictionary', message: `Dictionary "${f.dictionary}" does not exist` }];
const allValues = (f: FieldDoc, ctx: Parameters<FieldTypeDefinition['valueSchema']>[1]) =>
  (ctx.dictionary(String(f.dictionary))?.items ?? []).map((i) => i.value);
const activeValues = (f: FieldDoc, ctx: Parameters<FieldTypeDefinition['valueSchema']>[1]) =>
  (ctx.dictionary(String(f.dictionary))?.items ?? []).filter((i) => i.active !== false).map((i) => i.value);

const plans = new WeakMap<object, { paths: Map<string, string[]>; expr: unknown } | null>();
/**
 * A formula that reads through references or dictionary items: the paths it follows, and its expression
 * with those variables moved under `$path` (where the followed values are given). null: it reads only
 * the record's own fields (or the model is not at hand).
 */
function formulaPlan(field: FieldDoc, model: AppModel | undefined, entityName: string) {
  const entity = model?.entity(entityName);
  if (!entity) return null;
  let plan = plans.get(field);
  if (plan === undefined) {
    const followed = [...checkRule(field.expr, { fields: new Set() }).pathsUsed].filter((p) => {
      const f = entity.field(p.split('.')[0]);
      return Boolean(f?.reference || (f && typeof f.doc.dictionary === 'string' && f.doc.type === 'picklist'));
    });
    const rename = (node: unknown): unknown => {
      if (Array.isArray(node)) return node.map(rename);
      if (typeof node !== 'object' || node === null) return node;
      const [op, arg] = Object.entries(node)[0] ?? [];
      if (op === 'var') {
        const args = Array.isArray(arg) ? arg : [arg];
        if (typeof args[0] === 'string' && followed.includes(args[0])) return { var: [`$path.${args[0]}`, ...args.slice(1)] };
        return node;
      }
      return op === undefined ? node : { [op]: rename(arg) };
    };
    plan = followed.length ? { paths: groupPaths(followed), expr: rename(field.expr) } : null;
    plans.set(field, plan);
  }
  return plan;
}

/** Formula results: which column and kind each `returns` maps to. */
const FORMULA_RETURNS: Record<string, { column: string; kind: ValueKind; scale?: number }> = {
  text: { column: 'text', kind: 'text' },
  integer: { column: 'integer', kind: 'integer' },
  decimal: { column: 'numeric(18,4)', kind: 'number', scale: 4 },
  currency: { column: 'numeric(18,2)', kind: 'number', scale: 2 },
  percent: { column: 'numeric(9,4)', kind: 'number', scale: 4 },
  boolean: { column: 'boolean', kind: 'boolean' },
  date: { column: 'date', kind: 'date' },
  datetime: { column: 'timestamptz', kind: 'datetime' },
};

/**
 * A number rounded as a numeric(p, scale) column stores it (half away from zero), so a computed value
 * equals what is read back: 71.5 × 0.2 is 14.300000000000002 in binary floating point, 14.3 in the column.
 */
function roundToScale(n: number, scale: number): number {
  const factor = 10 ** scale;
  return (Math.sign(n) * Math.round(Math.abs(n) * factor)) / factor;
}

/** Coerces a formula's raw result to its declared type; anything that does not fit is stored as null. */
function coerceFormula(value: unknown, returns: string): unknown {
  if (value === null || value === undefined) return null;
  switch (returns) {
    case 'text':
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
    case 'boolean':
      return Boolean(value) && !(Array.isArray(value) && value.length === 0);
    case 'date':
      return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : null;
    case 'datetime': {
      const t = typeof value === 'string' || value instanceof Date ? new Date(value as string) : undefined;
      return t && !Number.isNaN(t.getTime()) ? t.toISOString() : null;
    }
    case 'integer': {
      const n = Number(value);
      return Number.isFinite(n) ? Math.round(n) : null;
    }
    default: {
      const n = Number(value);
      const scale = FORMULA_RETURNS[returns]?.scale;
      return !Number.isFinite(n) ? null : scale === undefined ? n : roundToScale(n, scale);
    }
  }
}

const AUTONUMBER_TOKEN = /\{([a-z][a-z0-9_]*)(?::(\w+))?\}/g;
const DATE_TOKENS = new Set(['yyyy', 'yy', 'mm', 'dd']);

/** Year, month and day of an instant in a time zone (auto-numbers follow the business's calendar). */
const formatters = new Map<string, Intl.DateTimeFormat>();
function calendarDate(now: Date, timeZone: string) {
  let format = formatters.get(timeZone);
  if (!format)
    formatters.set(
      timeZone,
      (format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })),
    );
  const parts = format.formatToParts(now);
  const part = (type: string) => parts.find((p) => p.type === type)!.value;
  return { yyyy: part('year'), mm: part('month'), dd: part('day') };
}

/** Renders an auto-number pattern except for the counter, which is left as `{seq}`. */
function renderPrefix(pattern: string, record: Record<string, unknown>, now: Date, timeZone: string): string {
  const date = calendarDate(now, timeZone);
  return pattern.replace(AUTONUMBER_TOKEN, (_whole, name: string, arg?: string) => {
    if (name === 'seq') return '{seq}';
    if (name === 'yyyy') return date.yyyy;
    if (name === 'yy') return date.yyyy.slice(-2);
    if (name === 'mm') return date.mm;
    if (name === 'dd') return date.dd;
    const value = record[name] === null || record[name] === undefined ? '' : String(record[name]);
    return arg === 'upper' ? value.toUpperCase() : value;
  });
}

/**
 * Takes the next numbers for records: one counter row per (entity, field, rendered prefix), advanced by
 * as many records as share the prefix in one atomic upsert. The row lock serialises concurrent inserts of
 * the same prefix until commit, so numbers are unique (and gap-free unless an insert fails later).
 */
async function allocateNumbers(
  field: FieldDoc,
  entity: string,
  records: Record<string, unknown>[],
  tx: FieldWriteArgs['tx'],
  now: Date,
  nowOf: (record: Record<string, unknown>) => Date = () => now,
): Promise<string[]> {
  const pattern = String(field.pattern);
  const width = Number(/\{seq:(\d)\}/.exec(pattern)![1]);
  const prefixes = records.map((r) => renderPrefix(pattern, r, nowOf(r), String(field.timeZone ?? 'UTC')));
  const counts = new Map<string, number>();
  for (const p of prefixes) counts.set(p, (counts.get(p) ?? 0) + 1);
  const next = new Map<string, number>();
  for (const [prefix, n] of counts) {
    const rows = rowsOf<{ value: number | string }>(
      await tx.execute(sql`insert into meta.sequences (entity, field, scope, value) values (${entity}, ${field.name}, ${prefix}, ${n})
        on conflict (entity, field, scope) do update set value = meta.sequences.value + ${n} returning value`),
    );
    next.set(prefix, Number(rows[0].value) - n + 1);
  }
  return prefixes.map((prefix) => {
    const value = next.get(prefix)!;
    next.set(prefix, value + 1);
    return prefix.replace('{seq}', String(value).padStart(width, '0'));
  });
}

const builtInTypes: FieldTypeDefinition[] = [
  textType('text', label('Text', '文本'), 255),
  textType('textarea', label('Long text', '多行文本'), 10000),
  { ...textType('email', label('E-mail', '电子邮件'), 254, { format: 'email' }), options: { maxLength: int(1) } },
  {
    ...textType('phone', label('Phone', '电话'), 32, { pattern: '^[+]?[0-9()\\- ]{3,32}(?: ?(?:ext|转)[0-9]{1,6})?$' }),
    options: { maxLength: int(1) },
    patternMessage: label(
      'must be a phone number: digits, spaces, ( ) and -, optionally + first and an extension (ext 123)',
      '必须是电话号码：数字、空格、括号和连字符，可以 + 开头，可带分机（转 123）',
    ),
  },
  { ...textType('url', label('URL', '网址'), 2048, { format: 'uri' }), options: { maxLength: int(1) } },
  // An IANA time zone (a user's, whose date-times are shown in it): checked against the runtime's zone list.
  {
    ...textType('timezone', label('Time zone', '时区'), 64, { format: 'time-zone' }),
    options: {},
    // Field defaults are checked without formats: the organisation's default zone is checked here.
    check: (f) =>
      f.default === undefined || (typeof f.default === 'string' && isTimeZone(f.default))
        ? []
        : [{ path: '/default', code: 'invalid_default', message: `"${String(f.default)}" is not an IANA time zone` }],
  },
  numberType('integer', label('Integer', '整数'), () => 'integer', 'integer'),
  numberType(
    'decimal',
    label('Decimal', '小数'),
    (f) => `numeric(${opt<number>(f, 'precision') ?? 18},${opt<number>(f, 'scale') ?? 2})`,
    'number',
    { precision: { type: 'integer', minimum: 1, maximum: 38 }, scale: { type: 'integer', minimum: 0, maximum: 20 } },
  ),
  numberType('currency', label('Currency', '金额'), () => 'numeric(18,2)', 'number', {
    currencyCode: { type: 'string', pattern: '^[A-Z]{3}$' },
  }),
  numberType('percent', label('Percent', '百分比'), () => 'numeric(9,4)', 'number', {}, { min: 0, max: 100 }),
  {
    name: 'boolean',
    label: label('Checkbox', '复选框'),
    kind: () => 'boolean',
    columnType: () => 'boolean',
    valueSchema: () => ({ type: 'boolean' }),
  },
  {
    name: 'date',
    label: label('Date', '日期'),
    kind: () => 'date',
    columnType: () => 'date',
    valueSchema: () => ({ type: 'string', format: 'date' }),
  },
  {
    name: 'datetime',
    label: label('Date and time', '日期时间'),
    kind: () => 'datetime',
    columnType: () => 'timestamptz',
    valueSchema: () => ({ type: 'string', format: 'date-time' }),
  },
  {
    name: 'picklist',
    label: label('Picklist', '下拉选项'),
    options: dictionaryOption,
    requiredOptions: ['dictionary'],
    kind: () => 'text',
    columnType: () => 'text',
    valueSchema: (f, ctx) => ({ type: 'string', enum: activeValues(f, ctx), 'x-dictionary': f.dictionary }),
    check: checkDictionary,
  },
  {
    name: 'multipicklist',
    label: label('Multi-select picklist', '多选下拉'),
    options: dictionaryOption,
    requiredOptions: ['dictionary'],
    kind: () => 'text[]',
    columnType: () => 'text[]',
    indexMethod: 'gin',
    valueSchema: (f, ctx) => ({
      type: 'array',
      uniqueItems: true,
      items: { type: 'string', enum: activeValues(f, ctx) },
      'x-dictionary': f.dictionary,
    }),
    check: checkDictionary,
  },
  {
    name: 'reference',
    label: label('Reference', '关联'),
    options: {
      to: { type: 'string', pattern: '^[a-z][a-z0-9_]*$', maxLength: 30 },
      onDelete: { enum: ['restrict', 'set_null', 'cascade'] },
    },
    requiredOptions: ['to'],
    kind: () => 'uuid',
    columnType: () => 'uuid',
    references: (f) => ({ to: String(f.to), onDelete: (f.onDelete as 'restrict' | 'set_null' | 'cascade') ?? 'set_null' }),
    valueSchema: (f) => ({ type: 'string', format: 'uuid', 'x-reference': f.to }),
    check: (f, ctx) =>
      ctx.entity(String(f.to))
        ? []
        : [{ path: '/to', code: 'unknown_entity', message: `Referenced entity "${f.to}" does not exist` }],
  },
  {
    name: 'autonumber',
    label: label('Auto number', '自动编号'),
    options: {
      pattern: { type: 'string', minLength: 1, maxLength: 100 },
      timeZone: { type: 'string', description: 'IANA time zone of the date tokens, e.g. Asia/Shanghai (default UTC)' },
    },
    requiredOptions: ['pattern'],
    readOnly: true,
    unique: true,
    allocates: true,
    textual: true,
    kind: () => 'text',
    columnType: () => 'text',
    valueSchema: () => ({ type: 'string', readOnly: true }),
    check: (f, ctx) => {
      const pattern = String(f.pattern);
      const errors: ErrorDetail[] = [];
      let seqCount = 0;
      for (const [, name, arg] of pattern.matchAll(AUTONUMBER_TOKEN)) {
        if (name === 'seq') {
          seqCount++;
          if (!arg || !/^\d$/.test(arg) || Number(arg) < 1)
            errors.push({ path: '/pattern', code: 'invalid_pattern', message: '{seq:N} needs a width N from 1 to 9' });
        } else if (!DATE_TOKENS.has(name) && !ctx.fieldNames.has(name)) {
          errors.push({
            path: '/pattern',
            code: 'unknown_field',
            message: `Pattern token {${name}} is neither a field nor a date token`,
          });
        } else if (arg !== undefined && arg !== 'upper') {
          errors.push({ path: '/pattern', code: 'invalid_pattern', message: `Unknown modifier ":${arg}" in {${name}:${arg}}` });
        }
      }
      if (f.timeZone !== undefined && !isTimeZone(String(f.timeZone)))
        errors.push({ path: '/timeZone', code: 'invalid_time_zone', message: `Unknown time zone "${f.timeZone}"` });
      if (seqCount !== 1)
        errors.push({
          path: '/pattern',
          code: 'invalid_pattern',
          message: 'An auto-number pattern needs exactly one {seq:N} token',
        });
      return errors;
    },
    async onWrite({ field, entity, operation, record, tx, now }) {
      if (operation !== 'create') return undefined;
      return (await allocateNumbers(field, entity, [record], tx, now))[0];
    },
    allocateMany: ({ field, entity, records, tx, now, nowOf }) => allocateNumbers(field, entity, records, tx, now, nowOf),
  },
  {
    name: 'formula',
    label: label('Formula', '公式'),
    // A text formula may say its results are values of a dictionary (a service level worked out from a
    // contract or a grade): lists, forms and reports then show the items' labels, like a picklist's.
    options: { returns: { enum: Object.keys(FORMULA_RETURNS) }, expr: {}, ...dictionaryOption },
    requiredOptions: ['returns', 'expr'],
    readOnly: true,
    kind: (f) => FORMULA_RETURNS[String(f.returns)]?.kind ?? 'text',
    columnType: (f) => FORMULA_RETURNS[String(f.returns)]?.column ?? 'text',
    valueSchema: (f, ctx) => {
      const kind = FORMULA_RETURNS[String(f.returns)]?.kind;
      const type = kind === 'integer' ? 'integer' : kind === 'number' ? 'number' : kind === 'boolean' ? 'boolean' : 'string';
      if (f.dictionary)
        return { type: ['string', 'null'], readOnly: true, enum: [...allValues(f, ctx), null], 'x-dictionary': f.dictionary };
      return defined({ type: [type, 'null'], readOnly: true, format: kind === 'date' ? 'date' : undefined });
    },
    check: (f, ctx) => {
      if (f.dictionary !== undefined && f.returns !== 'text')
        return [
          { path: '/dictionary', code: 'invalid_option', message: 'Only a formula that returns text can name a dictionary' },
        ];
      if (f.dictionary !== undefined && !ctx.dictionary(String(f.dictionary))) return checkDictionary(f, ctx);
      // The creation time is known when formulas run (a deadline counts from it).
      const { errors, fieldsUsed, pathsUsed } = checkRule(f.expr, {
        fields: new Set([...ctx.fieldNames, 'created_at']),
        allowContext: false,
        path: '/expr',
      });
      if (fieldsUsed.has(f.name))
        errors.push({ path: '/expr', code: 'circular_formula', message: 'A formula cannot refer to itself' });
      // product.list_price (through a reference), decision_role.weight (a dictionary item's attribute)
      if (ctx.fields) for (const p of pathsUsed) errors.push(...checkPath(p, ctx.fields, ctx, '/expr'));
      return errors;
    },
    onWrite: async ({ field, record, entity, tx, model }) => {
      const plan = formulaPlan(field, model as AppModel | undefined, entity);
      if (!plan) return coerceFormula(evaluateRule(field.expr, record), String(field.returns));
      const values = await followPaths(tx, model as AppModel, (model as AppModel).entity(entity)!, record, plan.paths);
      return coerceFormula(evaluateRule(plan.expr, { ...record, $path: values }), String(field.returns));
    },
  },
  {
    // The roles a user holds; values are names of deployed role documents.
    name: 'roles',
    label: label('Roles', '角色'),
    kind: () => 'text[]',
    columnType: () => 'text[]',
    indexMethod: 'gin',
    valueSchema: (_f, ctx) => ({
      type: 'array',
      uniqueItems: true,
      items: { type: 'string', enum: ctx.names('role') },
      'x-documents': 'role',
    }),
  },
  {
    // Several users of the app (participants, attendees, a team): their ids, each a live, active user.
    name: 'users',
    label: label('Users', '多个用户'),
    options: { maxItems: { type: 'integer', minimum: 1, maximum: 1000 } },
    kind: () => 'uuid[]',
    columnType: () => 'uuid[]',
    indexMethod: 'gin',
    userList: true,
    valueSchema: (f) => ({
      type: 'array',
      uniqueItems: true,
      maxItems: opt<number>(f, 'maxItems') ?? 100,
      items: { type: 'string', format: 'uuid' },
      'x-users': true,
    }),
  },
  { name: 'json', label: label('JSON', 'JSON'), kind: () => 'json', columnType: () => 'jsonb', valueSchema: () => ({}) },
];

/**
 * The widget each built-in type asks forms for (the names the runtime UI implements). Kept beside the
 * definitions rather than in them so the table reads as one list.
 */
const WIDGETS: Record<string, FieldTypeDefinition['form']> = {
  text: () => ({ widget: 'text' }),
  textarea: () => ({ widget: 'textarea' }),
  email: () => ({ widget: 'email' }),
  phone: () => ({ widget: 'phone' }),
  url: () => ({ widget: 'url' }),
  timezone: () => ({ widget: 'timezone' }),
  integer: () => ({ widget: 'integer' }),
  decimal: (f) => ({ widget: 'decimal', options: { scale: opt<number>(f, 'scale') ?? 2 } }),
  currency: (f) => ({ widget: 'currency', options: { currency: opt<string>(f, 'currencyCode') ?? 'CNY' } }),
  percent: () => ({ widget: 'percent' }),
  boolean: () => ({ widget: 'switch' }),
  date: () => ({ widget: 'date' }),
  datetime: () => ({ widget: 'datetime' }),
  picklist: () => ({ widget: 'picklist' }),
  multipicklist: () => ({ widget: 'multipicklist' }),
  reference: () => ({ widget: 'reference' }),
  roles: () => ({ widget: 'multipicklist' }),
  users: () => ({ widget: 'users' }),
  autonumber: () => ({ widget: 'readonly' }),
  formula: (f) => (f.dictionary ? { widget: 'picklist' } : computedWidget(f.returns)),
  json: () => ({ widget: 'json' }),
};

export const coreFieldTypes: FieldTypeDefinition[] = builtInTypes.map((t) => ({ ...t, form: WIDGETS[t.name] }));
