/**
 * Saved list views: what a user keeps of a list (columns, sort, filter conditions, search…) under a name,
 * for themselves or shared with roles or everyone. The server stores the view's state as the UI hands it
 * over (an opaque JSON object, size-limited): the list API checks every filter when the view is used, as
 * the user who uses it, so a shared view never shows anyone more than their own rights allow.
 *
 * Who may share: anyone with the roles they hold themselves; with other roles or with everyone only a
 * holder of the `views.share` right (a manager sharing with the reps). Only the owner changes or deletes
 * a view.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import type { DataService, OperationContext } from '../data/service.js';
import { AppError, badRequest, notFound, type ErrorDetail } from '../errors.js';
import { t } from '../model/language.js';
import { UUID } from '../model/ids.js';

export const SAVED_VIEWS_SQL = `
create schema if not exists ui;
create table if not exists ui.saved_views (
  id uuid primary key,
  owner uuid not null,
  entity text not null,
  name text not null,
  state jsonb not null,
  shared_roles text[] not null default '{}',
  shared_all boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index if not exists saved_views_name on ui.saved_views (owner, entity, name);
create index if not exists saved_views_entity on ui.saved_views (entity);
`;

/** The most a view's state may weigh (as JSON text): columns, sort and filter fit easily. */
export const MAX_STATE_BYTES = 16_384;
const MAX_VIEWS_PER_ENTITY = 100;
/** A text[] from a list, bound as one JSON parameter (drizzle would spread an array into a value list). */
const textArray = (list: string[]) => sql`array(select jsonb_array_elements_text(${JSON.stringify(list)}::jsonb))`;

export interface SavedViewInput {
  name?: unknown;
  state?: unknown;
  share?: unknown;
}
interface Share {
  roles: string[];
  everyone: boolean;
}

export class SavedViews {
  constructor(
    private readonly database: Database,
    private readonly data: DataService,
    private readonly newId: () => string,
  ) {}

  /** The entity must exist and be readable by the caller: a view of a list they can't open is no use. */
  private entity(ctx: OperationContext, name: string) {
    const entity = this.data.model().entity(name);
    if (!entity) throw notFound('entity_not_found', t(ctx.lang, `No entity ${name}`, `没有实体 ${name}`));
    this.data.guard(ctx).assertCan(entity, 'read');
    return entity;
  }

