/**
 * The notification API: a customer sees what was sent to them, newest first; an admin sees any
 * customer's.
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { isAdmin, requireUser } from "@stocklet/shared/auth";
import type { Sql } from "@stocklet/shared/db";
import { permissionDenied } from "@stocklet/shared/errors";
import { pageOf, pageRequest } from "@stocklet/shared/paging";
import { notification } from "@stocklet/shared/proto";
import { bindService, type ServiceBinding } from "@stocklet/shared/server";
import { serviceInfo } from "@stocklet/shared/service_info";
import { listNotifications, type NotificationRow } from "./store.ts";

/** The wire form of a notification. */
export function toNotification(n: NotificationRow): notification.Notification {
  return create(notification.NotificationSchema, {
    id: n.id,
    kind: n.kind,
    customerId: n.customer_id,
    orderId: n.order_id,
    subject: n.subject,
    status: n.status,
    createdAt: timestampFromDate(n.created_at),
    ...(n.sent_at ? { sentAt: timestampFromDate(n.sent_at) } : {}),
    recipient: n.recipient ?? "",
    attempts: n.attempts,
    lastError: n.last_error ?? "",
  });
}

/** The NotificationService handlers. */
export function notificationRpc(sql: Sql): ServiceBinding {
  return bindService(notification.NotificationService, {
    serviceInfo: () => Promise.resolve(serviceInfo("notification")),

    async viewNotifications(req, ctx) {
      const user = requireUser(ctx.principal);
      const customerId = req.customerId || user.userId;
      if (customerId !== user.userId && !isAdmin(user)) {
        throw permissionDenied("customers may list only their own notifications");
      }
      const page = pageRequest(req.pageSize, req.pageToken);
      const rows = await listNotifications(sql, customerId, page);
      const { items, nextPageToken } = pageOf(rows, page, (r) => r.id);
      return { notifications: items.map(toNotification), nextPageToken };
    },
  });
}
