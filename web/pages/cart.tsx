/**
 * The cart with today's prices and stock, and the checkout: "Place order" sends the cart to
 * `POST /v1/order/place` through the edge with the person's token, then opens the order's page.
 * @module
 */
import type { ProductJson } from "../api.ts";
import type { Cart } from "../cart.ts";
import { formatCents } from "../money.ts";
import { shortId } from "../timeline.ts";
import { StockState } from "./catalogue.tsx";
import { FormError, Layout, Money, Notice, type PageContext } from "./layout.tsx";

/** The cart page. */
export function CartPage(props: {
  ctx: PageContext;
  cart: Cart;
  products: ReadonlyMap<string, ProductJson>;
  stock: ReadonlyMap<string, number>;
  /** The signed-in person's balance, if any. */
  balanceCents: string | undefined;
}) {
  const { ctx, cart, products } = props;
  let total = 0n;
  for (const [id, n] of cart) total += BigInt(products.get(id)?.priceCents ?? "0") * BigInt(n);
  const short = [...cart].filter(([id, n]) => (props.stock.get(id) ?? 0) < n);
  const gone = [...cart.keys()].filter((id) => !products.has(id));
  const balance = props.balanceCents === undefined ? undefined : BigInt(props.balanceCents);
  return (
    <Layout ctx={ctx} title="Cart">
      <h1>Cart</h1>
      {cart.size === 0
        ? (
          <p>
            Your cart is empty. <a href="/">Browse the catalogue</a>.
          </p>
        )
        : (
          <>
            <table class="lines">
              <caption class="visually-hidden">Items in your cart</caption>
              <thead>
                <tr>
                  <th scope="col">Product</th>
                  <th scope="col" class="num">Unit price</th>
                  <th scope="col">Quantity</th>
                  <th scope="col" class="num">Line total</th>
                </tr>
              </thead>
              <tbody>
                {[...cart].map(([id, n]) => {
                  const p = products.get(id);
                  const name = p?.name ?? `Product ${shortId(id)}`;
                  return (
                    <tr data-line={id}>
                      <th scope="row">
                        {p ? <a href={`/products/${id}`}>{name}</a> : name}
                        {p
                          ? <StockState quantity={props.stock.get(id)} />
                          : <p class="stock stock-out">No longer sold</p>}
                      </th>
                      <td class="num">{p ? <Money cents={p.priceCents} /> : "—"}</td>
                      <td>
                        <form method="post" action="/cart/update" class="qty" data-cart-update>
                          <input type="hidden" name="product" value={id} />
                          <label for={`qty-${id}`} class="visually-hidden">
                            Quantity of {name}
                          </label>
                          <input
                            id={`qty-${id}`}
                            name="quantity"
                            type="number"
                            min="0"
                            max="10000"
                            value={String(n)}
                            required
                          />
                          <button type="submit" class="small secondary">Update</button>
                          <button
                            type="submit"
                            name="quantity"
                            value="0"
                            class="small link"
                            aria-label={`Remove ${name}`}
                          >
                            Remove
                          </button>
                        </form>
                      </td>
                      <td class="num">
                        <Money cents={BigInt(p?.priceCents ?? "0") * BigInt(n)} />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
              <tfoot>
                <tr>
                  <th scope="row" colspan={3}>Total</th>
                  <td class="num total" data-cart-total>
                    <Money cents={total} />
                  </td>
                </tr>
              </tfoot>
            </table>
            {short.length > 0 && (
              <Notice kind="info">
                Some items are short of stock right now; an order for them will be rejected unless
                the warehouse is restocked first.
              </Notice>
            )}
            {gone.length > 0 && (
              <Notice kind="info">
                Remove the items that are no longer sold to order the rest.
              </Notice>
            )}
            <section class="checkout" aria-labelledby="checkout-h">
              <h2 id="checkout-h">Checkout</h2>
              {ctx.session
                ? (
                  <>
                    {balance !== undefined && (
                      <p>
                        Your balance: <Money cents={balance} />
                        {balance < total && (
                          <span class="warn">
                            {` — ${formatCents(total - balance)} short: `}
                            the payment would fail and the order be rejected.
                          </span>
                        )}
                      </p>
                    )}
                    <form data-api="POST /v1/order/place" data-body="cart" data-then="order">
                      <FormError />
                      <button type="submit" class="primary" disabled={gone.length > 0}>
                        Place order
                      </button>
                    </form>
                    <noscript>
                      <p>Placing an order needs JavaScript.</p>
                    </noscript>
                  </>
                )
                : (
                  <p>
                    <a href="/login?next=%2Fcart" class="button primary">Log in</a> or{" "}
                    <a href="/register?next=%2Fcart">Register</a> to place your order.
                  </p>
                )}
            </section>
          </>
        )}
    </Layout>
  );
}
