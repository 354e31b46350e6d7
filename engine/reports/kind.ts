/**
 * The `report` document kind: its meta-schema and the deploy checks a schema cannot express — every
 * path names real fields (through references), measures fit their fields, derived measures name
 * measures defined before them, parameters are declared before filters use them — each refusal with
 * the JSON pointer of the offending part.
 */
import { createRequire } from 'node:module';
import { pointer, type ErrorDetail } from '../errors.js';
import type { DocumentKindDefinition, DocumentSet, JsonSchema, RegistryView } from '../registry/types.js';
import type { DictionaryDoc } from '../model/kinds/dictionary.js';
import type { EntityDoc } from '../model/kinds/entity.js';
import type { WorkflowDoc } from '../workflow/kind.js';
import { checkRule } from '../rules/check.js';
import { isLogic } from '../rules/evaluate.js';
import { SYSTEM_FIELDS } from '../model/system-fields.js';
import { isTimeZone } from '../model/time-zone.js';
import { parentField, resolvePath, targetOf, type ResolvedPath } from './paths.js';
import {
  dimensionName,
  TIME_DERIVATIONS,
  type DimensionDoc,
  type MeasureDoc,
  type ParameterDoc,
  type ReportDoc,
} from './types.js';
import { parameterDefaultProblem } from './parameters.js';

const require = createRequire(import.meta.url);
const reportSchema = require('./report.schema.json') as JsonSchema;

const NUMERIC = new Set(['integer', 'number']);
const ORDERED = new Set(['integer', 'number', 'date', 'datetime', 'text']);

export const reportKind: DocumentKindDefinition = {
  kind: 'report',
  schema: () => reportSchema,
  check: (doc, all, registry) => checkReport(doc as ReportDoc, all, registry),
};

/** Every `{"var": name}` of a json-logic rule, with its JSON pointer. */
export function varsOf(rule: unknown, path: string, out: { name: string; path: string }[] = []) {
  if (Array.isArray(rule)) rule.forEach((r, i) => varsOf(r, path + pointer(i), out));
  else if (isLogic(rule)) {
    const op = Object.keys(rule)[0]!;
    const raw = rule[op];
    if (op === 'var') {
      const name = Array.isArray(raw) ? raw[0] : raw;
      if (typeof name === 'string') out.push({ name, path: path + pointer('var') });
    } else varsOf(raw, path + pointer(op), out);
  }
  return out;
}

