import assert from "node:assert/strict";
import {
  addToCart,
  cartCookieValue,
  cartUnits,
  MAX_CART_LINES,
  MAX_QUANTITY,
  parseCart,
  setQuantity,
} from "./cart.ts";

const A = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
const B = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c";

Deno.test("parseCart() reads the cookie and drops what is not a product and a quantity", () => {
  assert.deepEqual([...parseCart(`${A}:2.${B}:1`)], [[A, 2], [B, 1]]);
  assert.deepEqual([...parseCart(undefined)], []);
  assert.deepEqual([...parseCart(`${A}:0.nope:3.${B}:x.${B}:-1.${B}`)], []);
  assert.deepEqual([...parseCart(`${A.toUpperCase()}:3`)], [[A, 3]]);
  assert.deepEqual([...parseCart(`${A}:99999999`)], [[A, MAX_QUANTITY]]);
});

Deno.test("the cart round-trips through its cookie and counts units", () => {
  let cart = addToCart(new Map(), A, 2);
  cart = addToCart(cart, B, 1);
  cart = addToCart(cart, A, 1);
  assert.equal(cartCookieValue(cart), `${A}:3.${B}:1`);
  assert.deepEqual(parseCart(cartCookieValue(cart)), cart);
  assert.equal(cartUnits(cart), 4);
  assert.deepEqual([...setQuantity(cart, A, 0)], [[B, 1]]);
  assert.deepEqual([...setQuantity(cart, B, 5)], [[A, 3], [B, 5]]);
});

Deno.test("the cart holds MAX_CART_LINES products at most", () => {
  let cart = new Map<string, number>();
  for (let i = 0; i < MAX_CART_LINES + 5; i++) {
    cart = addToCart(cart, `0190a1b2-c3d4-7e5f-8a9b-${String(i).padStart(12, "0")}`, 1);
  }
  assert.equal(cart.size, MAX_CART_LINES);
  assert.ok(cartCookieValue(cart).length < 4000, "fits in a cookie");
});
