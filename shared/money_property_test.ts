/**
 * Properties of money on the wire (fast-check): an amount in cents goes through proto3 JSON (as a
 * string or a number) and back exactly — no float ever touches it — and the contract's bounds
 * accept every allowed amount and refuse every other.
 */
import assert from "node:assert/strict";
import { toJson } from "@bufbuild/protobuf";
import fc from "fast-check";
import type { JsonValue } from "@bufbuild/protobuf";
import * as proto from "./proto.ts";
import { decodeJson } from "./server/transcode.ts";
import { violationsOf } from "./validation.ts";

const MAX_PRICE = 100_000_000_000n;
const desc = proto.product.CreateProductRequestSchema;

/** Decodes a CreateProductRequest as the REST gateway does. */
function decode(json: JsonValue): proto.product.CreateProductRequest {
  return decodeJson(desc, json) as proto.product.CreateProductRequest;
}

Deno.test("a price in cents round-trips through REST JSON exactly, string or number", () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: MAX_PRICE }), (cents) => {
      const fromString = decode({ name: "x", priceCents: cents.toString() });
      assert.equal(fromString.priceCents, cents);
      // Up to 2^53 a JSON number is exact too; the bound (1e11) is well below.
      const fromNumber = decode({ name: "x", price_cents: Number(cents) });
      assert.equal(fromNumber.priceCents, cents);
      const out = toJson(desc, fromString, { alwaysEmitImplicit: true }) as { priceCents: string };
      assert.equal(out.priceCents, cents.toString(), "int64 leaves as a decimal string");
      assert.deepEqual(violationsOf(desc, fromString), []);
    }),
    { seed: 13, numRuns: 500 },
  );
});

Deno.test("amounts outside the contract's bounds are refused, naming price_cents", () => {
  const outside = fc.oneof(
    fc.bigInt({ min: -(2n ** 63n), max: -1n }),
    fc.bigInt({ min: MAX_PRICE + 1n, max: 2n ** 63n - 1n }),
  );
  fc.assert(
    fc.property(outside, (cents) => {
      const msg = decode({ name: "x", priceCents: cents.toString() });
      assert.ok(violationsOf(desc, msg).some((v) => v.field === "price_cents"));
    }),
    { seed: 13, numRuns: 300 },
  );
});

Deno.test("amounts that are not integers of int64 are a 400, never a rounded value", () => {
  const bad = fc.oneof(
    // Found by this property: the decoder read "0x10", "0b11", "0o7", " 1" and a blank (as 0).
    fc.constantFrom(
      "1.5",
      "1e3",
      "0x10",
      "0b11",
      "0o7",
      "",
      " ",
      " 1",
      "1 ",
      "+5",
      "NaN",
      "Infinity",
      "9223372036854775808",
    ),
    fc.double({ noInteger: true, noDefaultInfinity: true, noNaN: true }).map(String),
  );
  fc.assert(
    fc.property(bad, (text) => {
      assert.throws(
        () => decodeJson(desc, { name: "x", priceCents: text }),
        /price_cents|priceCents/,
      );
    }),
    { seed: 13, numRuns: 200 },
  );
});
