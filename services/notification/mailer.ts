/**
 * Sending email over SMTP (nodemailer, a pool of connections), and telling a failure that can
 * never succeed (the server's permanent 5xx refusal) from one worth retrying (the server away, a
 * timeout, a temporary 4xx).
 * @module
 */
// @ts-types="@types/nodemailer"
import nodemailer from "nodemailer";
import type { Email } from "./domain.ts";

/** Sends emails. */
export interface Mailer {
  /** Sends one email; resolves with the message id the server accepted, or rejects. */
  send(email: Email): Promise<{ messageId: string }>;
  /** Closes the connections. */
  close(): void;
}

/** Options of {@linkcode smtpMailer}. */
export interface SmtpOptions {
  /**
   * `smtp://[user:password@]host:port` (plain, STARTTLS when the server offers it) or
   * `smtps://…` (TLS from the start).
   */
  url: string;
  /** The sender, e.g. `Stocklet <orders@stocklet.local>`. */
  from: string;
  /** Connections kept open at most. @default 3 */
  connections?: number;
  /** Connect, greeting and socket timeouts (ms). @default 10000 */
  timeoutMs?: number;
}

/**
 * A mailer on an SMTP server.
 *
 * @example
 * ```ts
 * const mailer = smtpMailer({ url: "smtp://127.0.0.1:2525", from: "Stocklet <orders@stocklet.local>" });
 * await mailer.send({ to: "ann@example.com", subject: "Hi", text: "Hello", html: "<p>Hello</p>" });
 * ```
 */
export function smtpMailer(opts: SmtpOptions): Mailer {
  const u = new URL(opts.url);
  const secure = u.protocol === "smtps:";
  const timeout = opts.timeoutMs ?? 10_000;
  const transport = nodemailer.createTransport({
    host: u.hostname,
    port: Number(u.port) || (secure ? 465 : 25),
    secure,
    ...(u.username
      ? { auth: { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } }
      : {}),
    pool: true,
    maxConnections: opts.connections ?? 3,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
  });
  return {
    async send(email) {
      const info = await transport.sendMail({
        from: opts.from,
        to: email.to,
        subject: email.subject,
        text: email.text,
        html: email.html,
      });
      return { messageId: String(info.messageId ?? "") };
    },
    close: () => transport.close(),
  };
}

/** A failed send, classified. */
export interface SendFailure {
  /** The server refused for good (a 5xx reply): retrying cannot help. */
  permanent: boolean;
  message: string;
}

/**
 * Classifies a send error: an SMTP 5xx reply is permanent (e.g. 550 mailbox unavailable); a 4xx
 * reply, a refused or lost connection and a timeout are worth retrying.
 */
export function classifySendError(error: unknown): SendFailure {
  const e = error as { responseCode?: number; code?: string; message?: string };
  const message = e?.message ?? String(error);
  const code = typeof e?.responseCode === "number" ? e.responseCode : undefined;
  if (code !== undefined) return { permanent: code >= 500 && code < 600, message };
  return { permanent: false, message: e?.code ? `${e.code}: ${message}` : message };
}
