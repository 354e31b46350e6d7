/**
 * The e-mail sender: a job that sweeps the outbox (filled in the transactions that notify) and hands
 * the mails to an SMTP server with nodemailer. It runs every minute from the job queue — once per tick
 * whatever the number of processes — and takes rows with SKIP LOCKED, so two sweeps never send one
 * mail twice. A failed mail is tried again later (1, 2, 4, 8 minutes) and marked failed after 5
 * attempts, with the error kept. Without SMTP_URL nothing is sent: mails wait in the outbox.
 */
import { sql } from 'drizzle-orm';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Database } from '../db/database.js';
import type { JobQueue } from '../jobs/queue.js';
import type { FileStorage } from '../files/storage.js';

export interface MailOptions {
  /** smtp://user:password@host:port (smtps:// for TLS). */
  url?: string;
  /** The From address. */
  from?: string;
  /** Where attached files' bytes are (a sent quote's PDF). */
  files?: FileStorage;
}

const QUEUE = 'email-outbox';
const BATCH = 20;
const MAX_ATTEMPTS = 5;

interface OutboxRow {
  id: string;
  to_address: string;
  subject: { en: string; 'zh-CN': string };
  body: { en: string; 'zh-CN': string };
  cc: string | null;
  attachments: { id: string; name: string; type: string }[] | null;
  attempts: number;
}

export class MailSender {
  private readonly transport: Transporter | undefined;

  constructor(
    private readonly database: Database,
    private readonly jobs: JobQueue,
    private readonly options: MailOptions = {},
  ) {
    this.transport = options.url ? nodemailer.createTransport(options.url) : undefined;
    jobs.define({ name: QUEUE, retryLimit: 0, run: async () => void (await this.sweep()) });
  }

  /** Schedules the sweep (after the queue started); without SMTP there is nothing to schedule. */
  async start() {
    if (this.transport) await this.jobs.schedule(QUEUE, '* * * * *', {}, 'UTC');
    else await this.jobs.unschedule(QUEUE);
  }

  /** Sends what is due; returns how many were sent and how many failed this time. */
  async sweep(): Promise<{ sent: number; failed: number }> {
    const outcome = { sent: 0, failed: 0 };
    if (!this.transport) return outcome;
    for (;;) {
      const batch = await this.database.db.transaction(async (tx) => {
        const rows = await this.database.rows<OutboxRow>(
          sql`select id, to_address, cc, subject, body, attachments, attempts from inbox.email_outbox
          where status = 'pending' and next_attempt_at <= now() order by id limit ${BATCH} for update skip locked`,
          tx,
        );
        for (const row of rows) {
          try {
            // The users' language is not known: both, Chinese first.
            const attachments = [];
            for (const a of row.attachments ?? []) {
              if (!this.options.files) throw new Error('No file storage to attach from');
              attachments.push({
                filename: a.name,
                contentType: a.type,
                content: Buffer.from(await this.options.files.get(a.id)),
              });
            }
            await this.transport!.sendMail({
              from: this.options.from ?? 'metacrm <no-reply@localhost>',
              to: row.to_address,
              ...(row.cc ? { cc: row.cc } : {}),
              ...(attachments.length ? { attachments } : {}),
              subject: row.subject['zh-CN'] === row.subject.en ? row.subject.en : `${row.subject['zh-CN']} / ${row.subject.en}`,
              text: row.body['zh-CN'] === row.body.en ? row.body.en : `${row.body['zh-CN']}\n\n${row.body.en}`,
            });
            await tx.execute(
              sql`update inbox.email_outbox set status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = null where id = ${row.id}`,
            );
            outcome.sent++;
          } catch (e) {
            const attempts = row.attempts + 1;
            await tx.execute(sql`update inbox.email_outbox set attempts = ${attempts}, last_error = ${(e as Error).message.slice(0, 1000)},
              status = ${attempts >= MAX_ATTEMPTS ? 'failed' : 'pending'}, next_attempt_at = now() + make_interval(mins => ${2 ** (attempts - 1)})
              where id = ${row.id}`);
            outcome.failed++;
          }
        }
        return rows.length;
      });
      if (batch < BATCH) return outcome;
    }
  }
}
