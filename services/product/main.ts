/**
 * The product service: the catalogue, and the price quote step of the place-order saga.
 * @module
 */
import { runService } from "@stocklet/shared/service";
import { productReactions } from "./reactions.ts";
import { productRpc } from "./rpc.ts";

if (import.meta.main) {
  await runService("product", {
    bindings: (sql) => [productRpc(sql)],
    reactions: () => productReactions(),
  });
}
