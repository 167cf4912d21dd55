/**
 * The mail server away for a while: the notification service keeps every email PENDING (saying
 * why), retries with backoff without holding anything else up, and once the server is back every
 * email arrives, once.
 */
import assert from "node:assert/strict";
import { restartTestApp } from "@stocklet/scripts/stack";
import { stopApp } from "@stocklet/scripts/stack/apps";
import { api } from "@stocklet/testing/stack";

const opts = { sanitizeOps: false, sanitizeResources: false };

interface NotificationJson {
  kind: string;
  orderId: string;
  status: string;
  attempts?: number;
  lastError?: string;
}

Deno.test(
  "mail outage: emails wait while SMTP is down and arrive once it returns",
  opts,
  async () => {
    const a = await api();
    const p = await a.product(250, 10);
    const buyers = await Promise.all([a.customer(), a.customer()]);
    await Promise.all(buyers.map((c) => a.credit(c.id, 1_000n)));

    await stopApp("test", "mail");
    let back = false;
    try {
      const orders = await Promise.all(buyers.map(async (c) => {
        const o = await a.settled(c, (await a.place(c, { [p]: 1 })).id);
        assert.equal(o.status, "ORDER_STATUS_APPROVED", "the saga does not wait for email");
        return o;
      }));
      const notifications = (token: string) =>
        a.ok<{ notifications: NotificationJson[] }>("GET", "/v1/notification/list", { token });
      await a.eventually(async () => {
        const [n] = (await notifications(buyers[0]!.token)).notifications;
        return (n?.attempts ?? 0) >= 2 && n?.status === "NOTIFICATION_STATUS_PENDING";
      }, "a retried, still pending notification");
      const [pending] = (await notifications(buyers[0]!.token)).notifications;
      assert.match(pending!.lastError ?? "", /ECONNREFUSED|ECONNECTION|connect/i);
      assert.equal(pending!.orderId, orders[0]!.id);

      await new Promise((r) => setTimeout(r, 500)); // down "for a while" (retries go on)
      const t0 = Date.now();
      await restartTestApp("mail", a.stack.infra);
      back = true;
      for (const c of buyers) {
        const [m] = await a.mailArrives(c.email, 1, 15_000);
        assert.match(m!.subject, /is confirmed$/);
      }
      console.log(`SMTP back → both emails received in ${Date.now() - t0} ms`);
      for (const c of buyers) {
        await a.eventually(
          async () =>
            (await notifications(c.token)).notifications.every((n) =>
              n.status === "NOTIFICATION_STATUS_SENT"
            ),
          "notifications SENT",
        );
      }
      await new Promise((r) => setTimeout(r, 1_000));
      for (const c of buyers) assert.equal((await a.mailTo(c.email)).length, 1, "once each");
    } finally {
      if (!back) await restartTestApp("mail", a.stack.infra);
    }
  },
);
