/**
 * The demo-data generator: a small declarative language inside sample apps' data/*.json, so that five
 * hundred realistic records are a few lines of JSON rather than five hundred hand-written ones. It is
 * pure — a seeded pseudo-random stream, the current time and the records generated so far in, values
 * out — so the same seed on the same day gives the same data. Loading them is load.ts's job.
 *
 * A generator is a JSON value; objects with one `$`-operator key compute, everything else is literal.
 * See docs/metadata.md ("Demo data") for the operators.
 */
import { pointer } from '../errors.js';
import { evaluateRule } from '../rules/evaluate.js';

/** A file of generated sets, as written in a sample app's data/ folder. */
export interface DemoFile {
  seed?: number;
  /** Named lists, for `$pick` / `$some` by name. */
  lists?: Record<string, unknown[]>;
  /** When the business works: every `$datetime` drawn between two different offsets, and every walk event, falls between these hours of its day. */
  workingHours?: WorkingHours;
  sets: DemoSet[];
}

export interface WorkingHours {
  /** An IANA time zone (the organisation's): "Asia/Shanghai". */
  zone: string;
  /** From and to, in hours of the day (9 and 18: 09:00–18:00). */
  from: number;
  to: number;
}

export interface DemoSet {
  /** Name other sets refer to with `$ref`. */
  name: string;
  entity: string;
  /** How many records, or … */
  count?: unknown;
  /**
   * … no new records: walk the records of an earlier set (those matching `where`) — a contract signed
   * once its payment plan, created after it, is there. `values` is then left out.
   */
  walkOf?: { set: string; where?: Record<string, unknown> };
  /** … records per record of an earlier set (bound as `$parent`), optionally only those matching `where`. */
  forEach?: { set: string; where?: Record<string, unknown>; count?: unknown };
  /** Row variables, evaluated in order before everything else (later ones see earlier ones). */
  let?: Record<string, unknown>;
  /** Username (or user id) the record is created as; default the administrator of the load. */
  actor?: unknown;
  values?: Record<string, unknown>;
  /** When the record was created (a datetime generator); its history follows from there. */
  createdAt?: unknown;
  walk?: DemoWalk;
  /** Fields whose generated values must differ within the set: a row that repeats one is drawn again. */
  unique?: string[];
}

/** Events to fire on the new record, one after another, `gapDays` apart, as of `createdAt`. */
export interface DemoWalk {
  /**
   * A list of workflow events; `$submit`, `$approve`, `$reject`, `$recall` act on the record's approval,
   * `$update` changes fields (its input: the fields and their values) as an ordinary update.
   */
  events: unknown;
  gapDays?: unknown;
  /** Transition input by event. */
  inputs?: Record<string, unknown>;
  /** Who fires an event (username or user id), by event; default the row's actor. */
  actors?: Record<string, unknown>;
}

export interface PlannedEvent {
  event: string;
  at: Date;
  actor?: string;
  input?: unknown;
}

export interface PlannedRow {
  index: number;
  actor?: string;
  values: Record<string, unknown>;
  createdAt?: Date;
  events: PlannedEvent[];
}

export class SeedError extends Error {
  constructor(
    readonly file: string,
    readonly path: string,
    message: string,
  ) {
    super(`${file}${path ? ` ${path}` : ''}: ${message}`);
    this.name = 'SeedError';
  }
}

const DAY = 86_400_000;
const MINUTE = 60_000;

/** mulberry32: small, fast, good enough for demo data, and the same everywhere. */
export function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A set's stream depends on the file's seed and the set's name only: adding a set moves no other. */
export function streamFor(seed: number, name: string) {
  let h = seed >>> 0;
  for (const ch of name) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return random(h);
}

/**
 * A time moved to a random time of day within the working hours, on the same day in the zone — drawn from
 * a stream of its own, so that the data's other values stay what the set's stream gives them. Demo
 * records made at 03:00 and a deal's every step at the creation's minute look generated; people work by day.
 */
