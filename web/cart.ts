/**
 * The cart, kept in a cookie (`stocklet_cart`: `<product id>:<quantity>` pairs joined by `.`) so
 * that it survives reloads and the server renders it (the cart page with today's prices and stock,
 * the header's count) without waiting for JavaScript. app.js writes the same format.
 * @module
 */
import { isUuid } from "@stocklet/shared/ids";

/** The cart cookie's name. */
export const CART_COOKIE = "stocklet_cart";
/** Products in one cart at most (a cookie holds about 4 KB). */
export const MAX_CART_LINES = 50;
/** Units of one product at most (what an order takes). */
export const MAX_QUANTITY = 10_000;

/** Product id → quantity, in the order added. */
export type Cart = Map<string, number>;

/**
 * Reads a cart cookie; malformed entries are dropped, so a tampered cookie is an emptier cart.
 *
 * @example
 * ```ts
 * parseCart("0190…:2.0190…:1"); // Map { "0190…" => 2, "0190…" => 1 }
 * ```
 */
export function parseCart(raw: string | undefined): Cart {
  const cart: Cart = new Map();
  for (const entry of (raw ?? "").split(".")) {
    const [id, qty] = entry.split(":");
    const n = Number(qty);
    if (!id || !isUuid(id) || !Number.isInteger(n) || n < 1) continue;
    if (cart.size >= MAX_CART_LINES && !cart.has(id.toLowerCase())) break;
    cart.set(id.toLowerCase(), Math.min(n, MAX_QUANTITY));
  }
  return cart;
}

/** The cookie value of a cart. */
export function cartCookieValue(cart: Cart): string {
  return [...cart].map(([id, n]) => `${id}:${n}`).join(".");
}

/** Units in a cart. */
export function cartUnits(cart: Cart): number {
  let n = 0;
  for (const q of cart.values()) n += q;
  return n;
}

/** The cart with quantity more units of a product (at most MAX_QUANTITY; MAX_CART_LINES lines). */
export function addToCart(cart: Cart, id: string, quantity: number): Cart {
  const next = new Map(cart);
  const key = id.toLowerCase();
  if (!next.has(key) && next.size >= MAX_CART_LINES) return next;
  next.set(key, Math.min((next.get(key) ?? 0) + quantity, MAX_QUANTITY));
  return next;
}

/** The cart with a product's quantity set (0 removes it). */
export function setQuantity(cart: Cart, id: string, quantity: number): Cart {
  const next = new Map(cart);
  const key = id.toLowerCase();
  if (quantity <= 0) next.delete(key);
  else if (next.has(key) || next.size < MAX_CART_LINES) {
    next.set(key, Math.min(quantity, MAX_QUANTITY));
  }
  return next;
}
