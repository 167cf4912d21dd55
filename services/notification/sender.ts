/**
 * The sender: takes due notifications (recorded by the consumer's steps), renders each for its
 * customer and sends it, then records the outcome. It wakes on `notification_due` (a trigger
 * notifies when a transaction that recorded notifications commits) and otherwise when the next
 * retry is due.
 *
 * Each notification keeps its own schedule: a failed send is retried with backoff on its own, so
 * the mail server being away delays everyone's email until it is back, and one customer's
 * refused address never holds up anyone else's. A notification is taken with a lease before it is
 * sent and marked SENT after, so a sender that dies between the two leaves it to be sent again
 * once the lease ends: email is at least once at this last step, like any SMTP client's.
 *
 * Several replicas send side by side: every one wakes on the commit, and `takeDue` hands each a
 * different batch (`for update skip locked` to pick, then the lease to keep it). A lease rather
 * than the row lock alone, because the send happens outside any transaction (an SMTP exchange
 * may take seconds; a transaction held that long would hold a connection, and a lost connection
 * would free the row while the email still goes out).
 * @module
 */
import type { Sql } from "@stocklet/shared/db";
import { getLog } from "@stocklet/shared/logging";
import type { BackgroundTask } from "@stocklet/shared/service";
import { afterFailure, composeEmail, type RetryPolicy } from "./domain.ts";
import { classifySendError, type Mailer, type SendFailure } from "./mailer.ts";
import {
  type CustomerRow,
  findCustomers,
  markFailed,
  markRetry,
  markSent,
  nextDue,
  type NotificationRow,
  takeDue,
} from "./store.ts";

const log = getLog("notification", "sender");

/** The channel the `notification_due` trigger notifies on. */
export const DUE_CHANNEL = "notification_due";

/** Options of {@linkcode sendDue} and {@linkcode notificationSender}. */
export interface SenderOptions {
  mailer: Mailer;
  retry: RetryPolicy;
  /** Notifications taken (and sent side by side) at once. @default 20 */
  batch?: number;
  /** How long a taken notification is held before another sender may take it. @default 60000 */
  leaseMs?: number;
  /** The longest sleep without a wake-up (a safety net for a lost notify). @default 5000 */
  idleMs?: number;
}

/** How one send ended. */
export type SendOutcome = "sent" | "retry" | "failed";

function recipientProblem(c: CustomerRow | undefined, customerId: string): SendFailure | undefined {
  if (!c || !c.email) {
    // The customer's creation event may simply not have been consumed yet.
    return { permanent: false, message: `no email address known for customer ${customerId} yet` };
  }
  if (c.deleted_at) return { permanent: true, message: `customer ${customerId} was deleted` };
  return undefined;
}

async function sendOne(
  sql: Sql,
  n: NotificationRow,
  customer: CustomerRow | undefined,
  opts: SenderOptions,
): Promise<SendOutcome> {
  let failure = recipientProblem(customer, n.customer_id);
  const to = customer?.email || null;
  if (!failure && customer) {
    const email = composeEmail(
      { kind: n.kind, orderId: n.order_id, subject: n.subject, facts: n.facts },
      { email: customer.email, firstName: customer.first_name, lastName: customer.last_name },
    );
    try {
      const { messageId } = await opts.mailer.send(email);
      await markSent(sql, n.id, { recipient: email.to, messageId });
      return "sent";
    } catch (error) {
      failure = classifySendError(error);
    }
  }
  const next = afterFailure(failure!, n.attempts, Date.now() - n.created_at.getTime(), opts.retry);
  if (next.retry) {
    await markRetry(sql, n.id, failure!.message, next.delayMs, to);
    log.warn(
      "notification {id} to {customer} not sent (attempt {attempts}), retry in {delay} ms: {error}",
      {
        id: n.id,
        customer: n.customer_id,
        attempts: n.attempts,
        delay: next.delayMs,
        error: failure!.message,
      },
    );
    return "retry";
  }
  await markFailed(sql, n.id, next.reason, to);
  log.error("notification {id} to {customer} failed for good: {error}", {
    id: n.id,
    customer: n.customer_id,
    error: next.reason,
  });
  return "failed";
}

/**
 * Takes one batch of due notifications, sends them side by side and records each outcome.
 *
 * @returns How many were taken, and how each ended.
 */
export async function sendDue(
  sql: Sql,
  opts: SenderOptions,
): Promise<{ taken: number; outcomes: Record<SendOutcome, number> }> {
  const rows = await takeDue(sql, opts.batch ?? 20, opts.leaseMs ?? 60_000);
  const outcomes: Record<SendOutcome, number> = { sent: 0, retry: 0, failed: 0 };
  if (!rows.length) return { taken: 0, outcomes };
  const customers = await findCustomers(sql, [...new Set(rows.map((r) => r.customer_id))]);
  // Customers side by side; one customer's emails one after the other, in the order of their
  // order's life (kinds are numbered that way), so "delivered" never overtakes "on its way".
  const byCustomer = new Map<string, NotificationRow[]>();
  for (const n of rows) {
    byCustomer.set(n.customer_id, [...(byCustomer.get(n.customer_id) ?? []), n]);
  }
  await Promise.all([...byCustomer.values()].map(async (list) => {
    list.sort((a, b) => a.order_id.localeCompare(b.order_id) || a.kind - b.kind);
    for (const n of list) {
      const outcome = await sendOne(sql, n, customers.get(n.customer_id), opts).catch((error) => {
        // The database went away between sending and recording: the lease runs out and the
        // notification is taken again.
        log.warn("recording notification {id} failed: {error}", { id: n.id, error });
        return "retry" as const;
      });
      outcomes[outcome]++;
    }
  }));
  return { taken: rows.length, outcomes };
}

/**
 * The background loop: sends whatever is due, then sleeps until woken by `notification_due`, until
 * the next retry is due, or for `idleMs` at most.
 */
export function notificationSender(sql: Sql, opts: SenderOptions): BackgroundTask {
  return async (signal) => {
    let dirty = true;
    let wake: (() => void) | undefined;
    const poke = () => {
      dirty = true;
      wake?.();
    };
    const listening = await sql.listen(DUE_CHANNEL, poke).catch((error) => {
      log.warn("cannot LISTEN {channel} (polling instead): {error}", {
        channel: DUE_CHANNEL,
        error,
      });
      return undefined;
    });
    signal.addEventListener("abort", () => wake?.(), { once: true });
    const batch = opts.batch ?? 20;
    const idleMs = opts.idleMs ?? 5_000;
    try {
      while (!signal.aborted) {
        dirty = false;
        try {
          let taken: number;
          do {
            ({ taken } = await sendDue(sql, opts));
          } while (taken === batch && !signal.aborted);
        } catch (error) {
          log.warn("sending notifications failed: {error}", { error });
        }
        if (signal.aborted) break;
        if (dirty) continue;
        const due = await nextDue(sql).catch(() => undefined);
        const waitMs = due === undefined
          ? idleMs
          : Math.max(0, Math.min(idleMs, due.getTime() - Date.now()));
        if (waitMs === 0) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, waitMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
          if (dirty || signal.aborted) wake();
        });
        wake = undefined;
      }
    } finally {
      await listening?.unlisten().catch(() => {});
      opts.mailer.close();
    }
  };
}