export function workingHoursClock({ zone, from, to }: WorkingHours, rng: () => number, file = ''): (at: Date) => Date {
  let local: Intl.DateTimeFormat;
  try {
    local = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      ...{ year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' },
    });
  } catch {
    throw new SeedError(file, '/workingHours/zone', `"${zone}" is not a time zone`);
  }
  if (!(Number.isFinite(from) && Number.isFinite(to) && from >= 0 && from < to && to <= 24))
    throw new SeedError(file, '/workingHours', 'needs 0 ≤ from < to ≤ 24 (hours of the day)');
  return (at) => {
    const p = Object.fromEntries(local.formatToParts(at).map((x) => [x.type, Number(x.value)]));
    const midnight = Date.UTC(p.year, p.month - 1, p.day);
    // The zone's offset at that instant: its wall clock read as if it were UTC, less the instant.
    const offset = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(at.getTime() / 1000) * 1000;
    const minute = Math.floor((from + rng() * (to - from)) * 60);
    return new Date(midnight + minute * 60_000 - offset);
  };
}

export interface GeneratorScope {
  file: string;
  lists: Record<string, unknown[]>;
  now: Date;
  rng: () => number;
  /** Moves a time to a working hour of its day (workingHours); none: times stay as drawn. */
  clock?: (at: Date) => Date;
  /** Records of earlier sets, by set name, as they stand now. */
  sets: Map<string, Record<string, unknown>[]>;
  /** User ids by username. */
  users: Map<string, string>;
}

const isOperator = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).some((k) => k.startsWith('$'));

const OPERATORS = [
  '$at',
  '$logic',
  '$pick',
  '$weighted',
  '$int',
  '$number',
  '$chance',
  '$var',
  '$text',
  '$date',
  '$datetime',
  '$ref',
  '$user',
  '$some',
  '$digits',
  '$switch',
  '$pad',
];

/** A date as YYYY-MM-DD (UTC). */
const day = (d: Date) => d.toISOString().slice(0, 10);

/**
 * Where a generator sits in the file: a JSON pointer, or what makes one. The pointer is only wanted
 * when an error names it, and a load evaluates generators some hundred thousand times: it is joined
 * (and escaped) then, not at every step down.
 */
export type Where = string | (() => string);
const text = (where: Where) => (typeof where === 'string' ? where : where());
const below =
  (where: Where, ...segments: (string | number)[]): Where =>
  () =>
    text(where) + pointer(...segments);

function failAt(scope: GeneratorScope, where: Where, op: string, message: string): never {
  throw new SeedError(scope.file, text(where) + pointer(op), message);
}

/** A named list of the file, or a non-empty list given in place. */
function listOf(scope: GeneratorScope, where: Where, op: string, value: unknown): unknown[] {
  if (typeof value === 'string') return scope.lists[value] ?? failAt(scope, where, op, `there is no list "${value}"`);
  if (!Array.isArray(value) || value.length === 0) return failAt(scope, where, op, 'expects a non-empty list or the name of one');
  return value;
}

function rangeOf(scope: GeneratorScope, where: Where, op: string, value: unknown): [number, number] {
  if (!Array.isArray(value) || value.length !== 2 || !value.every((n) => typeof n === 'number') || value[0] > value[1])
    return failAt(scope, where, op, 'expects [min, max] numbers, min ≤ max');
  return value as [number, number];
}

/** The generator under `key` of an operator's object (its argument), evaluated. */
function argOf(gen: Record<string, unknown>, vars: Record<string, unknown>, scope: GeneratorScope, where: Where, key: string) {
  return evaluate(gen[key], vars, scope, below(where, key));
}

/**
 * Evaluates a generator at `path` (a JSON pointer into the file, for errors) with the row's variables.
 */
