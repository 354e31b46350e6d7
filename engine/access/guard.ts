/**
 * The authorization step of the operation pipeline, for one operation context. A privileged context
 * (the engine's own calls, which must say so explicitly) passes everything; every other context is
 * checked against the principal's roles.
 */
import type { SQL } from 'drizzle-orm';
import { AppError, pointer } from '../errors.js';
import type { AppModel, CompiledEntity } from '../model/compile.js';
import type { Action } from './role.js';
import type { Principal } from './principal.js';
import {
  canRead,
  canWrite,
  forbidden,
  Policy,
  scopeAdmits,
  scopeCondition,
  scopesReadNow,
  type ConditionUse,
  type EntityAccess,
} from './policy.js';

const policies = new WeakMap<AppModel, Policy>();
const policyFor = (model: AppModel) => {
  let policy = policies.get(model);
  if (!policy) policies.set(model, (policy = new Policy(model)));
  return policy;
};

export class Guard {
  constructor(
    private readonly model: AppModel,
    readonly principal: Principal | null,
    readonly privileged: boolean,
  ) {
    if (!privileged && !principal) throw new AppError(401, 'unauthenticated', 'Log in first');
  }

  /** The principal's id for stamps (created_by …); null for the engine's own writes. */
  get userId(): string | null {
    return this.principal?.userId ?? null;
  }

  access(entity: CompiledEntity): EntityAccess | null {
    return this.privileged ? null : policyFor(this.model).access(this.principal!, entity);
  }

  /** SQL selecting the records the action may touch; undefined = all. 403 when not granted at all. */
  condition(entity: CompiledEntity, action: Action, use: ConditionUse = 'many'): SQL | undefined {
    const access = this.access(entity);
    return access ? scopeCondition(this.model, entity, access, action, this.principal!, use) : undefined;
  }

  /** Like condition() but without throwing: for "may the caller also do X with this record?" columns. */
  optionalCondition(entity: CompiledEntity, action: Action, use: ConditionUse = 'many'): SQL | undefined | false {
    try {
      return this.condition(entity, action, use);
    } catch {
      return false;
    }
  }

  /**
   * Whether the conditions of these actions are the same SQL on every call for this principal: true
   * unless a scope's rule reads the time ($now), which each call binds anew.
   */
  conditionsFixed(entity: CompiledEntity, actions: Action[]): boolean {
    const access = this.access(entity);
    return !access || actions.every((a) => !scopesReadNow(access, a));
  }

  can(entity: CompiledEntity, action: Action): boolean {
    const access = this.access(entity);
    return !access || access.scopes[action].length > 0;
  }

  assertCan(entity: CompiledEntity, action: Action) {
    if (!this.can(entity, action)) throw forbidden(`You may not ${action} ${entity.name} records`);
  }

  /** Does a granted scope of the action admit this record (held in memory, e.g. before insert)? */
  admits(entity: CompiledEntity, action: Action, record: Record<string, unknown>, ownerDepartment: string | null | undefined) {
    const access = this.access(entity);
    return !access || scopeAdmits(access, action, this.principal!, record, ownerDepartment);
  }

  readable(entity: CompiledEntity): (field: string) => boolean {
    const access = this.access(entity);
    return access ? (field) => canRead(access, field) : () => true;
  }

  /** Refuses naming a field the caller may not read (in a filter, sort, field list, expand…). */
  checkReadable(entity: CompiledEntity) {
    const readable = this.readable(entity);
    return (field: string, param: string) => {
      if (!readable(field)) {
        throw new AppError(
          403,
          'field_not_readable',
          `You may not read ${entity.name}.${field}, so you can't use it in ${param}`,
          [{ path: `/query/${param}`, code: 'field_not_readable', message: `${field} is not readable` }],
        );
      }
    };
  }

  /** Removes the fields the caller may not read from records (in place). */
  strip(entity: CompiledEntity, records: Record<string, unknown>[]) {
    const access = this.access(entity);
    if (!access?.readable) return records;
    for (const record of records) for (const key of Object.keys(record)) if (!canRead(access, key)) delete record[key];
    return records;
  }

  /** Refuses writing fields the caller may not write, naming each. */
  assertWritable(entity: CompiledEntity, fields: string[], prefix = '') {
    const access = this.access(entity);
    if (!access) return;
    const denied = fields.filter((f) => f !== 'owner_id' && f !== 'version' && !(canRead(access, f) && canWrite(access, f)));
    if (denied.length) {
      throw new AppError(
        403,
        'field_not_writable',
        `You may not write ${denied.map((f) => `${entity.name}.${f}`).join(', ')}`,
        denied.map((f) => ({ path: prefix + pointer(f), code: 'field_not_writable', message: `${f} is not writable for you` })),
      );
    }
  }
}
