// @ts-check
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="esnext" />
/**
 * Stocklet's storefront in the browser: the cart cookie (add, change, remove without leaving the
 * page), forms that talk to the API through the edge with the session's token (log in, register,
 * place an order, the admin's changes), and copy buttons. Pages render on the server and read
 * without this file; it only makes them act.
 */

const SESSION = "stocklet_session";
const CART = "stocklet_cart";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_LINES = 50;
const MAX_QUANTITY = 10000;

/** @param {string} name */
function cookie(name) {
  for (const part of document.cookie.split("; ")) {
    const i = part.indexOf("=");
    if (part.slice(0, i) === name) return decodeURIComponent(part.slice(i + 1));
  }
  return "";
}

/** @param {string} name @param {string} value @param {number} maxAge seconds */
function setCookie(name, value, maxAge) {
  const secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `${name}=${encodeURIComponent(value)}; Path=/; Max-Age=${maxAge}; ` +
    `SameSite=Lax${secure}`;
}

/** The cart cookie (the server's web/cart.ts reads the same format). @returns {Map<string, number>} */
function readCart() {
  /** @type {Map<string, number>} */
  const cart = new Map();
  for (const entry of cookie(CART).split(".")) {
    const [id, qty] = entry.split(":");
    const n = Number(qty);
    if (!id || !UUID.test(id) || !Number.isInteger(n) || n < 1) continue;
    if (cart.size >= MAX_LINES && !cart.has(id.toLowerCase())) break;
    cart.set(id.toLowerCase(), Math.min(n, MAX_QUANTITY));
  }
  return cart;
}

/** @param {Map<string, number>} cart */
function writeCart(cart) {
  const value = [...cart].map(([id, n]) => `${id}:${n}`).join(".");
  setCookie(CART, value, value ? 30 * 86400 : 0);
  let units = 0;
  for (const n of cart.values()) units += n;
  const badge = document.querySelector("[data-cart-badge]");
  if (badge instanceof HTMLElement) {
    badge.textContent = String(units);
    badge.hidden = units === 0;
  }
  const count = document.querySelector("[data-cart-count]");
  if (count) count.textContent = units === 1 ? "1 item" : `${units} items`;
}

/** Says something politely (screen readers) and shows it briefly. @param {string} text */
function announce(text) {
  const el = document.getElementById("announce");
  if (!el || !text) return;
  el.textContent = "";
  // A change in a later task is announced even when the text repeats.
  setTimeout(() => {
    el.textContent = text;
    el.classList.add("shown");
    clearTimeout(Number(el.dataset.timer));
    el.dataset.timer = String(setTimeout(() => el.classList.remove("shown"), 4000));
  }, 50);
}

/**
 * Calls the API with the session's token.
 * @param {string} method @param {string} path @param {unknown} [body]
 */
async function api(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { accept: "application/json" };
  const token = cookie(SESSION);
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  /** @type {RequestInit} */
  const init = { method, headers };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(path, init);
  /** @type {any} */
  let json = {};
  try {
    json = await res.json();
  } catch { /* no JSON body */ }
  return { status: res.status, json, headers: res.headers };
}

/** An amount typed by a person in cents, or undefined (no floats). @param {string} text */
function cents(text) {
  const m = /^(\d{1,15})(?:\.(\d{1,2}))?$/.exec(text.trim().replaceAll(",", ""));
  if (!m) return undefined;
  return String(BigInt(m[1] ?? "0") * 100n + BigInt((m[2] ?? "").padEnd(2, "0")));
}

/** @param {HTMLFormElement} form */
function clearErrors(form) {
  for (const el of form.querySelectorAll("[data-field-error], [data-form-error]")) {
    el.textContent = "";
  }
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
}

/** @param {HTMLFormElement} form @param {string} field @param {string} message */
function fieldError(form, field, message) {
  const input = form.querySelector(`[name="${CSS.escape(field)}"]:not([type=hidden])`);
  const slot = form.querySelector(`[data-field-error="${CSS.escape(field)}"]`);
  if (!input || !slot) return false;
  input.setAttribute("aria-invalid", "true");
  slot.textContent = message;
  return true;
}

/** @param {HTMLFormElement} form @param {string} message */
function formError(form, message) {
  const slot = form.querySelector("[data-form-error]");
  if (slot) slot.textContent = message;
  else announce(message);
}

