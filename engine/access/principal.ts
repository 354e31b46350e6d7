/**
 * Who is acting: a user, with everything that widens what they may see — the users they act for
 * through an active delegation (工作代理) and the department subtrees of all of them. Built once per
 * session and cached (engine/auth/service.ts); scopes read it when they become SQL.
 */
import type { Lang } from '../model/language.js';
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Database, Db } from '../db/database.js';
import type { AppModel } from '../model/compile.js';
import type { RoleDoc } from './role.js';

export interface Principal {
  userId: string;
  username: string;
  displayName: string;
  departmentId: string | null;
  /** Roles held, plus those of the users acted for. */
  roles: string[];
  /** The user and everyone they act for: "own" records are owned by one of these. */
  selves: string[];
  /** Departments of `selves`. */
  departments: string[];
  /** Those departments and every department below them. */
  departmentTrees: string[];
  /** Users in `departments` and in `departmentTrees`: department scopes compare owners with these. */
  departmentMembers: string[];
  treeMembers: string[];
  /** Rights outside records (metadata.deploy, users.manage, audit.read). */
  system: ReadonlySet<string>;
  /** What json-logic sees as `$user`. */
  context: Record<string, unknown>;
  /** The user's chosen language (the user's `language` field), before the browser's Accept-Language. */
  language?: Lang;
  /** The user's time zone (the `time_zone` field), else the field's default (the organisation's); none: the browser's. */
  timeZone?: string;
}

interface UserRow {
  id: string;
  username: string;
  display_name: string;
  department: string | null;
  manager: string | null;
  roles: string[] | null;
  employment_status: string | null;
  language?: string | null;
  time_zone?: string | null;
}

/**
 * Loads the principal of an active user; undefined when the user is gone or has left. `db`: a transaction
 * to read in (the engine acting for a user inside a change — on the embedded database, the only connection).
 */
export async function loadPrincipal(
  database: Database,
  model: AppModel,
  userId: string,
  db: Db = database.db,
): Promise<Principal | undefined> {
  const users = model.entity('user');
  const departments = model.entity('department');
  if (!users || !departments) return undefined;
  const c = users.columns;
  const select = {
    id: c.id,
    username: c.username,
    display_name: c.display_name,
    department: c.department,
    manager: c.manager,
    roles: c.roles,
    employment_status: c.employment_status,
    // A database deployed before the field existed has no such column: then there is no preference.
    ...(c.language ? { language: c.language } : {}),
    ...(c.time_zone ? { time_zone: c.time_zone } : {}),
  };
  const [me] = (await db
    .select(select)
    .from(users.table)
    .where(and(eq(c.id, userId), isNull(c.deleted_at)))) as UserRow[];
  if (me?.employment_status !== 'active') return undefined;

  const delegators = await database.rows<{ delegator: string }>(
    sql`
    select distinct delegator from auth.delegations
    where delegate = ${userId} and revoked_at is null and starts_at <= now() and ends_at > now()`,
    db,
  );
  const others = delegators.length
    ? ((await db
        .select(select)
        .from(users.table)
        .where(
          and(
            inArray(
              c.id,
              delegators.map((d) => d.delegator),
            ),
            isNull(c.deleted_at),
          ),
        )) as UserRow[])
    : [];
  const all = [me, ...others];
  const depts = [...new Set(all.map((u) => u.department).filter((d): d is string => Boolean(d)))];
  const d = departments.columns;
  const trees = depts.length
    ? await database.rows<{ id: string }>(
        sql`
        with recursive tree(id) as (
          select ${d.id} from ${departments.table} where ${inArray(d.id, depts)} and ${d.deleted_at} is null
          union
          select child.id from ${departments.table} child join tree on child.parent = tree.id where child.deleted_at is null)
        select id from tree`,
        db,
      )
    : [];
  // Resolved once per session, so a department scope is an owner_id = any($ids) test on each row
  // rather than a join per row.
  const treeIds = trees.map((t) => t.id);
  const members = treeIds.length
    ? ((await db.select({ id: c.id, department: c.department }).from(users.table).where(inArray(c.department, treeIds))) as {
        id: string;
        department: string;
      }[])
    : [];
  const roles = [...new Set(all.flatMap((u) => u.roles ?? []))].sort();
  const system = new Set(roles.flatMap((r) => model.documents.get<RoleDoc>('role', r)?.system ?? []));
  return {
    userId: me.id,
    username: me.username,
    displayName: me.display_name,
    departmentId: me.department,
    roles,
    selves: all.map((u) => u.id),
    departments: depts,
    departmentTrees: treeIds,
    departmentMembers: members.filter((m) => depts.includes(m.department)).map((m) => m.id),
    treeMembers: members.map((m) => m.id),
    system,
    context: { id: me.id, username: me.username, department: me.department, manager: me.manager, roles },
    // Dictionary values are identifiers: zh_cn stands for zh-CN.
    ...(me.language === 'en' ? { language: 'en' as const } : me.language === 'zh_cn' ? { language: 'zh-CN' as const } : {}),
    ...timeZoneOf(me.time_zone ?? users.field('time_zone')?.doc.default),
  };
}

const timeZoneOf = (tz: unknown) => (typeof tz === 'string' && tz ? { timeZone: tz } : {});
