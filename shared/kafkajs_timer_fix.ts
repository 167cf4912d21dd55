/**
 * Stops kafkajs 2.2.4 from spinning a 1 ms timer per broker connection for as long as the process
 * lives. Its request queue re-arms a "check pending requests" timer after every check, computing
 * the delay as `throttledUntil - Date.now()`, which is hugely negative while no throttling is in
 * effect (`throttledUntil` starts at -1), so Node (and Deno) clamp it to 1 ms and print
 * `TimeoutNegativeWarning`. Measured here: about 1,000 wake-ups a second per connection, and about
 * 3 % of a core per idle consuming service. The timer only matters while requests wait in the
 * queue (throttled, or too many in flight: answers also trigger a check), so it is armed only then.
 *
 * Imported for its effect by shared/kafka.ts, before any client exists.
 * @module
 */
// @ts-types="./kafkajs_request_queue.d.ts"
import RequestQueue from "kafkajs/src/network/requestQueue/index.js";

/** Delay of the pending-requests check when nothing throttles (kafkajs' own constant). */
const CHECK_PENDING_REQUESTS_INTERVAL = 10;

const proto = RequestQueue.prototype;
if (!proto.__stockletTimerFix) {
  proto.__stockletTimerFix = true;
  proto.scheduleCheckPendingRequests = function (this: RequestQueue): void {
    if (this.pending.length === 0 || this.throttleCheckTimeoutId) return;
    const throttled = this.throttledUntil - Date.now();
    this.throttleCheckTimeoutId = setTimeout(() => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    }, throttled > 0 ? throttled : CHECK_PENDING_REQUESTS_INTERVAL);
  };
}
