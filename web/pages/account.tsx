/**
 * The signed-in customer's balance with their transactions, and the emails the notification
 * service sent them.
 * @module
 */
import { shortId } from "../timeline.ts";
import type { NotificationJson, TransactionJson } from "../api.ts";
import { Layout, Money, type PageContext, Pager, ShortId, When } from "./layout.tsx";

/** Balance and transactions. */
export function BalancePage(props: {
  ctx: PageContext;
  balanceCents: string | undefined;
  transactions: readonly TransactionJson[];
  next: string | undefined;
}) {
  return (
    <Layout ctx={props.ctx} title="Balance">
      <h1>Balance</h1>
      {props.balanceCents === undefined
        ? <p>Your balance is being opened; it appears here in a moment.</p>
        : (
          <p class="balance">
            <span>Available</span>{" "}
            <strong data-balance>
              <Money cents={props.balanceCents} />
            </strong>
          </p>
        )}
      <h2>Transactions</h2>
      {props.transactions.length === 0 ? <p>No payments yet.</p> : (
        <table class="lines">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Order</th>
              <th scope="col" class="num">Amount</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {props.transactions.map((t) => (
              <tr>
                <td>
                  <When at={t.processedAt} />
                </td>
                <td>
                  <a href={`/orders/${t.orderId}`} aria-label={`Order ${shortId(t.orderId)}`}>
                    <ShortId id={t.orderId} />
                  </a>
                </td>
                <td class="num">
                  −<Money cents={t.amountCents} />
                </td>
                <td>
                  {t.reversedAt
                    ? (
                      <span>
                        Refunded <When at={t.reversedAt} />
                      </span>
                    )
                    : "Paid"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager next={props.next} href={(t) => `/account?page=${encodeURIComponent(t)}`} />
    </Layout>
  );
}

/** Words for a notification's kind or status (`NOTIFICATION_STATUS_SENT` → "Sent"). */
export function notificationWords(text: string | undefined): string {
  if (!text) return "";
  const bare = text.replace(/^[A-Z]+_(KIND|STATUS)_/, "").replaceAll("_", " ").toLowerCase();
  return bare.charAt(0).toUpperCase() + bare.slice(1);
}

/** An email's status in words, with why the last attempt failed when it did. */
function EmailStatus(props: { n: NotificationJson }) {
  const { n } = props;
  const word = notificationWords(n.status) || "Pending";
  const retrying = word === "Pending" && (n.attempts ?? 0) > 0;
  return (
    <>
      <span class={`email email-${word.toLowerCase()}`} data-email-status>
        {retrying ? "Pending (retrying)" : word}
      </span>
      {n.lastError && (word === "Failed" || retrying) && (
        <span class="hint">
          {" "}
          {n.lastError}
        </span>
      )}
    </>
  );
}

/** The customer's emails, newest first: when, what, about which order, and whether it went out. */
export function NotificationsPage(props: {
  ctx: PageContext;
  notifications: readonly NotificationJson[];
  next: string | undefined;
}) {
  return (
    <Layout ctx={props.ctx} title="Notifications">
      <h1>Notifications</h1>
      <p class="meta">The emails we sent you about your orders, newest first.</p>
      {props.notifications.length === 0
        ? <p>Nothing yet: you get an email whenever one of your orders changes.</p>
        : (
          <table class="lines notifications">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Subject</th>
                <th scope="col">Order</th>
                <th scope="col">Email</th>
              </tr>
            </thead>
            <tbody>
              {props.notifications.map((n) => (
                <tr data-kind={n.kind}>
                  <td>
                    <When at={n.sentAt ?? n.createdAt} />
                  </td>
                  <th scope="row">{n.subject || notificationWords(n.kind)}</th>
                  <td>
                    {n.orderId
                      ? (
                        <a href={`/orders/${n.orderId}`} aria-label={`Order ${shortId(n.orderId)}`}>
                          <ShortId id={n.orderId} />
                        </a>
                      )
                      : "—"}
                  </td>
                  <td>
                    <EmailStatus n={n} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      <Pager next={props.next} href={(t) => `/notifications?page=${encodeURIComponent(t)}`} />
    </Layout>
  );
}
