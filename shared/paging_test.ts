import assert from "node:assert/strict";
import { ServiceError } from "./errors.ts";
import { uuidv7 } from "./ids.ts";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, pageOf, pageRequest } from "./paging.ts";

Deno.test("pageRequest() defaults and caps the size", () => {
  assert.deepEqual(pageRequest(0, ""), { size: DEFAULT_PAGE_SIZE, before: undefined });
  assert.equal(pageRequest(1000, "").size, MAX_PAGE_SIZE);
  assert.equal(pageRequest(3, "").size, 3);
});

Deno.test("pageOf() and pageRequest() walk every row once, newest first", () => {
  const ids = Array.from({ length: 7 }, () => uuidv7()).reverse();
  const seen: string[] = [];
  let token = "";
  for (let i = 0; i < 10; i++) {
    const page = pageRequest(3, token);
    const rows = ids.filter((id) => page.before === undefined || id < page.before).slice(0, 4);
    const { items, nextPageToken } = pageOf(rows, page, (id) => id);
    seen.push(...items);
    if (!nextPageToken) break;
    token = nextPageToken;
  }
  assert.deepEqual(seen, ids);
});

Deno.test("pageRequest() rejects a forged token naming page_token", () => {
  for (const bad of ["%%%", btoa("'; drop table orders; --"), "abc"]) {
    assert.throws(() => pageRequest(3, bad), (e: unknown) => {
      assert.ok(e instanceof ServiceError);
      assert.equal(e.details[0]?.field, "page_token");
      return true;
    });
  }
});
