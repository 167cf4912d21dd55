/**
 * The local mail catcher: a real SMTP server on loopback (npm smtp-server) that accepts every
 * message and keeps it in the mailbox under the state folder, and a small web page to read them.
 * `deno task dev` and the test stack run it; the notification service sends to it like to any
 * mail server, and the tests read what it actually received.
 *
 * | Variable | Default |
 * |---|---|
 * | `STOCKLET_SMTP_PORT` | 2525 |
 * | `STOCKLET_MAILBOX_PORT` | 8025 (the page: `/`, the API: `/api/messages`) |
 * | `STOCKLET_MAILBOX_DIR` | `.stocklet/mail/dev` |
 * | `BIND_HOST` | 127.0.0.1 |
 *
 * API: `GET /api/messages[?to=addr]` (summaries, oldest first), `GET /api/messages/<id>`,
 * `GET /api/messages/<id>/raw` (the .eml), `DELETE /api/messages`, `GET /healthz`.
 * @module
 */
// @ts-types="@types/smtp-server"
import { SMTPServer } from "smtp-server";
import { DEFAULT_PORTS } from "@stocklet/shared/topology";
import { Mailbox, mailboxDirOf, type MailMessage } from "./mailbox.ts";

/** A running catcher. */
export interface MailCatcher {
  smtpPort: number;
  httpPort: number;
  mailbox: Mailbox;
  stop(): Promise<void>;
}

/** Options of {@linkcode startMailCatcher}. */
export interface MailCatcherOptions {
  host?: string;
  /** 0: any free port. */
  smtpPort: number;
  /** 0: any free port. */
  httpPort: number;
  dir: string;
  log?: (line: string) => void;
}

function esc(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

function page(title: string, body: string): Response {
  return new Response(
    `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title>` +
      `<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}` +
      `td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}` +
      `pre{white-space:pre-wrap;background:#f6f6f6;padding:1em}</style></head><body>` +
      body + "</body></html>",
    { headers: { "content-type": "text/html; charset=utf-8" } },
  );
}

function listPage(messages: MailMessage[]): Response {
  const rows = messages.slice().reverse().map((m) =>
    `<tr><td>${esc(new Date(m.receivedAt).toLocaleString())}</td><td>${
      esc(m.envelope.to.join(", "))
    }</td><td><a href="/messages/${m.id}">${esc(m.subject || "(no subject)")}</a></td></tr>`
  ).join("");
  return page(
    "Stocklet mailbox",
    `<h1>Stocklet mailbox</h1><p>${messages.length} message(s), newest first. ` +
      `JSON: <a href="/api/messages">/api/messages</a></p>` +
      `<table><tr><th>received</th><th>to</th><th>subject</th></tr>${rows}</table>`,
  );
}

function messagePage(m: MailMessage): Response {
  return page(
    m.subject,
    `<p><a href="/">← mailbox</a> · <a href="/api/messages/${m.id}/raw">raw</a></p>` +
      `<h1>${esc(m.subject)}</h1><p>From ${esc(m.from)} to ${esc(m.envelope.to.join(", "))}, ${
        esc(m.receivedAt)
      }</p>` +
      (m.html
        ? `<h2>HTML</h2><iframe sandbox style="width:100%;height:20em;border:1px solid #ccc" ` +
          `srcdoc="${esc(m.html)}"></iframe>`
        : "") +
      `<h2>Text</h2><pre>${esc(m.text)}</pre>`,
  );
}

/** The mailbox's HTTP handler (the page and the API). */
export function mailboxHandler(mailbox: Mailbox): (req: Request) => Promise<Response> {
  return async (req) => {
    const url = new URL(req.url);
    const path = url.pathname;
    if (path === "/healthz") return new Response("ok");
    if (path === "/api/messages" && req.method === "DELETE") {
      return Response.json({ deleted: await mailbox.clear() });
    }
    if (path === "/api/messages") {
      const to = url.searchParams.get("to");
      return Response.json(await mailbox.list(to ? { to } : {}));
    }
    const raw = /^\/api\/messages\/([\w-]+)\/raw$/.exec(path);
    if (raw) {
      const bytes = await mailbox.raw(raw[1]!);
      return bytes
        ? new Response(bytes as Uint8Array<ArrayBuffer>, {
          headers: { "content-type": "message/rfc822" },
        })
        : Response.json({ message: "no such message" }, { status: 404 });
    }
    const one = /^\/(api\/)?messages\/([\w-]+)$/.exec(path);
    if (one) {
      const m = await mailbox.get(one[2]!);
      if (!m) return Response.json({ message: "no such message" }, { status: 404 });
      return one[1] ? Response.json(m) : messagePage(m);
    }
    if (path === "/") return listPage(await mailbox.list());
    return Response.json({ message: "not found" }, { status: 404 });
  };
}

/** Starts the SMTP server and the mailbox page. */
export async function startMailCatcher(opts: MailCatcherOptions): Promise<MailCatcher> {
  const host = opts.host ?? "127.0.0.1";
  const mailbox = new Mailbox(opts.dir);
  const log = opts.log ?? (() => {});
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    banner: "Stocklet mail catcher",
    size: 10 * 1024 * 1024,
    onData(stream, session, callback) {
      const chunks: Uint8Array[] = [];
      stream.on("data", (c: Uint8Array) => chunks.push(c));
      stream.on("end", () => {
        const raw = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
        let at = 0;
        for (const c of chunks) {
          raw.set(c, at);
          at += c.byteLength;
        }
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
        const to = session.envelope.rcptTo.map((r) => r.address);
        mailbox.save(raw, { from, to }).then((m) => {
          log(`received ${m.id} for ${to.join(", ")}: ${m.subject}`);
          callback();
        }, (error) => callback(error instanceof Error ? error : new Error(String(error))));
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    smtp.once("error", reject);
    smtp.listen(opts.smtpPort, host, () => resolve());
  });
  const address = smtp.server.address();
  const smtpPort = typeof address === "object" && address ? address.port : opts.smtpPort;
  const http = new AbortController();
  const server = Deno.serve({
    hostname: host,
    port: opts.httpPort,
    signal: http.signal,
    onListen: () => {},
  }, mailboxHandler(mailbox));
  return {
    smtpPort,
    httpPort: server.addr.port,
    mailbox,
    async stop() {
      http.abort();
      await server.finished.catch(() => {});
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    },
  };
}

function envPort(name: string, fallback: number): number {
  const raw = Deno.env.get(name);
  const n = raw ? Number(raw) : fallback;
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name}=${raw} is not a port`);
  return n;
}

/** One JSON log line, like the services' (the dev runner condenses them). */
function say(msg: string): void {
  console.log(
    JSON.stringify({ time: new Date().toISOString(), level: "info", service: "mail", msg }),
  );
}

if (import.meta.main) {
  const catcher = await startMailCatcher({
    host: Deno.env.get("BIND_HOST") ?? "127.0.0.1",
    smtpPort: envPort("STOCKLET_SMTP_PORT", DEFAULT_PORTS.smtp),
    httpPort: envPort("STOCKLET_MAILBOX_PORT", DEFAULT_PORTS.mailbox),
    dir: Deno.env.get("STOCKLET_MAILBOX_DIR") ?? mailboxDirOf("dev"),
    log: (line) => say(line),
  });
  say(
    `mail catcher: SMTP on ${catcher.smtpPort}, mailbox on http://127.0.0.1:${catcher.httpPort}/ ` +
      `(${catcher.mailbox.dir})`,
  );
  const stop = () => catcher.stop().finally(() => Deno.exit(0));
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
