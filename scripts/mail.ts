/**
 * `deno task mail [list|show <n|id>|raw <n|id>|clear] [--profile dev|test] [--to ADDRESS]`: the
 * local mail catcher's mailbox, read from the state folder (it works whether the stack runs or
 * not). `list` (the default) shows the newest messages first, numbered; `show 1` prints the newest
 * one's headers and text; `raw` prints the .eml; `clear` empties the mailbox. While the stack runs,
 * the same mailbox is a page at http://127.0.0.1:8025/ (dev).
 */
import { parseArgs } from "node:util";
import { isProfile } from "./infra/config.ts";
import { Mailbox, mailboxDirOf, type MailMessage } from "./mail/mailbox.ts";
import { mailboxUrl } from "./stack/config.ts";

function line(n: number, m: MailMessage): string {
  const when = new Date(m.receivedAt).toLocaleString();
  return `${String(n).padStart(3)}  ${when}  ${m.envelope.to.join(", ").padEnd(32)}  ${m.subject}`;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: {
      profile: { type: "string", default: "dev" },
      to: { type: "string" },
      limit: { type: "string", default: "30" },
    },
    allowPositionals: true,
  });
  const profile = values.profile!;
  if (!isProfile(profile)) throw new Error(`--profile ${profile}: expected dev or test`);
  const mailbox = new Mailbox(mailboxDirOf(profile));
  const [command = "list", id] = positionals;
  switch (command) {
    case "list": {
      const all = (await mailbox.list(values.to ? { to: values.to } : {})).reverse();
      if (!all.length) console.log(`the ${profile} mailbox is empty (${mailbox.dir})`);
      all.slice(0, Number(values.limit)).forEach((m, i) => console.log(line(i + 1, m)));
      if (all.length > Number(values.limit)) console.log(`… ${all.length} in all`);
      console.log(`\n${mailbox.dir}; page: ${mailboxUrl(profile)}/ (while the stack runs)`);
      return 0;
    }
    case "show":
    case "raw": {
      const m = await mailbox.get(id ?? "1");
      if (!m) {
        console.error(`no message ${id ?? "1"} in ${mailbox.dir}`);
        return 1;
      }
      if (command === "raw") {
        await Deno.stdout.write((await mailbox.raw(m.id)) ?? new Uint8Array());
        return 0;
      }
      console.log(
        [
          `From:     ${m.from}`,
          `To:       ${m.envelope.to.join(", ")}`,
          `Subject:  ${m.subject}`,
          `Received: ${m.receivedAt}`,
          `Id:       ${m.id} (${m.html ? "text and HTML" : "text only"})`,
          "",
          m.text,
        ].join("\n"),
      );
      return 0;
    }
    case "clear":
      console.log(`deleted ${await mailbox.clear()} message(s) from ${mailbox.dir}`);
      return 0;
    default:
      console.error(
        "usage: deno task mail [list|show <n|id>|raw <n|id>|clear] [--profile dev|test]",
      );
      return 2;
  }
}

if (import.meta.main) Deno.exit(await main());
