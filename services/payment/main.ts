/**
 * The payment service: customer balances, and the payment (and refund) step of the place-order
 * saga.
 * @module
 */
import { runService } from "@stocklet/shared/service";
import { paymentReactions } from "./reactions.ts";
import { paymentRpc } from "./rpc.ts";

if (import.meta.main) {
  await runService("payment", {
    bindings: (sql) => [paymentRpc(sql)],
    reactions: () => paymentReactions(),
  });
}