/** A field's value as the API takes it; throws a message for the field. @param {HTMLInputElement} el */
function valueOf(el) {
  const v = el.value.trim();
  if (el.required && v === "") throw new Error("Required.");
  if (el.dataset.json === "cents") {
    const c = cents(v);
    if (c === undefined) throw new Error("Enter an amount such as 12.50.");
    return c;
  }
  if (el.dataset.json === "int") {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new Error("Enter a whole number.");
    return n;
  }
  return el.type === "password" ? el.value : v;
}

/**
 * The form's request: `data-api="VERB /path/{field}"`; path fields are filled in, the rest is the
 * JSON body (`data-body="cart"`: the cart instead).
 * @param {HTMLFormElement} form
 */
function requestOf(form) {
  const [method, template] = (form.dataset.api ?? "").split(" ");
  /** @type {Record<string, unknown>} */
  const body = {};
  let path = template ?? "";
  let bad = false;
  for (const el of form.elements) {
    if (!(el instanceof HTMLInputElement || el instanceof HTMLSelectElement) || !el.name) continue;
    if (el instanceof HTMLInputElement && (el.type === "submit" || el.type === "button")) continue;
    let value;
    try {
      value = el instanceof HTMLInputElement ? valueOf(el) : el.value;
    } catch (e) {
      bad = fieldError(form, el.name, e instanceof Error ? e.message : String(e)) || bad;
      continue;
    }
    if (path.includes(`{${el.name}}`)) {
      path = path.replace(`{${el.name}}`, encodeURIComponent(String(value)));
    } else body[el.name] = value;
  }
  if (form.dataset.body === "cart") {
    return { method, path, body: Object.fromEntries(readCart()), bad };
  }
  return { method, path, body: Object.keys(body).length ? body : undefined, bad };
}

/**
 * What went wrong, in words, with field errors next to their fields.
 * @param {HTMLFormElement} form @param {{status: number, json: any, headers: Headers}} r
 */
