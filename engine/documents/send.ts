/**
 * Sending a record's printed document by e-mail (发送报价单): the print template rendered to PDF — with the
 * print right, exactly as the print action would give it to the sender — kept in the record's
 * attachments (so what the customer got stays with the quote), and a mail with it queued in the outbox
 * in the same transaction. The outbox sweep (engine/notifications/mailer.ts) attaches the bytes from the
 * file storage when it hands the mail to SMTP. `GET …/emails` lists what was sent from a record.
 */
import { sql } from 'drizzle-orm';
import { unprocessable, type ErrorDetail } from '../errors.js';
import { uuidv7 } from '../model/ids.js';
import { t } from '../model/language.js';
import { isStorableText } from '../model/text.js';
import type { DataService, OperationContext } from '../data/service.js';
import type { ApprovalService } from '../approvals/service.js';
import type { FileStorage } from '../files/storage.js';
import { printRecord } from './print.js';

const ADDRESS = /^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/;
const MAX_RECIPIENTS = 20;

export interface SendRequest {
  to: string[];
  cc?: string[];
  subject?: string;
  message?: string;
  template?: string;
}

/** The body as sent, checked: every problem with its path, in the caller's language; nothing is written. */
function checkRequest(ctx: OperationContext, body: unknown): SendRequest {
  const errors: ErrorDetail[] = [];
  const b = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  const known = new Set(['to', 'cc', 'subject', 'message', 'template']);
  for (const key of Object.keys(b))
    if (!known.has(key))
      errors.push({ path: `/${key}`, code: 'unknown_property', message: t(ctx.lang, 'Unknown property', '不支持的属性') });
  const addresses = (key: 'to' | 'cc', required: boolean) => {
    const value = b[key];
    if (value === undefined && !required) return [];
    const list = Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
    if (!list.length)
      errors.push({
        path: `/${key}`,
        code: 'required',
        message: t(ctx.lang, 'Give at least one e-mail address', '请至少填写一个邮箱地址'),
      });
    if (list.length > MAX_RECIPIENTS)
      errors.push({
        path: `/${key}`,
        code: 'too_many_recipients',
        message: t(ctx.lang, `At most ${MAX_RECIPIENTS} addresses`, `最多 ${MAX_RECIPIENTS} 个邮箱地址`),
      });
    list.forEach((a, i) => {
      if (typeof a !== 'string' || !ADDRESS.test(a.trim()) || a.length > 254) {
        // Whatever was sent is shown as JSON (an object's own toString is not to be trusted), cut short.
        const shown = (typeof a === 'string' ? a : (JSON.stringify(a) ?? typeof a)).slice(0, 80);
        errors.push({
          path: `/${key}/${i}`,
          code: 'invalid_email',
          message: t(ctx.lang, `"${shown}" is not an e-mail address`, `“${shown}”不是有效的邮箱地址`),
        });
      }
    });
    return [...new Set(list.filter((a): a is string => typeof a === 'string').map((a) => a.trim().toLowerCase()))];
  };
  const to = addresses('to', true);
  const cc = addresses('cc', false);
  const text = (key: 'subject' | 'message' | 'template', max: number) => {
    const value = b[key];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string' || value.length > max || !isStorableText(value))
      errors.push({
        path: `/${key}`,
        code: 'invalid_text',
        message: t(ctx.lang, `At most ${max} characters of text`, `最多 ${max} 个字符的文本`),
      });
    return typeof value === 'string' ? value.trim() : undefined;
  };
  const request = { to, cc, subject: text('subject', 200), message: text('message', 5000), template: text('template', 60) };
  if (errors.length) throw unprocessable('validation_failed', t(ctx.lang, 'The e-mail was not sent', '邮件未发送'), errors);
  return request;
}

/** POST /api/data/:entity/:id/email — the record's document as a PDF attachment, queued for each address. */
export async function sendRecord(
  data: DataService,
  approvals: ApprovalService,
  storage: FileStorage,
  ctx: OperationContext,
  entityName: string,
  id: string,
  body: unknown,
) {
  const request = checkRequest(ctx, body);
  // The print action decides: read scope (404), print right (403), template (404), rendering (422).
  const printed = await printRecord(data, approvals, ctx, entityName, id, { format: 'pdf', template: request.template });
  const pdf = printed.body as Buffer;
  const fileId = uuidv7();
  // Characters file systems refuse, and control characters, become "_".
  const fileName = `${[...printed.title]
    .map((c) => (c < ' ' || '\\/:*?"<>|'.includes(c) ? '_' : c))
    .join('')
    .slice(0, 200)}.pdf`;
  const sender = ctx.principal?.displayName ?? ctx.principal?.username ?? '';
  const subject = request.subject ?? printed.title;
  const text = request.message ?? t(ctx.lang, `Please find ${printed.title} attached.`, `您好，附件是${printed.title}，请查收。`);
  const signed = sender ? `${text}\n\n${sender}` : text;
  const attachments = [{ id: fileId, name: fileName, type: 'application/pdf' }];
  // Bytes first: if the transaction fails, an orphan object is harmless; a row without bytes would not be.
  await storage.put(fileId, pdf, 'application/pdf');
  const queued = await data.database.db.transaction(async (tx) => {
    await tx.execute(sql`insert into files.files (id, entity, record_id, field, name, type, size, storage, created_by)
      values (${fileId}::uuid, ${entityName}, ${id}::uuid, null, ${fileName}, 'application/pdf', ${pdf.byteLength}, ${storage.kind}, ${ctx.principal?.userId ?? null}::uuid)`);
    const rows = await data.database.rows<{ id: string }>(
      sql`insert into inbox.email_outbox (to_address, cc, subject, body, attachments, entity, record_id, sent_by)
        values (${request.to.join(', ')}, ${request.cc?.length ? request.cc.join(', ') : null},
                ${JSON.stringify({ en: subject, 'zh-CN': subject })}::jsonb, ${JSON.stringify({ en: signed, 'zh-CN': signed })}::jsonb,
                ${JSON.stringify(attachments)}::jsonb, ${entityName}, ${id}::uuid, ${ctx.principal?.userId ?? null}::uuid)
        returning id::text`,
      tx,
    );
    return rows[0]!;
  });
  return { id: queued.id, to: request.to, cc: request.cc, subject, attachments, status: 'pending' as const };
}

/** GET /api/data/:entity/:id/emails — what was sent from the record (read right), newest first. */
export async function sentEmails(data: DataService, ctx: OperationContext, entityName: string, id: string) {
  await data.get(ctx, entityName, id, {});
  return data.database.rows<Record<string, unknown>>(sql`select o.id::text, o.to_address as to, o.cc, o.subject->>'en' as subject,
      o.status, o.attachments, o.sent_by, u.display_name as sent_by_name,
      to_char(o.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at,
      to_char(o.sent_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as sent_at
    from inbox.email_outbox o left join "user" u on u.id = o.sent_by
    where o.entity = ${entityName} and o.record_id = ${id}::uuid order by o.id desc limit 100`);
}
