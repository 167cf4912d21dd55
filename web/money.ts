/**
 * Money on the page: integer cents (bigint, or the decimal string proto3 JSON gives for int64)
 * shown as `1,234.50`, and amounts typed by a person read back into cents without a float.
 * @module
 */

/**
 * Cents as a price: thousands separated, always two decimals.
 *
 * @example
 * ```ts
 * formatCents(123450n); // "1,234.50"
 * formatCents("-5"); // "-0.05"
 * ```
 */
export function formatCents(cents: bigint | string | number): string {
  const c = BigInt(cents);
  const abs = c < 0n ? -c : c;
  const units = (abs / 100n).toLocaleString("en-US");
  const rest = String(abs % 100n).padStart(2, "0");
  return `${c < 0n ? "-" : ""}${units}.${rest}`;
}

/**
 * An amount a person typed (`12`, `12.5`, `1,234.50`) in cents; undefined when it is not one.
 *
 * @example
 * ```ts
 * parseAmount("12.5"); // 1250n
 * parseAmount("0.001"); // undefined
 * ```
 */
export function parseAmount(text: string): bigint | undefined {
  const t = text.trim().replaceAll(",", "");
  const m = /^(\d{1,15})(?:\.(\d{1,2}))?$/.exec(t);
  if (!m) return undefined;
  return BigInt(m[1]!) * 100n + BigInt((m[2] ?? "").padEnd(2, "0"));
}
