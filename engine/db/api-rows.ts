/**
 * Rows of the engine's own tables (deployments, tokens, login history, shares, delegations…) as the API
 * sends them. The drivers hand timestamptz back as text in PostgreSQL's form ('2026-11-27 08:43:57.667+00',
 * with microseconds on PostgreSQL and milliseconds on PGlite) and bigint as a string on one and a number
 * on the other; the API answers the same JSON on both: ISO 8601 instants, safe integers as numbers.
 * Records of entities are rendered elsewhere (engine/data/render.ts, records.ts): only engine tables here.
 */
const PG_INSTANT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}(:\d{2})?$/;

/** One value: an instant as ISO 8601, anything else as it is. */
export function apiValue(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string' && PG_INSTANT.test(value))
    return new Date(value.replace(' ', 'T').replace(/([+-]\d{2})$/, '$1:00')).toISOString();
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : String(value);
  return value;
}

/** Rows with their instants in ISO 8601; `integers` names bigint columns to send as numbers. */
export function apiRows<T>(rows: T[], integers: string[] = []): T[] {
  return rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(row as Record<string, unknown>)) {
      out[key] = integers.includes(key) && value !== null ? Number(value) : apiValue(value);
    }
    return out as T;
  });
}
