/**
 * The sender against its real database and a real SMTP server (the project's mail catcher, in
 * this process): what the server received (recipient, subject, both bodies), retries while the
 * server is away and delivery once it is back, a permanent refusal recorded as FAILED without
 * holding anyone else up, and the background loop woken by the commit.
 */
import assert from "node:assert/strict";
// @ts-types="@types/smtp-server"
import { SMTPServer } from "smtp-server";
import { connectDb, transaction } from "@stocklet/shared/db";
import { uuidv7 } from "@stocklet/shared/ids";
import { type MailCatcher, startMailCatcher } from "@stocklet/scripts/mail/catcher";
import { createTestDb } from "@stocklet/testing/db";
import { Kind, NotificationStatus } from "./domain.ts";
import { smtpMailer } from "./mailer.ts";
import { notificationSender, sendDue, type SenderOptions } from "./sender.ts";
import { recordNotification } from "./steps.ts";
import { insertCustomer } from "./store.ts";

const RETRY = { baseMs: 50, maxMs: 200, giveUpAfterMs: 60_000 };

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("notification sender: real SMTP, retries while it is away, permanent refusals", async (t) => {
  const db = await createTestDb("notification");
  const dir = await Deno.makeTempDir({ prefix: "stocklet-mailbox-" });
  const smtpPort = freePort();
  let catcher: MailCatcher | undefined = await startMailCatcher({ smtpPort, httpPort: 0, dir });
  const mailer = smtpMailer({
    url: `smtp://127.0.0.1:${smtpPort}`,
    from: "Stocklet <orders@stocklet.test>",
    timeoutMs: 2_000,
  });
  const opts: SenderOptions = { mailer, retry: RETRY, batch: 20 };
  const customer = async (first = "Ann") => {
    const id = uuidv7();
    const email = `${first.toLowerCase()}-${id.slice(-6)}@example.com`;
    await transaction(
      db.sql,
      "customer",
      (tx) => insertCustomer(tx, { id, email, firstName: first, lastName: "Lee" }),
    );
    return { id, email };
  };
  const notify = (customerId: string, kind = Kind.ORDER_APPROVED, orderId = uuidv7()) =>
    transaction(
      db.sql,
      "notify",
      (tx) => recordNotification(tx, kind, { orderId, customerId }, { amountCents: "4148" }),
    ).then(() => orderId);
  const statusOf = async (orderId: string) =>
    (await db.sql<Array<{ status: number; attempts: number; last_error: string | null }>>`
      select status, attempts, last_error from notifications where order_id = ${orderId}`)[0]!;
  const until = async (what: string, fn: () => Promise<boolean>, ms = 10_000) => {
    const deadline = Date.now() + ms;
    while (!(await fn())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  try {
    await t.step(
      "a due notification is sent: the server received text and HTML for the customer",
      async () => {
        const c = await customer("Ann");
        const orderId = await notify(c.id);
        const r = await sendDue(db.sql, opts);
        assert.deepEqual([r.taken, r.outcomes.sent], [1, 1]);
        const [m] = await catcher!.mailbox.list({ to: c.email });
        assert.ok(m, "the SMTP server received it");
        assert.deepEqual(m.envelope.to, [c.email]);
        assert.match(m.subject, /is confirmed$/);
        assert.match(m.from, /orders@stocklet\.test/);
        assert.match(m.text, /^Hello Ann,/);
        assert.match(m.text, new RegExp(orderId));
        assert.match(m.text, /41\.48/);
        assert.match(m.html, /<p>Hello Ann,<\/p>/);
        assert.equal((await statusOf(orderId)).status, NotificationStatus.SENT);
        const [row] = await db.sql<Array<{ recipient: string; message_id: string }>>`
        select recipient, message_id from notifications where order_id = ${orderId}`;
        assert.equal(row!.recipient, c.email);
        assert.ok(row!.message_id);
        assert.deepEqual(await sendDue(db.sql, opts), {
          taken: 0,
          outcomes: { sent: 0, retry: 0, failed: 0 },
        });
      },
    );

    await t.step(
      "the server away: retried with backoff, delivered once it is back, once",
      async () => {
        const c = await customer("Bob");
        await catcher!.stop();
        catcher = undefined;
        const orderId = await notify(c.id);
        const first = await sendDue(db.sql, opts);
        assert.deepEqual(first.outcomes, { sent: 0, retry: 1, failed: 0 });
        const failed = await statusOf(orderId);
        assert.equal(failed.status, NotificationStatus.PENDING);
        assert.match(failed.last_error ?? "", /ECONNREFUSED|ECONNECTION|connect/i);
        await new Promise((r) => setTimeout(r, RETRY.maxMs + 50));
        await sendDue(db.sql, opts);
        assert.ok((await statusOf(orderId)).attempts >= 2, "tried again after the backoff");
        catcher = await startMailCatcher({ smtpPort, httpPort: 0, dir });
        await until("the email after the server came back", async () => {
          await sendDue(db.sql, opts);
          return (await statusOf(orderId)).status === NotificationStatus.SENT;
        });
        assert.equal((await catcher.mailbox.list({ to: c.email })).length, 1, "exactly one email");
      },
    );

    await t.step("a customer not known yet is retried; a deleted one is given up", async () => {
      const ghost = uuidv7();
      const orderId = await notify(ghost);
      assert.deepEqual((await sendDue(db.sql, opts)).outcomes.retry, 1);
      assert.match((await statusOf(orderId)).last_error ?? "", /no email address known/);
      await transaction(
        db.sql,
        "customer",
        (tx) =>
          insertCustomer(tx, {
            id: ghost,
            email: "late@example.com",
            firstName: "Late",
            lastName: "Comer",
          }),
      );
      await until("the late customer's email", async () => {
        await sendDue(db.sql, opts);
        return (await statusOf(orderId)).status === NotificationStatus.SENT;
      });
      const gone = await customer("Gone");
      await db.sql`update customers set deleted_at = now() where id = ${gone.id}`;
      const goneOrder = await notify(gone.id);
      await sendDue(db.sql, opts);
      const g = await statusOf(goneOrder);
      assert.equal(g.status, NotificationStatus.FAILED);
      assert.match(g.last_error ?? "", /was deleted/);
    });

    await t.step(
      "a permanent refusal (550) is FAILED at once and holds nobody else up",
      async () => {
        const strictPort = freePort();
        const accepted: string[] = [];
        const strict = new SMTPServer({
          authOptional: true,
          disabledCommands: ["STARTTLS"],
          logger: false,
          onRcptTo(address, _session, cb) {
            if (address.address.startsWith("bounce")) {
              const e = new Error("mailbox unavailable") as Error & { responseCode: number };
              e.responseCode = 550;
              return cb(e);
            }
            cb();
          },
          onData(stream, session, cb) {
            stream.on("data", () => {});
            stream.on("end", () => {
              accepted.push(...session.envelope.rcptTo.map((r) => r.address));
              cb();
            });
          },
        });
        await new Promise<void>((r) => strict.listen(strictPort, "127.0.0.1", () => r()));
        const strictMailer = smtpMailer({
          url: `smtp://127.0.0.1:${strictPort}`,
          from: "s@stocklet.test",
        });
        try {
          const bounce = await customer("Bounce");
          const fine = await customer("Fine");
          const bad = await notify(bounce.id);
          const good = await notify(fine.id);
          const r = await sendDue(db.sql, { ...opts, mailer: strictMailer });
          assert.deepEqual(r.outcomes, { sent: 1, retry: 0, failed: 1 });
          const b = await statusOf(bad);
          assert.equal(b.status, NotificationStatus.FAILED);
          assert.match(b.last_error ?? "", /550|mailbox unavailable/);
          assert.equal((await statusOf(good)).status, NotificationStatus.SENT);
          assert.deepEqual(accepted, [fine.email]);
        } finally {
          strictMailer.close();
          await new Promise<void>((r) => strict.close(() => r()));
        }
      },
    );

    await t.step("a burst: 400 emails for 40 customers, every one received once", async () => {
      const customers = await Promise.all(
        Array.from({ length: 40 }, (_, i) => customer(`Burst${i}`)),
      );
      await transaction(db.sql, "burst", async (tx) => {
        for (const c of customers) {
          for (let k = 0; k < 10; k++) {
            await recordNotification(tx, Kind.ORDER_APPROVED, {
              orderId: uuidv7(),
              customerId: c.id,
            }, {
              amountCents: "100",
            });
          }
        }
      });
      const t0 = performance.now();
      let sent = 0;
      while (sent < 400) {
        const r = await sendDue(db.sql, opts);
        if (!r.taken) break;
        sent += r.outcomes.sent;
      }
      const secs = (performance.now() - t0) / 1000;
      console.log(
        `burst: ${sent} emails in ${secs.toFixed(2)} s = ${(sent / secs).toFixed(0)} emails/s`,
      );
      assert.equal(sent, 400);
      for (const c of customers.slice(0, 5)) {
        assert.equal((await catcher!.mailbox.list({ to: c.email })).length, 10);
      }
    });

    await t.step("two replicas' senders at once: every email sent once", async () => {
      const customers = await Promise.all(
        Array.from({ length: 6 }, (_, i) => customer(`Twin${i}`)),
      );
      const stop = new AbortController();
      // Two replicas: each its own pool (its own LISTEN and locks) and its own SMTP connection.
      const other = connectDb(db.url, { max: 3 });
      const sender = (sql: typeof db.sql) =>
        notificationSender(sql, {
          ...opts,
          batch: 4,
          mailer: smtpMailer({
            url: `smtp://127.0.0.1:${smtpPort}`,
            from: "Stocklet <orders@stocklet.test>",
          }),
          idleMs: 200,
        })(stop.signal);
      const loops = [sender(db.sql), sender(other)];
      try {
        for (const c of customers) {
          for (let k = 0; k < 5; k++) await notify(c.id, Kind.ORDER_APPROVED);
        }
        const ids = customers.map((c) => c.id);
        await until("every email sent", async () => {
          const [row] = await db.sql<Array<{ n: number }>>`
            select count(*)::int as n from notifications
            where customer_id = any(${ids}::uuid[]) and status = ${NotificationStatus.SENT}`;
          return row!.n === 30;
        }, 20_000);
        for (const c of customers) {
          assert.equal((await catcher!.mailbox.list({ to: c.email })).length, 5, c.email);
        }
      } finally {
        stop.abort();
        await Promise.all(loops);
        await other.end({ timeout: 5 });
      }
    });

    await t.step("the background sender wakes on the commit and sends at once", async () => {
      const stop = new AbortController();
      const loop = notificationSender(db.sql, {
        ...opts,
        mailer: smtpMailer({
          url: `smtp://127.0.0.1:${smtpPort}`,
          from: "Stocklet <orders@stocklet.test>",
        }),
        idleMs: 30_000,
      })(stop.signal);
      try {
        await new Promise((r) => setTimeout(r, 300)); // listening, idle
        const c = await customer("Cy");
        const t0 = performance.now();
        await notify(c.id, Kind.ORDER_DELIVERED);
        await until(
          "the woken sender's email",
          async () => (await catcher!.mailbox.list({ to: c.email })).length === 1,
          5_000,
        );
        const ms = performance.now() - t0;
        console.log(`commit → email received by the SMTP server: ${ms.toFixed(0)} ms`);
        assert.ok(ms < 3_000, `took ${ms} ms: not woken by the commit (idle is 30 s)`);
      } finally {
        stop.abort();
        await loop;
      }
    });
  } finally {
    mailer.close();
    await catcher?.stop();
    await db.drop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
