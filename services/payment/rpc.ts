/**
 * The payment API: customers see their own balance and transactions; admins credit balances
 * (`payment.balance.credited`).
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { requireAdmin, requireOwnerOrAdmin, requireUser } from "@stocklet/shared/auth";
import { type Sql, transaction } from "@stocklet/shared/db";
import { notFound } from "@stocklet/shared/errors";
import { findOwned } from "@stocklet/shared/owned";
import { pageOf, pageRequest } from "@stocklet/shared/paging";
import { payment } from "@stocklet/shared/proto";
import { bindService, type ServiceBinding } from "@stocklet/shared/server";
import { serviceInfo } from "@stocklet/shared/service_info";
import { creditBalance } from "./steps.ts";
import { findBalance, findTransaction, listTransactions, type TransactionRow } from "./store.ts";

function toTransaction(t: TransactionRow): payment.Transaction {
  return create(payment.TransactionSchema, {
    id: t.id,
    amountCents: t.amount_cents,
    orderId: t.order_id,
    customerId: t.customer_id,
    processedAt: timestampFromDate(t.processed_at),
    ...(t.reversed_at ? { reversedAt: timestampFromDate(t.reversed_at) } : {}),
  });
}

/** The PaymentService handlers. */
export function paymentRpc(sql: Sql): ServiceBinding {
  return bindService(payment.PaymentService, {
    serviceInfo: () => Promise.resolve(serviceInfo("payment")),

    async viewTransactions(req, ctx) {
      const user = requireUser(ctx.principal);
      const page = pageRequest(req.pageSize, req.pageToken);
      const rows = await listTransactions(sql, user.userId, page);
      const { items, nextPageToken } = pageOf(rows, page, (r) => r.id);
      return { transactions: items.map(toTransaction), nextPageToken };
    },

    async viewTransaction(req, ctx) {
      const t = await findOwned(
        ctx.principal,
        "transaction",
        () => findTransaction(sql, req.transactionId),
      );
      return { transaction: toTransaction(t) };
    },

    async viewBalance(req, ctx) {
      requireOwnerOrAdmin(ctx.principal, req.customerId);
      const cents = await findBalance(sql, req.customerId);
      if (cents === undefined) throw notFound("balance");
      return { balance: { customerId: req.customerId, balanceCents: cents } };
    },

    async creditBalance(req, ctx) {
      requireAdmin(ctx.principal);
      const cents = await transaction(sql, "credit balance", async (tx) => {
        const balance = await creditBalance(tx, req.customerId, req.amountCents);
        if (balance === undefined) throw notFound("balance");
        return balance;
      });
      return { balance: { customerId: req.customerId, balanceCents: cents } };
    },
  });
}