export function evaluate(gen: unknown, vars: Record<string, unknown>, scope: GeneratorScope, path: Where): unknown {
  if (Array.isArray(gen)) return gen.map((g, i) => evaluate(g, vars, scope, below(path, i)));
  if (typeof gen !== 'object' || gen === null) return gen;
  if (!isOperator(gen)) {
    const fields = gen as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k in fields) out[k] = evaluate(fields[k], vars, scope, below(path, k));
    return out;
  }
  const op = Object.keys(gen).find((k) => k.startsWith('$'))!;
  const { rng } = scope;
  switch (op) {
    case '$pick': {
      // Picks first, then evaluates only the chosen element (its generators run once).
      const items = listOf(scope, path, op, typeof gen.$pick === 'string' ? gen.$pick : gen.$pick);
      const i = Math.floor(rng() * items.length);
      return evaluate(items[i], vars, scope, below(path, op, i));
    }
    case '$weighted': {
      const spec = gen.$weighted;
      const pairs: [unknown, number][] = Array.isArray(spec) ? (spec as [unknown, number][]) : Object.entries(spec as object);
      if (!pairs.length || pairs.some((p) => !Array.isArray(p) || typeof p[1] !== 'number' || p[1] < 0))
        return failAt(scope, path, op, 'expects [[value, weight], …] or { value: weight }');
      const total = pairs.reduce((s, p) => s + p[1], 0);
      let r = rng() * total;
      const i = pairs.findIndex((p) => (r -= p[1]) < 0);
      const k = i < 0 ? pairs.length - 1 : i;
      return evaluate(pairs[k][0], vars, scope, below(path, op, k));
    }
    case '$int': {
      const [min, max] = rangeOf(scope, path, op, argOf(gen, vars, scope, path, '$int'));
      return Math.floor(min + rng() * (max - min + 1));
    }
    case '$number': {
      const [min, max] = rangeOf(scope, path, op, argOf(gen, vars, scope, path, '$number'));
      const step = (argOf(gen, vars, scope, path, 'step') as number | undefined) ?? 0.01;
      return Math.round((min + rng() * (max - min)) / step) * step;
    }
    case '$chance': {
      const p = argOf(gen, vars, scope, path, '$chance');
      if (typeof p !== 'number' || p < 0 || p > 1) return failAt(scope, path, op, 'expects a probability between 0 and 1');
      return rng() < p
        ? (argOf(gen, vars, scope, path, 'then') ?? true)
        : 'else' in gen
          ? argOf(gen, vars, scope, path, 'else')
          : null;
    }
    case '$var': {
      const name = argOf(gen, vars, scope, path, '$var');
      if (typeof name !== 'string') return failAt(scope, path, op, 'expects a variable name');
      const [head, ...rest] = name.split('.');
      if (!(head in vars))
        return failAt(scope, path, op, `there is no variable "${head}" (known: ${Object.keys(vars).join(', ')})`);
      return (
        rest.reduce<unknown>(
          (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
          vars[head],
        ) ?? null
      );
    }
    case '$text': {
      const template = gen.$text;
      if (typeof template !== 'string') return failAt(scope, path, op, 'expects a template string');
      return template.replace(/\{([^{}:]+)(?::(\d+))?\}/g, (_, name: string, width?: string) => {
        const value = evaluate({ $var: name }, vars, scope, below(path, op));
        const text = value === null ? '' : String(value);
        return width ? text.padStart(Number(width), '0') : text;
      });
    }
    case '$date':
    case '$datetime': {
      // Days relative to now, or to `from` (a date or datetime), uniformly between the two bounds.
      const from = 'from' in gen ? argOf(gen, vars, scope, path, 'from') : undefined;
      const base = from === undefined ? scope.now.getTime() : new Date(String(from)).getTime();
      if (Number.isNaN(base)) return failAt(scope, path, op, `"from" is not a date: ${JSON.stringify(from)}`);
      const [lo, hi] = rangeOf(scope, path, op, argOf(gen, vars, scope, path, op));
      const at = new Date(base + (lo + rng() * (hi - lo)) * DAY);
      if (op === '$date') return day(at);
      if (!scope.clock || lo === hi) return at.toISOString(); // a fixed offset (an appointment's end from its start) is meant
      // A random time: at a working hour of its day — still after (or before) the time it is drawn from.
      const placed = scope.clock(at);
      const wrongSide = from !== undefined && ((lo >= 0 && placed.getTime() < base) || (hi <= 0 && placed.getTime() > base));
      return (wrongSide ? at : placed).toISOString();
    }
    case '$ref': {
      const name = argOf(gen, vars, scope, path, '$ref');
      const records = scope.sets.get(String(name));
      if (!records) return failAt(scope, path, op, `there is no earlier set "${String(name)}"`);
      const where = (argOf(gen, vars, scope, path, 'where') ?? {}) as Record<string, unknown>;
      const matching = Object.keys(where).length
        ? records.filter((r) => Object.entries(where).every(([k, v]) => r[k] === v))
        : records;
      return matching.length ? matching[Math.floor(rng() * matching.length)] : null;
    }
    case '$user': {
      const name = argOf(gen, vars, scope, path, '$user');
      if (typeof name !== 'string') return failAt(scope, path, op, 'expects a username');
      return scope.users.get(name) ?? failAt(scope, path, op, `there is no user "${name}"`);
    }
    case '$some': {
      // Several distinct elements of a list (a multi-select value).
      const items = [...listOf(scope, path, op, gen.$some)];
      const [min, max] = rangeOf(scope, path, op, argOf(gen, vars, scope, path, 'count') ?? [1, 2]);
      const n = Math.min(items.length, Math.floor(min + rng() * (max - min + 1)));
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push(items.splice(Math.floor(rng() * items.length), 1)[0]);
      return out;
    }
    case '$at': {
      // The index-th element (1-based, wrapping): walks a list in order, e.g. a fixed catalogue by $i.
      const items = listOf(scope, path, op, gen.$at);
      const n = argOf(gen, vars, scope, path, 'index');
      if (!Number.isInteger(n)) return failAt(scope, path, op, '"index" must give a whole number');
      return evaluate(items[((((n as number) - 1) % items.length) + items.length) % items.length], vars, scope, below(path, op));
    }
    case '$logic': {
      // json-logic over the row's variables: arithmetic and the like ({"$logic": {"*": [{"var": "contract.amount"}, 0.3]}}).
      return evaluateRule(gen.$logic, vars);
    }
    case '$digits': {
      const n = argOf(gen, vars, scope, path, '$digits');
      if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > 64)
        return failAt(scope, path, op, 'expects a length from 1 to 64');
      return Array.from({ length: n as number }, () => Math.floor(rng() * 10)).join('');
    }
    case '$pad': {
      const [value, width] = argOf(gen, vars, scope, path, '$pad') as [unknown, number];
      return String(value).padStart(width, '0');
    }
    case '$switch': {
      const key = String(argOf(gen, vars, scope, path, '$switch'));
      const cases = gen.cases as Record<string, unknown> | undefined;
      if (!cases || typeof cases !== 'object') return failAt(scope, path, op, 'expects "cases"');
      if (key in cases) return evaluate(cases[key], vars, scope, below(path, 'cases', key));
      return 'default' in gen ? argOf(gen, vars, scope, path, 'default') : null;
    }
    default:
      return failAt(scope, path, op, `unknown generator "${op}" (known: ${OPERATORS.join(', ')})`);
  }
}

