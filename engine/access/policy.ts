/**
 * Turns role documents into what the pipeline enforces. For a set of roles and an entity it yields,
 * per action, the scopes granted (their union applies) and the readable and writable fields. Scopes
 * become SQL conditions, so a sales rep's list costs what an admin's costs: no post-filtering.
 */
import { inArray, or, sql, type SQL } from 'drizzle-orm';
import { AppError } from '../errors.js';
import type { AppModel, CompiledEntity } from '../model/compile.js';
import { SYSTEM_FIELDS } from '../model/system-fields.js';
import { compileFilter } from '../rules/to-sql.js';
import { filterScope } from '../model/sql-refs.js';
import { evaluateRule, isTruthy } from '../rules/evaluate.js';
import type { Action, Grant, RoleDoc, Scope } from './role.js';
import type { Principal } from './principal.js';

export interface EntityAccess {
  /** Scopes granted per action; empty means the action is not allowed at all. */
  scopes: Record<Action, Scope[]>;
  /** Readable fields, or null for all. System fields are always readable. */
  readable: ReadonlySet<string> | null;
  /** Writable fields, or null for all. */
  writable: ReadonlySet<string> | null;
}

const ACTIONS: Action[] = ['read', 'create', 'update', 'delete', 'export', 'import', 'assign', 'share', 'print'];

export const forbidden = (message: string, details: { path: string; message: string; code?: string }[] = []) =>
  new AppError(403, 'forbidden', message, details);

/** Per model version: access by (role set, entity), computed once and cached. */
export class Policy {
  private readonly cache = new Map<string, EntityAccess>();
  constructor(private readonly model: AppModel) {}

  access(principal: Principal, entity: CompiledEntity): EntityAccess {
    const key = `${principal.roles.join(',')}|${entity.name}`;
    let access = this.cache.get(key);
    if (!access) this.cache.set(key, (access = this.compute(principal.roles, entity)));
    return access;
  }

  private compute(roles: string[], entity: CompiledEntity): EntityAccess {
    const scopes = Object.fromEntries(ACTIONS.map((a) => [a, [] as Scope[]])) as Record<Action, Scope[]>;
    let readable: Set<string> | null = new Set();
    let writable: Set<string> | null = new Set();
    for (const role of roles) {
      const doc = this.model.documents.get<RoleDoc>('role', role);
      // A grant naming the entity overrides the role's "*" grant.
      const grant: Grant | undefined =
        doc?.grants.find((g) => g.entity === entity.name) ?? doc?.grants.find((g) => g.entity === '*');
      if (!grant) continue;
      for (const action of ACTIONS) {
        const given = grant[action];
        for (const scope of Array.isArray(given) ? given : [given]) if (scope && scope !== 'none') scopes[action].push(scope);
      }
      if (!ACTIONS.some((a) => grant[a] && grant[a] !== 'none')) continue;
      const read = grant.fields?.read;
      const write = grant.fields?.write ?? read;
      readable = readable && read ? new Set([...readable, ...read]) : null;
      writable = writable && write ? new Set([...writable, ...write]) : null;
    }
    return { scopes, readable, writable };
  }
}

export const canRead = (access: EntityAccess, field: string) =>
  SYSTEM_FIELDS.has(field) || !access.readable || access.readable.has(field);
export const canWrite = (access: EntityAccess, field: string) => !access.writable || access.writable.has(field);

/**
 * How many rows a condition will be tested on: many (a list, a report: the shares are read once into a
 * hash table, `id in (select …)`), or few (a record read by id, a look-up of a few referenced ids: each
 * row's shares are probed by its id, `exists (…)` — setting up the hash cost several times the rest of
 * such a read).
 */
export type ConditionUse = 'many' | 'few';

/**
 * The SQL condition selecting the records an action may touch: the union of the granted scopes, plus
 * records shared with the user (for read, and for update when shared for editing).
 * `undefined` means unrestricted. Throws 403 when no role grants the action at all: as in Salesforce,
 * sharing widens which rows an action reaches, never which actions a user has.
 */
export function scopeCondition(
  _model: AppModel,
  entity: CompiledEntity,
  access: EntityAccess,
  action: Action,
  principal: Principal,
  use: ConditionUse = 'many',
): SQL | undefined {
  const scopes = access.scopes[action];
  const shareLevel = action === 'read' ? ['read', 'edit'] : action === 'update' ? ['edit'] : undefined;
  if (!scopes.length) throw forbidden(`You may not ${action} ${entity.name} records`);
  if (scopes.includes('all')) return undefined;
  const owner = entity.columns.owner_id;
  // An array parameter: PostgreSQL tests membership with a hash, whatever the number of owners.
  const ownedBy = (users: string[]) => (users.length ? sql`${owner} = any(${sql.param(users)}::uuid[])` : sql`false`);
  const parts: SQL[] = scopes.map((scope) => {
    if (scope === 'own') return ownedBy(principal.selves);
    if (scope === 'department') return ownedBy(principal.departmentMembers);
    if (scope === 'department_tree') return ownedBy(principal.treeMembers);
    return compileFilter(
      (scope as { when: unknown }).when,
      filterScope(entity, { $user: principal.context, $now: new Date().toISOString() }),
    );
  });
  if (shareLevel) {
    const sharedWith = sql`access in ${shareLevel} and (${inArray(sql`user_id`, principal.selves)} or ${principal.departments.length ? inArray(sql`department_id`, principal.departments) : sql`false`})`;
    parts.push(
      use === 'few'
        ? sql`exists (select 1 from auth.shares where entity = ${entity.name} and record_id = ${entity.columns.id} and ${sharedWith})`
        : sql`${entity.columns.id} in (select record_id from auth.shares where entity = ${entity.name} and ${sharedWith})`,
    );
  }
  return parts.length === 1 ? parts[0] : or(...parts)!;
}

const readingNow = new WeakMap<Scope[], boolean>();
/** Whether a granted scope of the action is a rule that reads the time ($now): its SQL differs per call. */
export function scopesReadNow(access: EntityAccess, action: Action): boolean {
  const scopes = access.scopes[action];
  let reads = readingNow.get(scopes);
  if (reads === undefined)
    readingNow.set(scopes, (reads = scopes.some((s) => typeof s === 'object' && JSON.stringify(s.when).includes('"$now'))));
  return reads;
}

/** For a record in memory (a new one): does any granted scope of the action admit it? */
export function scopeAdmits(
  access: EntityAccess,
  action: Action,
  principal: Principal,
  record: Record<string, unknown>,
  ownerDepartment: string | null | undefined,
): boolean {
  return access.scopes[action].some((scope) => {
    if (scope === 'all') return true;
    if (scope === 'own') return principal.selves.includes(record.owner_id as string);
    if (scope === 'department') return ownerDepartment != null && principal.departments.includes(ownerDepartment);
    if (scope === 'department_tree') return ownerDepartment != null && principal.departmentTrees.includes(ownerDepartment);
    return isTruthy(
      evaluateRule((scope as { when: unknown }).when, { ...record, $user: principal.context, $now: new Date().toISOString() }),
    );
  });
}
