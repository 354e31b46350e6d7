import type { Plugin } from '../registry/types.js';
import { coreKinds } from './kinds.js';
import { coreActions } from './actions.js';
import { coreFieldTypes } from './field-types.js';

/** The engine's own contributions, registered exactly like any plugin's. */
/**
 * Whole days from one date or timestamp to another (negative when the second is earlier); null when
 * either is missing or not a date. E.g. days since the last update: {"days_between": [{"var": "updated_at"}, {"var": "$now"}]}.
 */
export function daysBetween(from: unknown, to: unknown): number | null {
  const a = typeof from === 'string' || from instanceof Date ? new Date(from as string).getTime() : NaN;
  const b = typeof to === 'string' || to instanceof Date ? new Date(to as string).getTime() : NaN;
  return Number.isNaN(a) || Number.isNaN(b) ? null : Math.floor((b - a) / 86_400_000);
}

export const corePlugin: Plugin = {
  name: 'core',
  fieldTypes: coreFieldTypes,
  documentKinds: coreKinds,
  actions: coreActions,
  operations: [{ name: 'days_between', evaluate: daysBetween }],
};
