/**
 * Comments on any record: a timeline beside its history. Whoever may read the record may read and add
 * comments; an @mention notifies the mentioned user in-app and by e-mail (the outbox), in the comment's
 * transaction — but only a user who may read the record themselves (their own principal and scope), so
 * a mention never leaks a record to someone outside it. Authors may delete their own comments.
 */
import { sql } from 'drizzle-orm';
import { AppError, badRequest, notFound } from '../../errors.js';
import { UUID, uuidv7 } from '../../model/ids.js';
import { t } from '../../model/language.js';
import { isStorableText } from '../../model/text.js';
import { loadPrincipal } from '../../access/principal.js';
import { Guard } from '../../access/guard.js';
import { deliver } from '../../notifications/inbox.js';
import type { OperationContext } from '../context.js';
import { findActive } from '../find.js';
import { all, isPlainObject } from '../pipeline.js';
import { columnRef, tableText } from '../query.js';
import type { DataService } from '../service.js';
import type { CompiledEntity } from '../../model/compile.js';

export const COMMENTS_SQL = `
create schema if not exists comments;
create table if not exists comments.comments (
  id uuid primary key,
  entity text not null,
  record_id uuid not null,
  body text not null,
  mentions uuid[] not null default '{}',
  created_by uuid,
  created_at timestamptz not null default now(),
  deleted_at timestamptz
);
create index if not exists comments_record on comments.comments (entity, record_id, id desc);
`;

const MAX_BODY = 5000;
const MAX_MENTIONS = 20;

async function readable(data: DataService, ctx: OperationContext, entity: CompiledEntity, id: string) {
  const guard = data.guard(ctx);
  await findActive(data.database, data.database.db, entity, id, guard.condition(entity, 'read', 'few'), ['id']);
  return guard;
}

export async function listComments(data: DataService, ctx: OperationContext, entityName: string, id: string) {
  const entity = data.entity(entityName);
  await readable(data, ctx, entity, id);
  const rows = await data.database.rows<Record<string, unknown>>(sql`select c.id, c.body, c.mentions::text[] as mentions,
      c.created_by as "createdBy", u.display_name as "authorName",
      to_char(c.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "createdAt"
    from comments.comments c left join "user" u on u.id = c.created_by
    where c.entity = ${entity.name} and c.record_id = ${id}::uuid and c.deleted_at is null order by c.id desc limit 500`);
  return rows;
}

export async function addComment(data: DataService, ctx: OperationContext, entityName: string, id: string, input: unknown) {
  const entity = data.entity(entityName);
  const guard = await readable(data, ctx, entity, id);
  const fail = (path: string, en: string, zh: string): never => {
    const message = t(ctx.lang, en, zh);
    throw badRequest('invalid_comment', message, [{ path, code: 'invalid_comment', message }]);
  };
  if (!isPlainObject(input))
    return fail('', 'Send {"body": "…", "mentions": [user ids]}', '请发送 {"body": "…", "mentions": [用户 id]}');
  const body = typeof input.body === 'string' ? input.body.trim() : '';
  if (!body) fail('/body', 'Write something', '请输入评论内容');
  if (body.length > MAX_BODY) fail('/body', `At most ${MAX_BODY} characters`, `评论最多 ${MAX_BODY} 个字符`);
  if (!isStorableText(body)) fail('/body', 'The text holds characters that cannot be stored', '评论含有无法保存的字符');
  const mentions = input.mentions ?? [];
  if (!Array.isArray(mentions) || mentions.length > MAX_MENTIONS || mentions.some((m) => typeof m !== 'string' || !UUID.test(m)))
    fail('/mentions', `mentions is a list of at most ${MAX_MENTIONS} user ids`, `mentions 须为最多 ${MAX_MENTIONS} 个用户 id`);
  const mentioned = [...new Set(mentions as string[])].filter((m) => m !== guard.userId);
  for (const key of Object.keys(input))
    if (key !== 'body' && key !== 'mentions') fail(`/${key}`, `Unknown property "${key}"`, `未知属性“${key}”`);

  // Who of the mentioned may read the record themselves: their own scope, in SQL.
  const notify: { id: string; email: string | null }[] = [];
  for (const userId of mentioned) {
    const principal = await loadPrincipal(data.database, data.model(), userId);
    if (!principal) fail('/mentions', `No active user with id ${userId}`, `没有 id 为 ${userId} 的在职用户`);
    const scope = new Guard(data.model(), principal!, false).optionalCondition(entity, 'read');
    if (scope === false) continue;
    const [row] = await data.database.rows<{ email: string | null }>(
      sql`select (select email from "user" where id = ${userId}::uuid) as email from ${sql.raw(tableText(entity))}
        where ${all(sql`${columnRef(entity, 'id')} = ${id}::uuid`, scope)}`,
    );
    if (row) notify.push({ id: userId, email: row.email });
  }
  const commentId = uuidv7();
  const author = ctx.principal?.displayName ?? '';
  const title = await titleOf(data, entity, id);
  await data.database.db.transaction(async (tx) => {
    await tx.execute(sql`insert into comments.comments (id, entity, record_id, body, mentions, created_by)
      values (${commentId}::uuid, ${entity.name}, ${id}::uuid, ${body}, ${sql.param(notify.map((n) => n.id))}::uuid[], ${guard.userId}::uuid)`);
    const excerpt = body.length > 200 ? `${body.slice(0, 200)}…` : body;
    await deliver(
      tx,
      notify,
      {
        subject: {
          en: `${author} mentioned you on ${entity.label.en} ${title}`,
          'zh-CN': `${author} 在${entity.label['zh-CN']}「${title}」中提到了你`,
        },
        body: { en: excerpt, 'zh-CN': excerpt },
      },
      { entity: entity.name, recordId: id, template: 'comment_mention' },
    );
  });
  return { id: commentId, body, mentions: notify.map((n) => n.id), createdBy: guard.userId };
}

async function titleOf(data: DataService, entity: CompiledEntity, id: string) {
  if (!entity.titleField) return '';
  const [row] = await data.database.rows<{ title: string | null }>(
    sql`select ${columnRef(entity, entity.titleField)}::text as title from ${sql.raw(tableText(entity))} where ${columnRef(entity, 'id')} = ${id}::uuid`,
  );
  return row?.title ?? '';
}

export async function removeComment(data: DataService, ctx: OperationContext, entityName: string, id: string, commentId: string) {
  const entity = data.entity(entityName);
  const guard = await readable(data, ctx, entity, id);
  if (!UUID.test(commentId)) throw notFound('comment_not_found', t(ctx.lang, 'No such comment', '评论不存在'));
  const [row] = await data.database.rows<{ created_by: string | null }>(
    sql`select created_by from comments.comments where id = ${commentId}::uuid and entity = ${entity.name} and record_id = ${id}::uuid and deleted_at is null`,
  );
  if (!row) throw notFound('comment_not_found', t(ctx.lang, 'No such comment', '评论不存在'));
  if (!guard.privileged && row.created_by !== guard.userId)
    throw new AppError(403, 'forbidden', t(ctx.lang, 'Only its author may delete a comment', '只有作者可以删除评论'));
  await data.database.rows(sql`update comments.comments set deleted_at = now() where id = ${commentId}::uuid`);
}
