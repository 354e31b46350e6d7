/**
 * The filter builder's conditions and their json-logic: operators per field type (contains, is one of,
 * between, relative dates). Relative dates are kept as tokens and turned into bounds when the list is
 * asked for; a date-time "last n days" ends at $now, the server's context variable.
 */
import { serverNow } from '../api';
import { instantOf, wallClock } from '../time-zone';
import type { FieldInfo } from '../meta';
import type { MessageKey } from '../i18n';

export type Operator = 'containsMe' | 'contains' | 'equals' | 'notEquals' | 'oneOf' | 'gte' | 'lte' | 'between' | 'isEmpty' | 'isNotEmpty' | 'relative';
export type Relative = 'today' | 'last7' | 'last30' | 'thisMonth' | 'thisYear';
export interface Condition {
  field: string;
  op: Operator;
  value?: any;
}

const TEXT = ['text', 'textarea', 'email', 'phone', 'url', 'autonumber'];
const NUMBER = ['integer', 'decimal', 'currency', 'percent', 'number', 'rating'];

export function operatorsFor(field: FieldInfo): Operator[] {
  if (TEXT.includes(field.type)) return ['contains', 'equals', 'isEmpty', 'isNotEmpty'];
  if (field.type === 'picklist') return ['oneOf', 'isEmpty', 'isNotEmpty'];
  if (field.type === 'multipicklist') return ['contains', 'isEmpty'];
  if (field.type === 'users') return ['containsMe', 'contains', 'oneOf', 'isEmpty'];
  if (NUMBER.includes(field.type) || field.type === 'formula') return ['equals', 'gte', 'lte', 'between', 'isEmpty', 'isNotEmpty'];
  if (field.type === 'date' || field.type === 'datetime') return ['relative', 'between', 'gte', 'lte', 'isEmpty', 'isNotEmpty'];
  if (field.type === 'boolean') return ['equals'];
  if (field.type === 'reference') return ['equals', 'isEmpty', 'isNotEmpty'];
  return ['isEmpty', 'isNotEmpty'];
}
export const operatorLabel: Record<Operator, MessageKey> = {
  containsMe: 'includesMe', contains: 'contains', equals: 'equals', notEquals: 'notEquals', oneOf: 'oneOf', gte: 'gte', lte: 'lte', between: 'between',
  isEmpty: 'isEmpty', isNotEmpty: 'isNotEmpty', relative: 'period',
};

const pad = (n: number) => String(n).padStart(2, '0');
const day = (d: Date) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;

/** The periods that look back from now (their date-time range ends at $now); the others are whole calendar periods. */
const PAST: Relative[] = ['last7', 'last30'];

/**
 * [from, to) of a relative range, as dates (YYYY-MM-DD) or instants (ISO): days as the user's time zone
 * counts them, from the server's clock. "Last 7 / 30 days" end today; "today", "this month" and "this
 * year" are the whole day, month or year — a close date later this month is this month's. The URL keeps
 * the token (a saved "last 7 days" stays relative).
 */
export function relativeRange(rel: Relative, kind: 'date' | 'datetime', now = serverNow()): [string, string] {
  // Calendar days counted on UTC dates (no zone of their own), turned into instants in the user's zone.
  const today = wallClock(now.getTime());
  const start = new Date(Date.UTC(today.year, today.month - 1, today.day));
  const end = new Date(start);
  end.setUTCDate(end.getUTCDate() + 1);
  if (rel === 'last7') start.setUTCDate(start.getUTCDate() - 6);
  if (rel === 'last30') start.setUTCDate(start.getUTCDate() - 29);
  if (rel === 'thisMonth') {
    start.setUTCDate(1);
    end.setTime(Date.UTC(today.year, today.month, 1));
  }
  if (rel === 'thisYear') {
    start.setUTCMonth(0, 1);
    end.setTime(Date.UTC(today.year + 1, 0, 1));
  }
  const instant = (d: Date) => instantOf({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() }).toISOString();
  return kind === 'date' ? [day(start), day(end)] : [instant(start), instant(end)];
}

export function toJsonLogic(conditions: Condition[], fields: Map<string, FieldInfo>): unknown {
  const parts = conditions.map((c) => {
    const v = { var: c.field };
    const f = fields.get(c.field);
    switch (c.op) {
      case 'containsMe':
        // A users field listing the current user ($user.id is the server's: the filter stays "me" when shared).
        return { in: [{ var: '$user.id' }, v] };
      case 'contains':
        return { in: [c.value, v] };
      case 'equals':
        return { '==': [v, c.value] };
      case 'notEquals':
        return { '!=': [v, c.value] };
      case 'oneOf':
        // A users field shares a user with the chosen ones; any other field equals one of them.
        if (f?.type === 'users') return { some: [v, { in: [{ var: '' }, c.value ?? []] }] };
        return { in: [v, c.value ?? []] };
      case 'gte':
        return { '>=': [v, c.value] };
      case 'lte':
        return { '<=': [v, c.value] };
      case 'between':
        return { '<=': [c.value?.[0], v, c.value?.[1]] };
      case 'isEmpty':
        return { '==': [v, null] };
      case 'isNotEmpty':
        return { '!=': [v, null] };
      case 'relative': {
        const [from, to] = relativeRange(c.value, f?.type === 'date' ? 'date' : 'datetime');
        // "Last n days" of date-times run up to now: $now is the server's clock at the time of the query.
        return f?.type !== 'date' && PAST.includes(c.value)
          ? { and: [{ '>=': [v, from] }, { '<=': [v, { var: '$now' }] }] }
          : { and: [{ '>=': [v, from] }, { '<': [v, to] }] };
      }
    }
  });
  return parts.length === 0 ? undefined : parts.length === 1 ? parts[0] : { and: parts };
}

export const complete = (c: Condition) =>
  c.op === 'isEmpty' || c.op === 'isNotEmpty' || c.op === 'containsMe' || (c.value !== undefined && c.value !== '' && !(Array.isArray(c.value) && (c.value.length === 0 || c.value.some((x) => x === undefined || x === null))));

/** Every part that is there, as one json-logic filter (undefined: none). */
export const allOf = (parts: unknown[]): unknown => {
  const present = parts.filter(Boolean);
  return present.length === 0 ? undefined : present.length === 1 ? present[0] : { and: present };
};

/** The URL parameters that make a list's filter and search: the kanban opened from a list keeps them. */
export const FILTER_PARAMS = ['view', 'filter', 'where', 'q'] as const;

/**
 * The filter a list's URL describes — the list view's own (`view`), the filter builder's conditions
 * (`filter`), a report's drill-down (`where`) — as one json-logic. The kanban reads the same URL as the
 * list, so it shows the records the list showed; without `view` it takes no list view's filter.
 */
export function urlFilter(params: URLSearchParams, lists: { name: string; filter?: unknown }[], fields: Map<string, FieldInfo>): unknown {
  const listView = params.get('view') ? lists.find((l) => l.name === params.get('view')) : undefined;
  const conditions: Condition[] = JSON.parse(params.get('filter') ?? '[]');
  const where = params.get('where') ? JSON.parse(params.get('where')!) : undefined;
  return allOf([listView?.filter, toJsonLogic(conditions, fields), where]);
}