/** Evaluates `let` bindings in order, each seeing the earlier ones. */
function bind(lets: Record<string, unknown> | undefined, vars: Record<string, unknown>, scope: GeneratorScope, path: Where) {
  for (const [name, gen] of Object.entries(lets ?? {})) vars[name] = evaluate(gen, vars, scope, below(path, 'let', name));
  return vars;
}

/** The rows of one set: values, actor, creation time and the events to walk, with their times. */
export function planSet(set: DemoSet, index: number, scope: GeneratorScope): PlannedRow[] {
  const path = pointer('sets', index);
  const fail = (where: string, message: string): never => {
    throw new SeedError(scope.file, path + where, message);
  };
  if (typeof set.name !== 'string' || typeof set.entity !== 'string') fail('', 'a set needs a "name" and an "entity"');
  if (!set.walkOf && (typeof set.values !== 'object' || set.values === null)) fail('/values', 'a set needs "values"');
  if (set.walkOf && !set.walk) fail('/walk', 'a walkOf set needs "walk"');
  // Each row is one draw from the stream; parents first, then the row's own generators.
  const parents: Record<string, unknown>[] = [];
  const matches = (r: Record<string, unknown>, where: Record<string, unknown>) =>
    Object.entries(where).every(([k, v]) => (Array.isArray(v) ? v.includes(r[k]) : r[k] === v));
  if (set.walkOf) {
    const records = scope.sets.get(set.walkOf.set) ?? fail('/walkOf/set', `there is no earlier set "${set.walkOf.set}"`);
    parents.push(...records.filter((r) => matches(r, set.walkOf!.where ?? {})));
  } else if (set.forEach) {
    const records = scope.sets.get(set.forEach.set) ?? fail('/forEach/set', `there is no earlier set "${set.forEach.set}"`);
    const where = set.forEach.where ?? {};
    for (const parent of records.filter((r) =>
      Object.entries(where).every(([k, v]) => (Array.isArray(v) ? v.includes(r[k]) : r[k] === v)),
    )) {
      const n = evaluate(
        set.forEach.count ?? 1,
        { $parent: parent, $now: scope.now.toISOString() },
        scope,
        path + '/forEach/count',
      );
      if (!Number.isInteger(n) || (n as number) < 0) fail('/forEach/count', 'must give a whole number ≥ 0');
      for (let i = 0; i < (n as number); i++) parents.push(parent);
    }
  } else {
    const n = evaluate(set.count, {}, scope, path + '/count');
    if (!Number.isInteger(n) || (n as number) < 0 || (n as number) > 100_000)
      fail('/count', 'must give a whole number from 0 to 100000');
    for (let i = 0; i < (n as number); i++) parents.push({});
  }
  const seen = new Map((set.unique ?? []).map((f) => [f, new Set<string>()]));
  return parents.map((parent, i) => {
    const draw = () => {
      const vars = bind(set.let, { $i: i + 1, $parent: parent, $now: scope.now.toISOString() }, scope, path);
      return {
        vars,
        values: (set.walkOf ? { ...parent } : evaluate(set.values, vars, scope, path + '/values')) as Record<string, unknown>,
      };
    };
    let { vars, values } = draw();
    for (let attempt = 1; (set.unique ?? []).some((f) => seen.get(f)!.has(JSON.stringify(values[f]))); attempt++) {
      if (attempt >= 100)
        fail('/unique', `could not draw a row with unique ${set.unique!.join(', ')} in 100 attempts: widen the lists`);
      ({ vars, values } = draw());
    }
    const actor = set.actor === undefined ? undefined : evaluate(set.actor, vars, scope, path + '/actor');
    for (const f of set.unique ?? []) seen.get(f)!.add(JSON.stringify(values[f]));
    const plannedAt = set.createdAt === undefined ? undefined : String(evaluate(set.createdAt, vars, scope, path + '/createdAt'));
    // Created on a day (a `$date`): at a working hour of it — noon UTC is that day in any zone within ±12 h.
    const onDay = plannedAt !== undefined && scope.clock && /^\d{4}-\d{2}-\d{2}$/.test(plannedAt);
    const planned =
      plannedAt === undefined ? undefined : onDay ? scope.clock!(new Date(`${plannedAt}T12:00:00Z`)) : new Date(plannedAt);
    if (planned && Number.isNaN(planned.getTime())) fail('/createdAt', 'does not give a date');
    // Nothing is created in the future.
    const created = planned && new Date(Math.min(planned.getTime(), scope.now.getTime()));
    const events: PlannedEvent[] = [];
    if (set.walk) {
      const list = evaluate(set.walk.events, vars, scope, path + '/walk/events');
      if (!Array.isArray(list) || list.some((e) => typeof e !== 'string'))
        fail('/walk/events', 'must give a list of event names');
      // A walk of existing records starts from their last change.
      let at = created?.getTime() ?? (set.walkOf ? new Date(String(parent.updated_at)).getTime() : scope.now.getTime());
      // Within working hours, an event still comes after the one before it and not after today.
      let last = at;
      for (const event of list as string[]) {
        const gap = evaluate(set.walk.gapDays ?? 1, vars, scope, path + '/walk/gapDays');
        if (typeof gap !== 'number' || gap < 0) fail('/walk/gapDays', 'must give a number of days ≥ 0');
        at += (gap as number) * DAY;
        const actor =
          set.walk.actors?.[event] === undefined
            ? undefined
            : evaluate(set.walk.actors[event], vars, scope, below(path, 'walk', 'actors', event));
        const input =
          set.walk.inputs?.[event] === undefined
            ? undefined
            : evaluate(set.walk.inputs[event], vars, scope, below(path, 'walk', 'inputs', event));
        // The history stops at today: a recent record has simply not got that far yet. (What the events
        // after it would have drawn is drawn all the same, so that where the walk stops changes no other value.)
        if (at > scope.now.getTime()) continue;
        let when = at;
        if (scope.clock) {
          when = Math.min(Math.max(scope.clock(new Date(at)).getTime(), last + MINUTE), scope.now.getTime());
          last = when;
        }
        events.push({
          event,
          at: new Date(when),
          ...(actor == null ? {} : { actor: String(actor) }),
          ...(input === undefined ? {} : { input }),
        });
      }
    }
    return {
      index: i,
      ...(actor == null ? {} : { actor: String(actor) }),
      values,
      ...(created ? { createdAt: created } : {}),
      events,
    };
  });
}
