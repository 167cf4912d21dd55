/**
 * The notification service: keeps its own projection of the customers' addresses from the user
 * events, records an email for every business event a customer hears about (order approved,
 * rejected, shipped, delivered, cancelled and refunded) and sends them over SMTP, retrying with
 * backoff while the mail server is away.
 * @module
 */
import { int, str, url } from "@stocklet/shared/config";
import { runService } from "@stocklet/shared/service";
import { DEFAULT_PORTS } from "@stocklet/shared/topology";
import { smtpMailer } from "./mailer.ts";
import { notificationReactions } from "./reactions.ts";
import { notificationRpc } from "./rpc.ts";
import { notificationSender } from "./sender.ts";

if (import.meta.main) {
  await runService("notification", {
    config: {
      /** The mail server: `smtp://[user:password@]host:port`, or `smtps://…` for TLS. */
      smtpUrl: url("NOTIFICATION_SMTP_URL", {
        protocols: ["smtp", "smtps"],
        default: `smtp://127.0.0.1:${DEFAULT_PORTS.smtp}`,
      }),
      /** Who the emails are from. */
      from: str("NOTIFICATION_FROM", { default: "Stocklet <orders@stocklet.local>" }),
      /** The first retry's delay after a failed send. */
      retryBaseMs: int("NOTIFICATION_RETRY_BASE_MS", { default: 1_000, min: 10 }),
      /** The longest delay between two attempts. */
      retryMaxMs: int("NOTIFICATION_RETRY_MAX_MS", { default: 300_000, min: 10 }),
      /** A notification still failing this long after its event is given up (FAILED). */
      giveUpAfterMs: int("NOTIFICATION_GIVE_UP_AFTER_MS", { default: 86_400_000, min: 1_000 }),
    },
    bindings: (sql) => [notificationRpc(sql)],
    reactions: () => notificationReactions(),
    tasks: (sql, config) => [
      notificationSender(sql, {
        mailer: smtpMailer({ url: config.smtpUrl, from: config.from }),
        retry: {
          baseMs: config.retryBaseMs,
          maxMs: Math.max(config.retryBaseMs, config.retryMaxMs),
          giveUpAfterMs: config.giveUpAfterMs,
        },
      }),
    ],
  });
}
