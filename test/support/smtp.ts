/**
 * A real SMTP server in the test's process (smtp-server), keeping what it receives parsed (mailparser).
 * `refuse` answers every recipient with that error, as a mailbox that is down does.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

export interface TestSmtp {
  port: number;
  /** The mails received, in order. */
  mails: ParsedMail[];
  close(): Promise<void>;
}

export async function startSmtp(options: { port?: number; refuse?: string; mails?: ParsedMail[] } = {}): Promise<TestSmtp> {
  const mails = options.mails ?? [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    ...(options.refuse
      ? { onRcptTo: (_address, _session, callback) => callback(new Error(options.refuse)) }
      : {
          onData(stream, _session, done) {
            simpleParser(stream).then((m) => {
              mails.push(m);
              done();
            }, done);
          },
        }),
  });
  await new Promise<void>((r) => server.listen(options.port ?? 0, '127.0.0.1', () => r()));
  return {
    port: (server.server.address() as AddressInfo).port,
    mails,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
