/**
 * The warehouse service: stock levels, and the reserve / consume / return steps of the place-order
 * saga.
 * @module
 */
import { runService } from "@stocklet/shared/service";
import { warehouseReactions } from "./reactions.ts";
import { warehouseRpc } from "./rpc.ts";

if (import.meta.main) {
  await runService("warehouse", {
    bindings: (sql) => [warehouseRpc(sql)],
    reactions: () => warehouseReactions(),
  });
}
