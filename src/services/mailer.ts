import nodemailer from 'nodemailer';
import { AppError } from '../domain/errors.ts';

/** One outgoing email: plain text always, HTML and attachments when the message has them. */
export interface MailMessage {
  to: string[];
  subject: string;
  text: string;
  html?: string;
  attachments?: { filename: string; content: string | Buffer; contentType?: string }[];
}

export interface Mailer {
  /** Whether `AUDITRAIL_SMTP_URL` is set; without it nothing can be sent. */
  readonly configured: boolean;
  /** Sends one message; resolves with the server's message id. Throws NOT_ALLOWED without SMTP. */
  send(message: MailMessage): Promise<string>;
  close(): void;
}

/**
 * The SMTP sender every channel uses (alerts, scheduled reports), over nodemailer. `smtpUrl` is
 * `smtp://host:port` (or `smtps://`, with `user:pass@` when the relay needs it). Sending is never
 * done inside a database transaction: callers deliver from a job after the change committed.
 */
export function createMailer(smtpUrl: string | undefined, from: string): Mailer {
  if (!smtpUrl) {
    return {
      configured: false,
      send: () => Promise.reject(new AppError('NOT_ALLOWED', 'Email cannot be sent: AUDITRAIL_SMTP_URL is not set.')),
      close: () => {},
    };
  }
  // Short timeouts: a delivery job must fail and back off, not hold its lease on a dead relay.
  const transport = nodemailer.createTransport({ url: smtpUrl, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 }, { from });
  return {
    configured: true,
    async send(message) {
      const info = await transport.sendMail({ from, ...message, to: message.to.join(', ') });
      return String(info.messageId);
    },
    close: () => transport.close(),
  };
}
