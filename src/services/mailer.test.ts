import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { createMailer } from './mailer.ts';

describe('mailer', () => {
  const received: { to: string[]; data: string }[] = [];
  let server: SMTPServer;
  let port = 0;

  beforeAll(async () => {
    server = new SMTPServer({
      authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
      onData(stream, session, done) {
        let data = '';
        stream.on('data', (c: Buffer) => { data += c.toString('utf8'); });
        stream.on('end', () => { received.push({ to: session.envelope.rcptTo.map((r) => r.address), data }); done(); });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('delivers a message with text, HTML and an attachment to a real SMTP server', async () => {
    const mailer = createMailer(`smtp://127.0.0.1:${port}`, 'auditrail <alerts@zylker.test>');
    expect(mailer.configured).toBe(true);
    await mailer.send({ to: ['admin@zylker.test', 'cso@zylker.test'], subject: 'Deal deleted', text: 'Amelia deleted Acme',
      html: '<p>Amelia deleted <b>Acme</b></p>', attachments: [{ filename: 'report.csv', content: 'a,b\n1,2\n', contentType: 'text/csv' }] });
    mailer.close();
    const mail = received.at(-1)!;
    expect(mail.to).toEqual(['admin@zylker.test', 'cso@zylker.test']);
    expect(mail.data).toContain('Subject: Deal deleted');
    expect(mail.data).toContain('From: auditrail <alerts@zylker.test>');
    expect(mail.data).toContain('filename=report.csv');
  });

  it('refuses to send, with a reason, when no SMTP URL is configured', async () => {
    const mailer = createMailer(undefined, 'x@y.z');
    expect(mailer.configured).toBe(false);
    await expect(mailer.send({ to: ['a@b.c'], subject: 's', text: 't' })).rejects.toThrow(/AUDITRAIL_SMTP_URL/);
  });
});
