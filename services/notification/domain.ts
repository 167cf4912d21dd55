/**
 * The notification service's rules: which business events become an email, what each email says
 * (plain text and HTML, with the customer's name), the status of a notification and its moves, and
 * how a failed send is retried. Pure.
 *
 * A notification is PENDING from the moment its event is consumed until the mail server accepts
 * it (SENT); a refusal that can never succeed (the server's 5xx answer, no address for the
 * customer in time) makes it FAILED. Anything else is retried with a capped exponential backoff.
 * @module
 */
import { events, notification } from "@stocklet/shared/proto";
import { type StatusMachine, statusMachine } from "@stocklet/shared/status_machine";

/** The kinds of notification (the API's enum; the numbers are stored). */
export const Kind = notification.NotificationKind;
/** A kind of notification. */
export type Kind = notification.NotificationKind;

/** Notification statuses (the API's enum; the numbers are stored). */
export const NotificationStatus = notification.NotificationStatus;
/** A notification status. */
export type NotificationStatus = notification.NotificationStatus;

/** The moves a notification may make: sent, or given up. */
export const transitions: StatusMachine<NotificationStatus> = statusMachine<NotificationStatus>({
  [NotificationStatus.PENDING]: [NotificationStatus.SENT, NotificationStatus.FAILED],
  [NotificationStatus.SENT]: [],
  [NotificationStatus.FAILED]: [],
});

/** What an email tells besides the customer's name, as recorded with the notification. */
export interface Facts {
  /** The order's total (approved) or what was refunded (cancelled), in cents, as a string. */
  amountCents?: string;
  /** Why the order was rejected (the event's reason name, e.g. `INSUFFICIENT_STOCK`). */
  reason?: string;
  carrier?: string;
  trackingNumber?: string;
}

/** Who an email goes to. */
export interface Recipient {
  email: string;
  firstName: string;
  lastName: string;
}

