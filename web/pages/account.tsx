/**
 * The signed-in customer's balance with their transactions, and their notifications (from the
 * notification service, once it exists).
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

/** Words for a notification's kind (`ORDER_APPROVED` → "Order approved"). */
function words(text: string | undefined): string {
  if (!text) return "";
  const bare = text.replace(/^[A-Z]+_(KIND|STATUS)_/, "").replaceAll("_", " ").toLowerCase();
  return bare.charAt(0).toUpperCase() + bare.slice(1);
}

/** The customer's notifications, newest first. */
export function NotificationsPage(props: {
  ctx: PageContext;
  notifications: readonly NotificationJson[];
  next: string | undefined;
}) {
  return (
    <Layout ctx={props.ctx} title="Notifications">
      <h1>Notifications</h1>
      {props.notifications.length === 0
        ? <p>Nothing yet: you get an email whenever one of your orders changes.</p>
        : (
          <table class="lines">
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
                <tr>
                  <td>
                    <When at={n.sentAt ?? n.createdAt} />
                  </td>
                  <td>{n.subject ?? words(n.kind)}</td>
                  <td>
                    {n.orderId ? <a href={`/orders/${n.orderId}`}>{shortId(n.orderId)}</a> : "—"}
                  </td>
                  <td>{words(n.status)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      <Pager next={props.next} href={(t) => `/notifications?page=${encodeURIComponent(t)}`} />
    </Layout>
  );
}