export function checkReport(r: ReportDoc, all: DocumentSet, registry: RegistryView): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  const fail = (path: string, code: string, message: string) => errors.push({ path, code, message });
  const entity = all.get<EntityDoc>('entity', r.entity);
  if (!entity) return [{ path: '/entity', code: 'unknown_entity', message: `Entity "${r.entity}" does not exist` }];
  const shape = r.shape ?? 'summary';
  const params = new Map<string, ParameterDoc>();

  const path = (p: string, at: string): ResolvedPath | undefined => {
    const resolved = resolvePath(all, registry, r.entity, p);
    if (typeof resolved === 'string') return void fail(at, 'unknown_field', resolved);
    return resolved;
  };
  const rule = (value: unknown, at: string) => {
    const fields = new Set([...SYSTEM_FIELDS, ...entity.fields.map((f) => f.name)]);
    errors.push(...checkRule(value, { fields, allowContext: true, path: at }).errors);
    for (const v of varsOf(value, at)) {
      if (v.name.startsWith('$params.')) {
        if (!params.has(v.name.slice(8)))
          fail(v.path, 'unknown_parameter', `"${v.name.slice(8)}" is not a parameter of this report`);
      } else if (!v.name.startsWith('$') && v.name.includes('.')) path(v.name, v.path);
    }
  };

  // ── parameters ──
  (r.parameters ?? []).forEach((p, i) => {
    const at = (...s: string[]) => pointer('parameters', i, ...s);
    if (params.has(p.name)) fail(at('name'), 'duplicate_parameter', `Parameter "${p.name}" is declared twice`);
    params.set(p.name, p);
    if (p.type === 'picklist' && !all.get('dictionary', String(p.dictionary)))
      fail(at('dictionary'), 'unknown_dictionary', `A picklist parameter needs an existing dictionary`);
    if (p.type === 'reference' && !all.get('entity', String(p.to)))
      fail(at('to'), 'unknown_entity', `A reference parameter needs an existing entity in "to"`);
    if (p.default !== undefined) {
      const problem = parameterDefaultProblem(p, all.get<DictionaryDoc>('dictionary', String(p.dictionary)));
      if (problem) fail(at('default'), 'invalid_default', problem);
    }
  });
  if (r.filter !== undefined) rule(r.filter, '/filter');
  if (r.timeZone !== undefined && !isTimeZone(r.timeZone))
    fail('/timeZone', 'invalid_time_zone', `Unknown time zone "${r.timeZone}"`);
  const roles = new Set(all.all('role').map((x) => x.name));
  (r.roles ?? []).forEach(
    (role, i) => roles.has(role) || fail(pointer('roles', i), 'unknown_role', `Role "${role}" does not exist`),
  );

  // ── dimensions ──
  const names = new Set<string>();
  const named = (name: string, at: string) => {
    if (names.has(name)) fail(at, 'duplicate_name', `"${name}" names two columns of this report`);
    names.add(name);
  };
  let timeDimension = false;
  const dimension = (d: DimensionDoc, at: string, first: boolean) => {
    named(dimensionName(d), at + (d.name ? '/name' : '/field'));
    const resolved = path(d.field, at + '/field');
    if (!resolved) return;
    if (resolved.kind === 'json' || resolved.kind === 'text[]' || resolved.kind === 'uuid[]')
      fail(at + '/field', 'invalid_dimension', `"${d.field}" holds ${resolved.kind} values, which can't be grouped`);
    if (d.bucket) {
      timeDimension = true;
      if (resolved.kind !== 'date' && resolved.kind !== 'datetime')
        fail(at + '/bucket', 'invalid_bucket', `"${d.field}" is not a date or datetime field`);
    } else if (d.range || d.fill !== undefined)
      fail(at + (d.range ? '/range' : '/fill'), 'invalid_option', 'range and fill need a bucket');
    for (const end of ['from', 'to'] as const) {
      const b = d.range?.[end];
      if (b && typeof b === 'object') {
        const p = params.get(b.var.slice(8));
        if (!p) fail(`${at}/range/${end}/var`, 'unknown_parameter', `"${b.var.slice(8)}" is not a parameter of this report`);
        else if (p.type !== 'date') fail(`${at}/range/${end}/var`, 'invalid_parameter', `"${p.name}" is not a date parameter`);
      }
    }
    if (d.tree) {
      if (!first) fail(at + '/tree', 'invalid_option', 'Only the first dimension can be a tree');
      if (!resolved.to || !parentField(all, registry, resolved.to))
        fail(
          at + '/tree',
          'invalid_option',
          `"${d.field}" does not point at an entity with a parent reference to itself (a tree)`,
        );
    }
  };
  (r.dimensions ?? []).forEach((d, i) => dimension(d, pointer('dimensions', i), i === 0));
  if (r.pivot) {
    dimension(r.pivot, '/pivot', false);
    if (r.pivot.tree) fail('/pivot/tree', 'invalid_option', 'A pivot cannot be a tree');
  }

  // ── measures ──
  /** A measure over related records: the entity exists, `via` points at the report's entity; its name, or undefined. */
  const checkOver = (over: NonNullable<MeasureDoc['over']>, aggregate: string, at: (...s: string[]) => string) => {
    if (!['count', 'count_distinct', 'sum'].includes(aggregate))
      fail(at('aggregate'), 'invalid_measure', 'A measure over related records is a count, count_distinct or sum');
    if (shape !== 'summary' && shape !== 'matrix')
      fail(at('over'), 'invalid_option', `A ${shape} report has no measures over related records`);
    const related = all.get<EntityDoc>('entity', over.entity);
    if (!related) return void fail(at('over', 'entity'), 'unknown_entity', `Entity "${over.entity}" does not exist`);
    if (over.entity === r.entity)
      fail(at('over', 'entity'), 'invalid_option', 'Related records of the same entity are not supported');
    const via = related.fields.find((f) => f.name === over.via);
    if (!via || targetOf(via, via.name, registry) !== r.entity)
      fail(at('over', 'via'), 'invalid_option', `"${over.via}" is not a reference of ${over.entity} to ${r.entity}`);
    if (over.where !== undefined) {
      const fields = new Set([...SYSTEM_FIELDS, ...related.fields.map((f) => f.name)]);
      errors.push(...checkRule(over.where, { fields, allowContext: true, path: at('over', 'where') }).errors);
      for (const v of varsOf(over.where, at('over', 'where'))) {
        if (v.name.startsWith('$params.')) {
          if (!params.has(v.name.slice(8)))
            fail(v.path, 'unknown_parameter', `"${v.name.slice(8)}" is not a parameter of this report`);
        } else if (!v.name.startsWith('$') && v.name.includes('.')) {
          const resolved = resolvePath(all, registry, over.entity, v.name);
          if (typeof resolved === 'string') fail(v.path, 'unknown_field', resolved);
        }
      }
    }
    return over.entity;
  };
  const measures = new Map<string, boolean>();
  const numeric = new Set<string>();
  (r.measures ?? []).forEach((m, i) => {
    const at = (...s: string[]) => pointer('measures', i, ...s);
    named(m.name, at('name'));
    if (m.derive) {
      if (m.aggregate || m.field || m.filter !== undefined || m.over)
        fail(at('derive'), 'invalid_measure', 'A derived measure takes `of` (and `by`), not aggregate, field, filter or over');
      for (const key of m.derive === 'divide' ? (['of', 'by'] as const) : (['of'] as const)) {
        if (!m[key]) fail(at(key), 'required', `derive ${m.derive} needs "${key}"`);
        else if (!measures.has(m[key]!)) fail(at(key), 'unknown_measure', `"${m[key]}" is not a measure defined before this one`);
        else if (!numeric.has(m[key]!))
          fail(at(key), 'invalid_measure', `"${m[key]}" is not a number: derived measures compute with numbers`);
      }
      if (TIME_DERIVATIONS.has(m.derive) && !timeDimension)
        fail(at('derive'), 'needs_time_dimension', `${m.derive} compares periods: the report needs a dimension with a bucket`);
    } else {
      const aggregate = m.aggregate ?? 'count';
      if (aggregate !== 'count' && !m.field) fail(at('field'), 'required', `${aggregate} needs a field`);
      const over = m.over ? checkOver(m.over, aggregate, at) : undefined;
      if (m.field && m.over) {
        if (over) {
          const resolved = resolvePath(all, registry, over, m.field);
          if (typeof resolved === 'string') fail(at('field'), 'unknown_field', resolved);
          else if (aggregate === 'sum' && !NUMERIC.has(resolved.kind))
            fail(at('field'), 'invalid_measure', `sum needs a number field; "${m.field}" is ${resolved.kind}`);
        }
      } else if (m.field) {
        const resolved = path(m.field, at('field'));
        if (resolved) {
          if ((aggregate === 'sum' || aggregate === 'avg') && !NUMERIC.has(resolved.kind))
            fail(at('field'), 'invalid_measure', `${aggregate} needs a number field; "${m.field}" is ${resolved.kind}`);
          if ((aggregate === 'min' || aggregate === 'max') && !ORDERED.has(resolved.kind))
            fail(at('field'), 'invalid_measure', `${aggregate} needs an ordered field; "${m.field}" is ${resolved.kind}`);
          if (resolved.kind === 'json') fail(at('field'), 'invalid_measure', `"${m.field}" holds JSON`);
        }
      }
      if (m.filter !== undefined) rule(m.filter, at('filter'));
    }
    measures.set(m.name, Boolean(m.derive));
    const aggregate = m.aggregate ?? 'count';
    if (
      m.derive ||
      !(aggregate === 'min' || aggregate === 'max') ||
      (m.field && NUMERIC.has((resolvePath(all, registry, r.entity, m.field) as ResolvedPath).kind ?? ''))
    )
      numeric.add(m.name);
  });

  // ── shape ──
  const dims = r.dimensions ?? [];
  const stateField = (at: string, history: boolean) => {
    const f = r.funnel!;
    const field = entity.fields.find((x) => x.name === f.field);
    if (field?.type !== 'picklist')
      return void fail(at + '/field', 'invalid_funnel', `"${f.field}" is not a picklist field of ${r.entity}`);
    const values = new Set(all.get<DictionaryDoc>('dictionary', String(field.dictionary))?.items.map((x) => x.value) ?? []);
    (f.stages ?? []).forEach(
      (s, i) =>
        values.has(s) ||
        fail(`${at}/stages/${i}`, 'unknown_stage', `"${s}" is not a value of the ${field.dictionary} dictionary`),
    );
    if (history && !all.all<WorkflowDoc>('workflow').some((w) => w.entity === r.entity && w.stateField === f.field))
      fail(at + '/field', 'invalid_funnel', `No workflow of ${r.entity} moves "${f.field}": stage history needs one`);
  };
  switch (shape) {
    case 'tabular':
      if (!r.columns) fail('/columns', 'required', 'A tabular report lists its columns');
      (r.columns ?? []).forEach((c, i) => path(c, pointer('columns', i)));
      (r.sort ?? []).forEach(
        (s, i) =>
          (r.columns ?? []).includes(s.by) ||
          fail(pointer('sort', i, 'by'), 'unknown_column', `"${s.by}" is not one of the columns`),
      );
      if (dims.length || r.pivot || r.top)
        fail(
          dims.length ? '/dimensions' : r.pivot ? '/pivot' : '/top',
          'invalid_option',
          'A tabular report lists records: no dimensions, pivot or top',
        );
      break;
    case 'summary':
    case 'matrix':
      if (!(r.measures ?? []).length) fail('/measures', 'required', `A ${shape} report needs at least one measure`);
      if (shape === 'matrix' && !r.pivot) fail('/pivot', 'required', 'A matrix report needs a pivot dimension');
      if (shape === 'summary' && r.pivot) fail('/pivot', 'invalid_option', 'Only a matrix has a pivot');
      if (r.top) {
        if (!dims.length) fail('/top', 'invalid_option', 'top keeps groups of the first dimension: add one');
        if (!measures.has(r.top.by) || measures.get(r.top.by))
          fail('/top/by', 'unknown_measure', `"${r.top.by}" is not an aggregate measure of this report`);
        if (dims[0]?.tree || dims[0]?.bucket)
          fail(
            '/top',
            'invalid_option',
            `top keeps the largest groups of a field; it can't cut ${dims[0]?.tree ? 'a tree' : 'periods'}`,
          );
      }
      (r.sort ?? []).forEach(
        (s, i) =>
          measures.has(s.by) || fail(pointer('sort', i, 'by'), 'unknown_measure', `"${s.by}" is not a measure of this report`),
      );
      if (r.columns) fail('/columns', 'invalid_option', 'columns are for tabular reports');
      break;
    case 'funnel':
    case 'time_in_stage':
      if (!r.funnel) fail('/funnel', 'required', `A ${shape} report needs "funnel": { "field": … }`);
      else stateField('/funnel', shape === 'time_in_stage' || r.funnel.mode === 'history');
      if (dims.length || r.pivot || r.top || r.columns)
        fail(
          '/' + (dims.length ? 'dimensions' : r.pivot ? 'pivot' : r.top ? 'top' : 'columns'),
          'invalid_option',
          `A ${shape} report groups by its stages only`,
        );
      if (shape === 'time_in_stage' && r.measures)
        fail('/measures', 'invalid_option', 'time in stage has fixed measures (stays, average and median days)');
      (r.measures ?? []).forEach((m, i) => {
        if (m.derive)
          fail(pointer('measures', i, 'derive'), 'invalid_measure', 'A funnel takes aggregate measures (conversion is computed)');
        else if (!['count', 'sum'].includes(m.aggregate ?? 'count'))
          fail(pointer('measures', i, 'aggregate'), 'invalid_measure', 'A funnel adds stages up: its measures are count or sum');
      });
      break;
  }
  return errors;
}