/** An email, ready to send. */
export interface Email {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Why an order was rejected, in words a customer understands. */
export function reasonInWords(reason: string | undefined): string {
  switch (reason) {
    case "PRODUCT_UNAVAILABLE":
      return "a product in it is no longer in our catalogue";
    case "INSUFFICIENT_STOCK":
      return "we do not have enough stock of a product in it";
    case "SHIPMENT_FAILED":
      return "it is too large to ship as one parcel";
    case "PAYMENT_FAILED":
      return "your balance does not cover its total";
    case "TIMEOUT":
      return "we could not complete it in time";
    default:
      return "it could not be completed";
  }
}

/** The event's reason as recorded (`REASON_INSUFFICIENT_STOCK` → `INSUFFICIENT_STOCK`). */
export function reasonName(reason: events.OrderRejectedEvent_Reason): string {
  return events.OrderRejectedEvent_Reason[reason] ?? "UNSPECIFIED";
}

/**
 * Cents as an amount, e.g. `123456` → `1,234.56`.
 *
 * @example
 * ```ts
 * formatCents("5"); // "0.05"
 * ```
 */
export function formatCents(cents: string | bigint | undefined): string {
  const n = BigInt(cents ?? 0);
  const sign = n < 0n ? "-" : "";
  const abs = n < 0n ? -n : n;
  const units = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${sign}${units}.${(abs % 100n).toString().padStart(2, "0")}`;
}

/** The short form of an order id shown to customers (its last 8 hex digits, `#3f9a1c2e`). */
export function orderRef(orderId: string): string {
  return `#${orderId.replaceAll("-", "").slice(-8)}`;
}

/** An email's subject: it names the order and what happened, but not the customer. */
export function subjectOf(kind: Kind, orderId: string, facts: Facts): string {
  const o = `order ${orderRef(orderId)}`;
  switch (kind) {
    case Kind.ORDER_APPROVED:
      return `Your ${o} is confirmed`;
    case Kind.ORDER_REJECTED:
      return `Your ${o} could not be placed`;
    case Kind.ORDER_SHIPPED:
      return `Your ${o} is on its way`;
    case Kind.ORDER_DELIVERED:
      return `Your ${o} was delivered`;
    case Kind.ORDER_CANCELLED:
      return BigInt(facts.amountCents ?? 0) > 0n
        ? `Your ${o} was cancelled and ${formatCents(facts.amountCents)} refunded`
        : `Your ${o} was cancelled`;
    default:
      return `News about your ${o}`;
  }
}

/** The paragraphs of an email's body (without greeting and signature). */
export function paragraphsOf(kind: Kind, orderId: string, facts: Facts): string[] {
  const o = `order ${orderRef(orderId)} (${orderId})`;
  switch (kind) {
    case Kind.ORDER_APPROVED:
      return [
        `Thank you: your ${o} is confirmed. We took ${
          formatCents(facts.amountCents)
        } from your balance and will let you know when it ships.`,
      ];
    case Kind.ORDER_REJECTED:
      return [
        `We are sorry: your ${o} could not be placed because ${reasonInWords(facts.reason)}.`,
        "Nothing was taken from your balance.",
      ];
    case Kind.ORDER_SHIPPED:
      return [
        `Your ${o} left our warehouse with ${facts.carrier ?? "our carrier"}.`,
        `Tracking number: ${facts.trackingNumber ?? "not given"}.`,
      ];
    case Kind.ORDER_DELIVERED:
      return [
        `${facts.carrier ?? "The carrier"} delivered your ${o}` +
        (facts.trackingNumber ? ` (tracking number ${facts.trackingNumber}).` : "."),
        "We hope you enjoy it.",
      ];
    case Kind.ORDER_CANCELLED:
      return [
        `Your ${o} was cancelled as you asked.`,
        BigInt(facts.amountCents ?? 0) > 0n
          ? `We refunded ${formatCents(facts.amountCents)} to your balance.`
          : "Nothing had been taken from your balance.",
      ];
    default:
      return [`There is news about your ${o}.`];
  }
}

function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}

/**
 * The email of a notification for its recipient: the subject as recorded, a plain-text body and
 * the same in HTML, greeting the customer by name.
 */
export function composeEmail(
  n: { kind: Kind; orderId: string; subject: string; facts: Facts },
  to: Recipient,
): Email {
  const name = to.firstName.trim() || to.email;
  const paragraphs = paragraphsOf(n.kind, n.orderId, n.facts);
  const signature = "The Stocklet team";
  const text = [`Hello ${name},`, ...paragraphs, signature].join("\n\n") + "\n";
  const html = [
    "<!doctype html>",
    `<html><head><meta charset="utf-8"><title>${escapeHtml(n.subject)}</title></head>`,
    '<body style="font-family: sans-serif; line-height: 1.5">',
    `<p>Hello ${escapeHtml(name)},</p>`,
    ...paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`),
    `<p>${signature}</p>`,
    "</body></html>",
  ].join("\n");
  return { to: to.email, subject: n.subject, text, html };
}

/** How failed sends are retried. */
export interface RetryPolicy {
  /** The first retry's delay (ms). */
  baseMs: number;
  /** The longest delay between two attempts (ms). */
  maxMs: number;
  /** A notification still failing this long after it was recorded is given up (ms). */
  giveUpAfterMs: number;
}

/**
 * The delay before the next attempt after `attempts` failed ones: doubling from `baseMs`, capped
 * at `maxMs`, with up to 20 % jitter so that a recovering server is not hit by every retry at once.
 *
 * @param random A number in [0, 1) (Math.random by default).
 */
export function backoffMs(attempts: number, policy: RetryPolicy, random = Math.random()): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(exp * (0.8 + 0.2 * random));
}

/** A failed send's outcome: try again at a time, or give up. */
export type FailureOutcome =
  | { retry: true; delayMs: number }
  | { retry: false; reason: string };

/**
 * What to do after a failed send: a permanent refusal gives up at once; anything else is retried
 * with {@linkcode backoffMs}, unless the notification is older than the give-up age.
 */
export function afterFailure(
  failure: { permanent: boolean; message: string },
  attempts: number,
  ageMs: number,
  policy: RetryPolicy,
): FailureOutcome {
  if (failure.permanent) return { retry: false, reason: failure.message };
  if (ageMs >= policy.giveUpAfterMs) {
    return {
      retry: false,
      reason: `gave up after ${attempts} attempts in ${
        Math.round(ageMs / 1000)
      } s: ${failure.message}`,
    };
  }
  return { retry: true, delayMs: backoffMs(attempts, policy) };
}
