/**
 * The catalogue (every product with its price and whether it is in stock) and a product's page.
 * "Add to cart" is a plain form (it works without JavaScript); app.js keeps the page in place.
 * @module
 */
import type { ProductJson } from "../api.ts";
import { Layout, Money, type PageContext, Pager } from "./layout.tsx";

/** Few enough units left to say so. */
export const LOW_STOCK = 5;

/** Stock in words (undefined: the warehouse does not know the product yet). */
export function StockState(props: { quantity: number | undefined; id?: string }) {
  const q = props.quantity;
  if (q === undefined) return <p class="stock stock-unknown" id={props.id}>Stock unknown</p>;
  if (q <= 0) return <p class="stock stock-out" id={props.id}>Out of stock</p>;
  if (q <= LOW_STOCK) return <p class="stock stock-low" id={props.id}>Only {q} left</p>;
  return <p class="stock stock-in" id={props.id}>In stock</p>;
}

/** A product's initial on a colour of its own (the catalogue has no pictures). */
export function Thumb(props: { product: ProductJson; large?: boolean }) {
  let h = 0;
  for (const ch of props.product.id) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return (
    <div class={`thumb thumb-${h % 8}${props.large ? " thumb-large" : ""}`} aria-hidden="true">
      {(props.product.name.trim()[0] ?? "?").toUpperCase()}
    </div>
  );
}

/** The add-to-cart form of a product. */
export function AddToCart(props: {
  product: ProductJson;
  quantity: number | undefined;
  back: string;
  withQuantity?: boolean;
}) {
  const p = props.product;
  const out = props.quantity !== undefined && props.quantity <= 0;
  return (
    <form
      method="post"
      action="/cart/add"
      class="add"
      data-cart-add
      data-name={p.name}
    >
      <input type="hidden" name="product" value={p.id} />
      <input type="hidden" name="back" value={props.back} />
      {props.withQuantity
        ? (
          <div class="field field-small">
            <label for={`qty-${p.id}`}>Quantity</label>
            <input
              id={`qty-${p.id}`}
              name="quantity"
              type="number"
              value="1"
              min="1"
              max={String(Math.max(1, Math.min(props.quantity ?? 100, 100)))}
              required
              disabled={out}
            />
          </div>
        )
        : <input type="hidden" name="quantity" value="1" />}
      <button type="submit" aria-describedby={`name-${p.id}`} disabled={out}>Add to cart</button>
    </form>
  );
}

/** The catalogue page. */
export function CataloguePage(props: {
  ctx: PageContext;
  products: ProductJson[];
  stock: ReadonlyMap<string, number>;
  next: string | undefined;
  notice?: string;
}) {
  const back = props.ctx.path;
  return (
    <Layout ctx={props.ctx} title="Catalogue">
      <h1>Catalogue</h1>
      {props.products.length === 0
        ? <p>The catalogue is empty for now.</p>
        : (
          <ul class="grid" aria-label="Products">
            {props.products.map((p) => (
              <li class="card" id={`p-${p.id}`}>
                <Thumb product={p} />
                <h2 class="card-title" id={`name-${p.id}`}>
                  <a href={`/products/${p.id}`}>{p.name}</a>
                </h2>
                {p.description && <p class="desc">{p.description}</p>}
                <p class="price">
                  <Money cents={p.priceCents} />
                </p>
                <StockState quantity={props.stock.get(p.id)} />
                <AddToCart product={p} quantity={props.stock.get(p.id)} back={back} />
              </li>
            ))}
          </ul>
        )}
      <Pager next={props.next} href={(t) => `/?page=${encodeURIComponent(t)}`} />
    </Layout>
  );
}

/** A product's page. */
export function ProductPage(props: {
  ctx: PageContext;
  product: ProductJson;
  quantity: number | undefined;
}) {
  const p = props.product;
  return (
    <Layout ctx={props.ctx} title={p.name}>
      <p class="crumbs">
        <a href="/">Catalogue</a>
      </p>
      <article class="product">
        <Thumb product={p} large />
        <div>
          <h1 id={`name-${p.id}`}>{p.name}</h1>
          {p.description && <p class="desc">{p.description}</p>}
          <p class="price price-large">
            <Money cents={p.priceCents} />
          </p>
          <StockState quantity={props.quantity} />
          <AddToCart product={p} quantity={props.quantity} back={props.ctx.path} withQuantity />
        </div>
      </article>
    </Layout>
  );
}
