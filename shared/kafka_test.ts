import assert from "node:assert/strict";
import { DEFAULT_REPLAY_HORIZON_MS, replayHorizonOf } from "./kafka.ts";

const DAY = 86_400_000;

Deno.test("replayHorizonOf: retention plus a segment's span plus the broker's check interval", () => {
  // Kafka deletes a segment once its newest record is past retention: the oldest record of a
  // segment that spans segment.ms lives that much longer.
  assert.equal(replayHorizonOf(7 * DAY, 7 * DAY), 14 * DAY + 300_000);
  assert.equal(replayHorizonOf(3_600_000, 600_000), 4_200_000 + 300_000);
  assert.equal(replayHorizonOf(-1, 7 * DAY), Infinity, "kept forever");
  assert.equal(DEFAULT_REPLAY_HORIZON_MS, 14 * DAY + 300_000);
});