  /** The caller's own views of the entity and those shared with them (everyone, or one of their roles). */
  async list(ctx: OperationContext, entityName: string) {
    this.entity(ctx, entityName);
    const me = ctx.principal!;
    const rows = await this.database.rows<Record<string, unknown>>(sql`
      select v.id, v.name, v.state, v.shared_roles as "roles", v.shared_all as "everyone", v.owner,
        u.display_name as "ownerName", v.updated_at as "updatedAt"
      from ui.saved_views v left join "user" u on u.id = v.owner
      where v.entity = ${entityName}
        and (v.owner = ${me.userId} or v.shared_all or v.shared_roles && ${textArray(me.roles)})
      order by (v.owner = ${me.userId}) desc, v.name`);
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      state: r.state,
      share: { roles: r.roles ?? [], everyone: r.everyone },
      owner: r.owner,
      ownerName: r.ownerName ?? null,
      mine: r.owner === me.userId,
      updatedAt: r.updatedAt instanceof Date ? r.updatedAt.toISOString() : r.updatedAt,
    }));
  }

  async create(ctx: OperationContext, entityName: string, body: unknown) {
    this.entity(ctx, entityName);
    const input = this.parse(ctx, body, true);
    const [{ n }] = await this.database.rows<{ n: number }>(
      sql`select count(*)::int as n from ui.saved_views where owner = ${ctx.principal!.userId} and entity = ${entityName}`,
    );
    if (n >= MAX_VIEWS_PER_ENTITY)
      throw new AppError(
        422,
        'too_many_views',
        t(ctx.lang, `At most ${MAX_VIEWS_PER_ENTITY} views per list`, `每个列表最多保存 ${MAX_VIEWS_PER_ENTITY} 个视图`),
      );
    const id = this.newId();
    try {
      await this.database.rows(sql`
        insert into ui.saved_views (id, owner, entity, name, state, shared_roles, shared_all)
        values (${id}, ${ctx.principal!.userId}, ${entityName}, ${input.name}, ${JSON.stringify(input.state)}::jsonb,
          ${textArray(input.share.roles)}, ${input.share.everyone})`);
    } catch (e) {
      throw this.duplicate(ctx, e, input.name!);
    }
    return (await this.list(ctx, entityName)).find((v) => v.id === id)!;
  }

  async update(ctx: OperationContext, entityName: string, id: string, body: unknown) {
    this.entity(ctx, entityName);
    await this.own(ctx, entityName, id);
    const input = this.parse(ctx, body, false);
    const sets = [
      input.name !== undefined ? sql`name = ${input.name}` : undefined,
      input.state !== undefined ? sql`state = ${JSON.stringify(input.state)}::jsonb` : undefined,
      input.shareGiven ? sql`shared_roles = ${textArray(input.share.roles)}, shared_all = ${input.share.everyone}` : undefined,
    ].filter(Boolean);
    if (sets.length)
      try {
        await this.database.rows(
          sql`update ui.saved_views set ${sql.join(sets as never[], sql`, `)}, updated_at = now() where id = ${id}`,
        );
      } catch (e) {
        throw this.duplicate(ctx, e, String(input.name));
      }
    return (await this.list(ctx, entityName)).find((v) => v.id === id)!;
  }

  async remove(ctx: OperationContext, entityName: string, id: string) {
    this.entity(ctx, entityName);
    await this.own(ctx, entityName, id);
    await this.database.rows(sql`delete from ui.saved_views where id = ${id}`);
  }

  /** The view, if it is the caller's; 404 when it does not exist or they can't see it, 403 when only shared with them. */
  private async own(ctx: OperationContext, entityName: string, id: string) {
    const missing = () => notFound('view_not_found', t(ctx.lang, `No saved view ${id}`, `没有已保存的视图 ${id}`));
    if (!UUID.test(id)) throw missing();
    const visible = (await this.list(ctx, entityName)).find((v) => v.id === id);
    if (!visible) throw missing();
    if (!visible.mine && !ctx.privileged)
      throw new AppError(
        403,
        'not_view_owner',
        t(ctx.lang, 'Only the owner may change or delete a view', '只有视图的创建人可以修改或删除它'),
      );
  }

  private duplicate(ctx: OperationContext, e: unknown, name: string) {
    const text =
      String((e as { message?: string })?.message ?? '') + String((e as { cause?: { message?: string } })?.cause?.message ?? '');
    if (/saved_views_name|duplicate key|unique/i.test(text))
      return new AppError(
        409,
        'duplicate_name',
        t(ctx.lang, `You already have a view named ${name}`, `已有名为「${name}」的视图`),
        [{ path: '/name', code: 'duplicate_name', message: t(ctx.lang, 'Name taken', '名称已存在') }],
      );
    return e;
  }

  /** Validates a body: all of it when creating, what is there when updating. Bad input writes nothing. */
  private parse(ctx: OperationContext, body: unknown, creating: boolean) {
    const errors: ErrorDetail[] = [];
    const fail = (path: string, code: string, en: string, zh: string) =>
      errors.push({ path, code, message: t(ctx.lang, en, zh) });
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw badRequest(
        'invalid_body',
        t(ctx.lang, 'Send a JSON object { name, state, share? }', '请发送 JSON 对象 { name, state, share? }'),
      );
    }
    const b = body as SavedViewInput;
    for (const key of Object.keys(b))
      if (!['name', 'state', 'share'].includes(key))
        fail(`/${key}`, 'unknown_property', `Unknown property ${key}`, `未知属性 ${key}`);
    let name: string | undefined;
    if (b.name !== undefined || creating) {
      if (typeof b.name !== 'string' || !b.name.trim() || b.name.trim().length > 60)
        fail('/name', 'invalid', 'A name of 1 to 60 characters', '名称须为 1 到 60 个字符');
      else name = b.name.trim();
    }
    if (b.state !== undefined || creating) {
      if (!b.state || typeof b.state !== 'object' || Array.isArray(b.state))
        fail('/state', 'invalid', 'The view state is a JSON object', '视图状态须为 JSON 对象');
      else if (JSON.stringify(b.state).length > MAX_STATE_BYTES)
        fail('/state', 'too_large', `At most ${MAX_STATE_BYTES} characters`, `不能超过 ${MAX_STATE_BYTES} 个字符`);
    }
    const share: Share = { roles: [], everyone: false };
    if (b.share !== undefined) {
      const s = b.share as { roles?: unknown; everyone?: unknown };
      if (!s || typeof s !== 'object' || Array.isArray(s))
        fail('/share', 'invalid', 'share is { roles?, everyone? }', 'share 须为 { roles?, everyone? }');
      else {
        for (const key of Object.keys(s))
          if (key !== 'roles' && key !== 'everyone')
            fail(`/share/${key}`, 'unknown_property', `Unknown property ${key}`, `未知属性 ${key}`);
        if (s.everyone !== undefined && typeof s.everyone !== 'boolean')
          fail('/share/everyone', 'invalid', 'true or false', '须为 true 或 false');
        share.everyone = s.everyone === true;
        if (
          s.roles !== undefined &&
          (!Array.isArray(s.roles) || s.roles.some((r) => typeof r !== 'string') || s.roles.length > 50)
        )
          fail('/share/roles', 'invalid', 'A list of role names', '须为角色名称列表');
        else share.roles = [...new Set((s.roles as string[] | undefined) ?? [])];
      }
      const me = ctx.principal!;
      const mayShare = ctx.privileged || me.system.has('views.share');
      const known = new Set(
        this.data
          .model()
          .documents.all('role')
          .map((r) => r.name),
      );
      share.roles.forEach((r, i) => {
        if (!known.has(r)) fail(`/share/roles/${i}`, 'unknown_role', `Role ${r} does not exist`, `角色 ${r} 不存在`);
        else if (!mayShare && !me.roles.includes(r))
          fail(
            `/share/roles/${i}`,
            'forbidden',
            `You may share only with roles you hold (${r})`,
            `只能共享给您自己拥有的角色（${r}）`,
          );
      });
      if (share.everyone && !mayShare)
        fail(
          '/share/everyone',
          'forbidden',
          'Sharing with everyone needs the views.share right',
          '共享给所有人需要 views.share 权限',
        );
    }
    if (errors.length) {
      const forbidden = errors.every((e) => e.code === 'forbidden');
      throw forbidden
        ? new AppError(403, 'forbidden', errors[0]!.message, errors)
        : badRequest('validation_failed', t(ctx.lang, 'The view is not valid', '视图内容有误'), errors);
    }
    return { name, state: b.state as Record<string, unknown> | undefined, share, shareGiven: b.share !== undefined };
  }
}
