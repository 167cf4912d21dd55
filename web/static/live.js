// @ts-check
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="esnext" />
/**
 * The order page, live: the server pushes the saga's rendering (`event: saga`) whenever a step of
 * the order commits, over server-sent events (the browser reconnects by itself). No timer polls.
 */

const saga = document.getElementById("saga");
const source = saga?.dataset.events;

if (saga && source && "EventSource" in window) {
  const events = new EventSource(source);
  events.addEventListener("saga", (ev) => {
    /** @type {{status: string, statusWord: string, cancellable: boolean, html: string, items: string}} */
    const data = JSON.parse(/** @type {MessageEvent} */ (ev).data);
    const parts = document.getElementById("saga-parts");
    if (parts) parts.outerHTML = data.html;
    const items = document.getElementById("order-items");
    if (items && data.items) items.outerHTML = data.items;
    const badge = document.getElementById("order-status");
    if (badge && badge.dataset.status !== data.status) {
      badge.dataset.status = data.status;
      badge.className = `status status-${data.statusWord.toLowerCase().replaceAll(" ", "-")}`;
      // The badge is a polite live region: the new status is announced.
      badge.textContent = data.statusWord;
    }
    const cancel = document.querySelector("[data-cancel]");
    if (cancel instanceof HTMLElement) cancel.hidden = !data.cancellable;
    saga.dataset.updates = String(Number(saga.dataset.updates ?? "0") + 1);
  });
  // Leaving the page closes the stream cleanly rather than as a network error.
  addEventListener("pagehide", () => events.close());
}
