/** Who an operation runs for, and the shapes and limits every record operation shares. */
import type { Principal } from '../access/principal.js';
import type { Lang } from '../model/language.js';

export interface OperationContext {
  /** The acting user. */
  principal: Principal | null;
  /** The engine's own calls skip permission checks — and must say so: this is never the default. */
  privileged?: boolean;
  lang: Lang;
  /** false: record-change automations do not run for this operation's writes (an import may ask so). */
  automations?: boolean;
  /**
   * Where `warn` actions of automations leave their warnings for the caller (the HTTP routes send them
   * as `meta.warnings`); absent: warnings are dropped.
   */
  warnings?: Warning[];
  /** How deep in automations this write is (an automation's update_record of a record with automations of its own). */
  depth?: number;
  /**
   * Set by a parent's write of a child collection (a quote's lines): the caller may update that parent,
   * so its rows are theirs to change and remove whoever created them — the child's action rights and
   * field permissions still apply, its row scopes give way to the parent's (engine/data/operations/children.ts).
   */
  rowsOf?: RowsOf;
}

/** The rows of one parent record in a child entity: `entity` rows whose `via` is `parentId`. */
export interface RowsOf {
  entity: string;
  via: string;
  parentId: string;
}

/** A warning of a `warn` action: the write went through, the caller is told. */
export interface Warning {
  code: string;
  message: string;
  path: string;
}

/** The explicitly privileged context of the engine itself (seeding, cascades, jobs). */
export const engineContext = (lang: Lang = 'en'): OperationContext => ({ principal: null, privileged: true, lang });

export interface Page {
  data: Record<string, unknown>[];
  nextCursor: string | null;
  total?: number;
  /** With `sum=`: each summed field's total over every matching record (0 when none has a value). */
  sums?: Record<string, number>;
}

export const MAX_BULK = 1000;
/** PostgreSQL accepts at most 65,535 bound parameters per statement. */
export const MAX_PARAMS = 65_000;
