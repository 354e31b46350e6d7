/**
 * In-app notifications and the e-mail outbox. A notification is written in the same transaction as
 * what caused it; the outbox holds e-mails for a sender job to deliver (and retry) from the queue, so
 * nothing is lost when the mail server is down.
 */
import { sql } from 'drizzle-orm';
import type { Database, Db } from '../db/database.js';
import { badRequest, notFound } from '../errors.js';
import type { Principal } from '../access/principal.js';
import { operationTime } from '../db/clock.js';

export const INBOX_SQL = `
create schema if not exists inbox;
create table if not exists inbox.notifications (
  id bigserial primary key,
  user_id uuid not null,
  entity text,
  record_id uuid,
  template text,
  subject jsonb not null,
  body jsonb not null,
  created_at timestamptz not null default now(),
  read_at timestamptz
);
-- Newest first by when they happened (a replayed history writes them out of time order).
drop index if exists inbox.notifications_user;
create index if not exists notifications_user_time on inbox.notifications (user_id, created_at desc, id desc);
create table if not exists inbox.email_outbox (
  id bigserial primary key,
  user_id uuid,
  to_address text not null,
  subject jsonb not null,
  body jsonb not null,
  status text not null default 'pending' check (status in ('pending', 'sent', 'failed')),
  attempts integer not null default 0,
  created_at timestamptz not null default now(),
  sent_at timestamptz
);
alter table inbox.email_outbox add column if not exists next_attempt_at timestamptz not null default now();
alter table inbox.email_outbox add column if not exists last_error text;
-- Documents sent from a record (engine/documents/send.ts): copies, the attached files, the record, the sender.
alter table inbox.email_outbox add column if not exists cc text;
alter table inbox.email_outbox add column if not exists attachments jsonb;
alter table inbox.email_outbox add column if not exists entity text;
alter table inbox.email_outbox add column if not exists record_id uuid;
alter table inbox.email_outbox add column if not exists sent_by uuid;
create index if not exists outbox_pending on inbox.email_outbox (id) where status = 'pending';
create index if not exists outbox_record on inbox.email_outbox (entity, record_id) where record_id is not null;
`;

export interface Message {
  subject: { en: string; 'zh-CN': string };
  body: { en: string; 'zh-CN': string };
}

/** Queues a message to users: one notification each, and an e-mail for those with an address. */
export async function deliver(
  tx: Db,
  recipients: { id: string; email: string | null }[],
  message: Message,
  about: { entity?: string; recordId?: string; template?: string },
) {
  if (!recipients.length) return 0;
  const subject = JSON.stringify(message.subject);
  const body = JSON.stringify(message.body);
  const at = operationTime(tx).toISOString();
  await tx.execute(
    sql`insert into inbox.notifications (user_id, entity, record_id, template, subject, body, created_at) values ${sql.join(
      recipients.map(
        (r) =>
          sql`(${r.id}, ${about.entity ?? null}, ${about.recordId ?? null}, ${about.template ?? null}, ${subject}::jsonb, ${body}::jsonb, ${at}::timestamptz)`,
      ),
      sql`, `,
    )}`,
  );
  const mailable = recipients.filter((r) => r.email);
  if (mailable.length) {
    await tx.execute(
      sql`insert into inbox.email_outbox (user_id, to_address, subject, body) values ${sql.join(
        mailable.map((r) => sql`(${r.id}, ${r.email}, ${subject}::jsonb, ${body}::jsonb)`),
        sql`, `,
      )}`,
    );
  }
  return recipients.length;
}

export class Inbox {
  constructor(private readonly database: Database) {}

  async list(principal: Principal, query: Record<string, string | undefined>) {
    if (query.unread !== undefined && query.unread !== 'true' && query.unread !== 'false')
      throw badRequest('invalid_parameter', 'unread must be true or false', [
        { path: '/query/unread', message: 'true or false' },
      ]);
    const rows = await this.database.rows<{ created_at: Date | string; read_at: Date | string | null }>(sql`
      select id, entity, record_id as "recordId", template, subject, body, created_at, read_at from inbox.notifications
      where user_id = ${principal.userId} ${query.unread === 'true' ? sql`and read_at is null` : sql``} order by created_at desc, id desc limit 100`);
    return rows.map(({ created_at, read_at, ...r }) => ({
      ...r,
      createdAt: new Date(created_at).toISOString(),
      readAt: read_at ? new Date(read_at).toISOString() : null,
    }));
  }

  async markRead(principal: Principal, id: string) {
    const rows = await this.database.rows(sql`update inbox.notifications set read_at = coalesce(read_at, now())
      where id = ${/^\d{1,18}$/.test(id) ? id : '0'}::bigint and user_id = ${principal.userId} returning id`);
    if (!rows.length) throw notFound('notification_not_found', 'No such notification of yours');
    return { read: id };
  }
}

/** Queues an e-mail to addresses outside the user list (a customer's contact), in the outbox only. */
export async function mail(tx: Db, addresses: string[], message: Message) {
  if (!addresses.length) return 0;
  const subject = JSON.stringify(message.subject);
  const body = JSON.stringify(message.body);
  await tx.execute(
    sql`insert into inbox.email_outbox (user_id, to_address, subject, body) values ${sql.join(
      addresses.map((a) => sql`(${null}, ${a}, ${subject}::jsonb, ${body}::jsonb)`),
      sql`, `,
    )}`,
  );
  return addresses.length;
}
