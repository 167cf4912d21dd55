import assert from "node:assert/strict";
import { formatCents, parseAmount } from "./money.ts";

Deno.test("formatCents() shows two decimals and separates thousands", () => {
  assert.equal(formatCents(0n), "0.00");
  assert.equal(formatCents(5n), "0.05");
  assert.equal(formatCents(123450n), "1,234.50");
  assert.equal(formatCents("100000000000"), "1,000,000,000.00");
  assert.equal(formatCents(-1999n), "-19.99");
  assert.equal(formatCents(42), "0.42");
});

Deno.test("parseAmount() reads what a person types, without floats", () => {
  assert.equal(parseAmount("12"), 1200n);
  assert.equal(parseAmount(" 12.5 "), 1250n);
  assert.equal(parseAmount("1,234.05"), 123405n);
  assert.equal(parseAmount("0.29"), 29n); // 0.29 * 100 is 28.999… as a float
  for (const bad of ["", "abc", "1.234", "-5", "1e3", "12.", ".5", "1 000"]) {
    assert.equal(parseAmount(bad), undefined, bad);
  }
});
