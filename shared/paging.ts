/**
 * Keyset pagination for list RPCs. Rows are ordered by their UUIDv7 id, descending (newest first);
 * a page token is the opaque, base64url-encoded id of the last row of the previous page.
 * @module
 */
import { invalidArgument } from "./errors.ts";
import { isUuid } from "./ids.ts";

/** Page size when the request leaves it 0. */
export const DEFAULT_PAGE_SIZE = 20;
/** Largest page. */
export const MAX_PAGE_SIZE = 100;

/** A decoded page request. */
export interface PageRequest {
  /** Rows to return. */
  size: number;
  /** Only rows with an id below this one (undefined for the first page). */
  before: string | undefined;
}

function b64url(s: string): string {
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Reads `page_size` / `page_token`; a token that is not ours is a 400 naming `page_token`. */
export function pageRequest(pageSize: number, pageToken: string): PageRequest {
  const size = pageSize > 0 ? Math.min(pageSize, MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE;
  if (!pageToken) return { size, before: undefined };
  let id: string;
  try {
    id = atob(pageToken.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    throw invalidArgument(
      "invalid request: page_token is not a token this API issued",
      "page_token",
    );
  }
  if (!isUuid(id)) {
    throw invalidArgument(
      "invalid request: page_token is not a token this API issued",
      "page_token",
    );
  }
  return { size, before: id };
}

/**
 * Splits `size + 1` fetched rows into the page and the next token ("" on the last page).
 *
 * @example
 * ```ts
 * const page = pageRequest(req.pageSize, req.pageToken);
 * const rows = await sql`... where id < ${page.before} order by id desc limit ${page.size + 1}`;
 * const { items, nextPageToken } = pageOf(rows, page, (r) => r.id);
 * ```
 */
export function pageOf<T>(
  rows: readonly T[],
  page: PageRequest,
  idOf: (row: T) => string,
): { items: T[]; nextPageToken: string } {
  const items = rows.slice(0, page.size);
  const more = rows.length > page.size && items.length > 0;
  return { items, nextPageToken: more ? b64url(idOf(items[items.length - 1]!)) : "" };
}
