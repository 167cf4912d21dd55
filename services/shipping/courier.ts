/**
 * The courier simulator (development): a stand-in for the warehouse staff and the carrier, so a
 * person watching `deno task dev` sees an order's whole life without calling the admin routes. An
 * approved order's shipment is dispatched `dispatchMs` after its approval (carrier "Stocklet
 * Courier", a made-up tracking number), and delivered `deliverMs` after its dispatch, through the
 * same steps as the admin routes, so a cancellation races it exactly as it races a person.
 *
 * Off unless `STOCKLET_COURIER=on` (`deno task dev` turns it on; tests and compose leave it off).
 * The timers live in the database (approved_at, dispatched_at), so a restart loses none, and
 * several replicas share the work: each round locks the shipments it moves
 * (`for update skip locked`) in the transaction that moves them, so no shipment is dispatched or
 * delivered twice and no replica waits for another.
 * @module
 */
import { type Sql, transaction } from "@stocklet/shared/db";
import { getLog } from "@stocklet/shared/logging";
import { type BackgroundTask, pause } from "@stocklet/shared/service";
import { deliverShipment, dispatchShipment } from "./steps.ts";
import { lockDue } from "./store.ts";

const log = getLog("shipping", "courier");

/** The simulated carrier's name. */
export const COURIER_CARRIER = "Stocklet Courier";

/** Options of {@linkcode courierSimulator}. */
export interface CourierOptions {
  /** How long after approval a shipment is dispatched. */
  dispatchMs: number;
  /** How long after dispatch it is delivered. */
  deliverMs: number;
  /** How often it looks for due shipments. @default 500 */
  intervalMs?: number;
  /** Shipments moved per transaction. @default 50 */
  batch?: number;
}

/** A made-up tracking number, e.g. `SC-7KQ2M9XD4T`. */
export function trackingNumber(): string {
  const alphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  return "SC-" + Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

/**
 * Moves every due shipment one step: dispatches those approved more than `dispatchMs` ago and
 * delivers those dispatched more than `deliverMs` ago. Returns how many it moved.
 */
export async function courierRound(sql: Sql, opts: CourierOptions): Promise<number> {
  const batch = opts.batch ?? 50;
  const now = Date.now();
  const dispatched = await transaction(sql, "courier dispatch", async (tx) => {
    const ids = await lockDue(tx, "dispatch", new Date(now - opts.dispatchMs), batch);
    for (const id of ids) {
      await dispatchShipment(tx, id, {
        carrier: COURIER_CARRIER,
        trackingNumber: trackingNumber(),
      });
    }
    return ids.length;
  });
  const delivered = await transaction(sql, "courier delivery", async (tx) => {
    const ids = await lockDue(tx, "delivery", new Date(now - opts.deliverMs), batch);
    for (const id of ids) await deliverShipment(tx, id);
    return ids.length;
  });
  if (dispatched || delivered) {
    log.info("courier: dispatched {dispatched}, delivered {delivered}", { dispatched, delivered });
  }
  return dispatched + delivered;
}

/** The background loop that runs {@linkcode courierRound} every interval. */
export function courierSimulator(sql: Sql, opts: CourierOptions): BackgroundTask {
  return async (signal) => {
    log.info(
      "courier simulator on: dispatch {dispatchMs} ms after approval, delivery {deliverMs} ms after dispatch",
      {
        dispatchMs: opts.dispatchMs,
        deliverMs: opts.deliverMs,
      },
    );
    while (!signal.aborted) {
      await pause(opts.intervalMs ?? 500, signal);
      if (signal.aborted) return;
      await courierRound(sql, opts).catch((error) =>
        log.warn("courier round failed: {error}", { error })
      );
    }
  };
}