function showFailure(form, r) {
  const message = typeof r.json?.message === "string" ? r.json.message : "";
  switch (r.status) {
    case 400: {
      let placed = false;
      for (const d of r.json?.details ?? []) {
        const field = String(d.field ?? "").replace(/\[.*$/, "");
        if (field && fieldError(form, field, d.message ?? "Invalid.")) placed = true;
      }
      formError(
        form,
        placed ? "Check the highlighted fields." : message || "That was not accepted.",
      );
      break;
    }
    case 401:
      formError(
        form,
        form.dataset.then === "session"
          ? "Wrong email or password."
          : "Your session has ended: log in again.",
      );
      break;
    case 403:
      formError(form, "You are not allowed to do that.");
      break;
    case 404:
      formError(form, message ? `Not found: ${message}.` : "Not found.");
      break;
    case 409:
      formError(
        form,
        message ? message.charAt(0).toUpperCase() + message.slice(1) + "." : "Conflict.",
      );
      break;
    case 429: {
      const wait = r.headers.get("retry-after");
      formError(form, `Too many attempts: try again${wait ? ` in ${wait} s` : " later"}.`);
      break;
    }
    default:
      formError(form, "The service did not answer. Try again in a moment.");
  }
  const first = form.querySelector("[aria-invalid=true]");
  if (first instanceof HTMLElement) first.focus();
}

/** Keeps the session token and goes on. @param {any} json @param {string} next */
function startSession(json, next) {
  const token = json?.data?.access_token;
  const ttl = Number(json?.data?.expires_in ?? 3600);
  if (typeof token !== "string") throw new Error("no token in the answer");
  setCookie(SESSION, token, ttl);
  location.assign(next.startsWith("/") && !next.startsWith("//") ? next : "/");
}

/** Re-renders the page in place (keeps scroll and, where it can, focus). */
async function refresh() {
  const res = await fetch(location.href, { headers: { accept: "text/html" } });
  if (!res.ok) return location.reload();
  const doc = new DOMParser().parseFromString(await res.text(), "text/html");
  const active = document.activeElement;
  const key = focusKey(active);
  for (const sel of ["main", "header.top"]) {
    const now = document.querySelector(sel);
    const next = doc.querySelector(sel);
    if (now && next) now.innerHTML = next.innerHTML;
  }
  const again = key ? findByKey(key) : null;
  if (again instanceof HTMLElement) again.focus();
}

/** @param {Element | null} el */
function focusKey(el) {
  if (!el || el === document.body) return undefined;
  if (el.id) return { id: el.id };
  const form = el.closest("form");
  if (!form) return undefined;
  const hidden = form.querySelector("input[type=hidden]");
  return {
    api: form.dataset.api ?? form.action,
    hidden: hidden instanceof HTMLInputElement ? hidden.value : "",
    index: [...form.elements].indexOf(/** @type {any} */ (el)),
  };
}

/** @param {{id?: string, api?: string, hidden?: string, index?: number}} key */
function findByKey(key) {
  if (key.id) return document.getElementById(key.id);
  for (const form of document.querySelectorAll("form")) {
    const hidden = form.querySelector("input[type=hidden]");
    const value = hidden instanceof HTMLInputElement ? hidden.value : "";
    if ((form.dataset.api ?? form.action) === key.api && value === key.hidden) {
      return form.elements[key.index ?? 0] ?? null;
    }
  }
  return null;
}

/** @param {HTMLFormElement} form @param {HTMLElement | null} submitter */
async function submitApiForm(form, submitter) {
  clearErrors(form);
  const { method, path, body, bad } = requestOf(form);
  if (bad || !method || !path) {
    formError(form, "Check the highlighted fields.");
    const first = form.querySelector("[aria-invalid=true]");
    if (first instanceof HTMLElement) first.focus();
    return;
  }
  const buttons = [...form.querySelectorAll("button")];
  for (const b of buttons) b.disabled = true;
  form.setAttribute("aria-busy", "true");
  try {
    const r = await api(method, path, body);
    if (r.status !== 200) return showFailure(form, r);
    const then = form.dataset.then;
    const next = form.dataset.next ?? "/";
    if (then === "session") return startSession(r.json, next);
    if (then === "register") {
      const login = await api("POST", "/v1/auth/login", {
        email: /** @type {any} */ (body)?.email,
        password: /** @type {any} */ (body)?.password,
      });
      if (login.status !== 200) return showFailure(form, login);
      return startSession(login.json, next);
    }
    if (then === "order") {
      writeCart(new Map());
      return location.assign(`/orders/${r.json.order.id}`);
    }
    if (then === "reload") await refresh();
    announce(form.dataset.done ?? "Done.");
  } catch {
    formError(form, "The service did not answer. Try again in a moment.");
  } finally {
    form.removeAttribute("aria-busy");
    for (const b of buttons) if (b.isConnected) b.disabled = false;
    void submitter;
  }
}

document.addEventListener("submit", (ev) => {
  const form = ev.target;
  if (!(form instanceof HTMLFormElement)) return;
  const submitter = /** @type {HTMLElement | null} */ (ev.submitter);
  if (form.matches("[data-cart-add]")) {
    ev.preventDefault();
    const data = new FormData(form);
    const id = String(data.get("product"));
    const n = Math.max(1, Math.min(Number(data.get("quantity")) || 1, MAX_QUANTITY));
    const cart = readCart();
    if (!cart.has(id) && cart.size >= MAX_LINES) {
      announce(`Your cart is full (${MAX_LINES} products).`);
      return;
    }
    cart.set(id, Math.min((cart.get(id) ?? 0) + n, MAX_QUANTITY));
    writeCart(cart);
    announce(`Added ${n} × ${form.dataset.name ?? "item"} to your cart.`);
    return;
  }
  if (form.matches("[data-cart-update]")) {
    ev.preventDefault();
    const data = new FormData(form, submitter);
    const id = String(data.get("product"));
    const n = Number(data.get("quantity"));
    if (!Number.isInteger(n) || n < 0) return;
    const cart = readCart();
    if (n === 0) cart.delete(id);
    else cart.set(id, Math.min(n, MAX_QUANTITY));
    writeCart(cart);
    refresh().then(() => announce(n === 0 ? "Removed from your cart." : "Cart updated."));
    return;
  }
  if (form.dataset.api) {
    ev.preventDefault();
    submitApiForm(form, submitter);
  }
});

document.addEventListener("click", (ev) => {
  const button = ev.target instanceof Element ? ev.target.closest("[data-copy]") : null;
  if (!(button instanceof HTMLElement)) return;
  const source = document.getElementById(button.dataset.copy ?? "");
  if (!source) return;
  navigator.clipboard?.writeText(source.textContent ?? "").then(
    () => announce("Copied."),
    () => {
      const range = document.createRange();
      range.selectNodeContents(source);
      getSelection()?.removeAllRanges();
      getSelection()?.addRange(range);
      announce("Selected: press Ctrl+C to copy.");
    },
  );
});
