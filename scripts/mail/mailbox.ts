/**
 * The local mail catcher's mailbox: every message the SMTP server received, kept under the state
 * folder as the raw `.eml` (any mail client opens it) plus a `.json` summary (envelope, headers,
 * text and HTML bodies) that the mailbox page, `deno task mail` and the tests read.
 * @module
 */
import { join } from "node:path";
// @ts-types="@types/mailparser"
import { simpleParser } from "mailparser";
import { testPortShift } from "../infra/config.ts";
import { STATE_DIR } from "../lib/paths.ts";

/** One received message. */
export interface MailMessage {
  /** `<received ms>-<random>`: sorts by arrival. */
  id: string;
  /** When the server received it (ISO 8601). */
  receivedAt: string;
  /** The SMTP envelope. */
  envelope: { from: string; to: string[] };
  /** The `From` header. */
  from: string;
  /** The `To` header's addresses. */
  to: string[];
  subject: string;
  messageId: string;
  text: string;
  html: string;
  /** Size of the raw message in bytes. */
  size: number;
}

/**
 * The mailbox folder of a profile (`.stocklet/mail/<profile>`; a shifted test stack, e.g. the
 * scale-out test's beside the suite's own, has its own: `.stocklet/mail/test-<shift>`).
 */
export function mailboxDirOf(profile: string): string {
  const shift = profile === "test" ? testPortShift() : 0;
  return join(STATE_DIR, "mail", shift ? `${profile}-${shift}` : profile);
}

function addressesOf(field: unknown): string[] {
  const values = Array.isArray(field) ? field : field ? [field] : [];
  return values.flatMap((v) =>
    ((v as { value?: Array<{ address?: string }> }).value ?? []).map((a) => a.address ?? "")
  ).filter(Boolean);
}

/** A mailbox on a folder. */
export class Mailbox {
  constructor(readonly dir: string) {}

  /** Parses and stores a raw message; returns its summary. */
  async save(raw: Uint8Array, envelope: { from: string; to: string[] }): Promise<MailMessage> {
    await Deno.mkdir(this.dir, { recursive: true });
    const parsed = await simpleParser(new TextDecoder().decode(raw));
    const now = new Date();
    const id = `${now.getTime()}-${crypto.randomUUID().slice(0, 8)}`;
    const msg: MailMessage = {
      id,
      receivedAt: now.toISOString(),
      envelope,
      from: (parsed.from as { text?: string } | undefined)?.text ?? "",
      to: addressesOf(parsed.to),
      subject: parsed.subject ?? "",
      messageId: parsed.messageId ?? "",
      text: parsed.text ?? "",
      html: typeof parsed.html === "string" ? parsed.html : "",
      size: raw.byteLength,
    };
    await Deno.writeFile(join(this.dir, `${id}.eml`), raw);
    // The summary last: a reader that sees it finds the .eml too.
    const tmp = join(this.dir, `.${id}.json.tmp`);
    await Deno.writeTextFile(tmp, JSON.stringify(msg, null, 2) + "\n");
    await Deno.rename(tmp, join(this.dir, `${id}.json`));
    return msg;
  }

  /** Summaries already read, by file name: a long-lived mailbox parses each file once. */
  #known = new Map<string, MailMessage>();

  /** Every message, oldest first; `to` keeps those addressed to it (case-insensitive). */
  async list(filter: { to?: string } = {}): Promise<MailMessage[]> {
    const seen = new Set<string>();
    try {
      for await (const e of Deno.readDir(this.dir)) {
        if (!e.isFile || !e.name.endsWith(".json") || e.name.startsWith(".")) continue;
        seen.add(e.name);
        if (this.#known.has(e.name)) continue;
        try {
          this.#known.set(e.name, JSON.parse(await Deno.readTextFile(join(this.dir, e.name))));
        } catch { /* removed meanwhile */ }
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    for (const name of this.#known.keys()) if (!seen.has(name)) this.#known.delete(name);
    const to = filter.to?.toLowerCase();
    return [...this.#known.values()]
      .filter((m) => !to || [...m.envelope.to, ...m.to].some((a) => a.toLowerCase() === to))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  /** One message by id (or by its position, 1 = newest), or undefined. */
  async get(id: string): Promise<MailMessage | undefined> {
    if (/^\d{1,6}$/.test(id)) return (await this.list()).reverse()[Number(id) - 1];
    if (!/^[\w-]+$/.test(id)) return undefined;
    try {
      return JSON.parse(await Deno.readTextFile(join(this.dir, `${id}.json`)));
    } catch {
      return undefined;
    }
  }

  /** The raw message, or undefined. */
  async raw(id: string): Promise<Uint8Array | undefined> {
    if (!/^[\w-]+$/.test(id)) return undefined;
    return await Deno.readFile(join(this.dir, `${id}.eml`)).catch(() => undefined);
  }

  /** Deletes every message; returns how many. */
  async clear(): Promise<number> {
    const all = await this.list();
    for (const m of all) {
      await Deno.remove(join(this.dir, `${m.id}.json`)).catch(() => {});
      await Deno.remove(join(this.dir, `${m.id}.eml`)).catch(() => {});
    }
    return all.length;
  }
}
