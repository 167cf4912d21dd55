import assert from "node:assert/strict";
import { Code, ServiceError } from "./errors.ts";
import { findOwned } from "./owned.ts";

const alice = { userId: "alice", roles: ["customer"] };
const admin = { userId: "root", roles: ["admin"] };
const row = { id: "r1", customer_id: "alice" };

async function codeOf(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    assert.ok(e instanceof ServiceError);
    return e.code;
  }
}

Deno.test("findOwned() gives the owner and admins the row, everyone else NOT_FOUND", async () => {
  assert.equal(await findOwned(alice, "thing", () => Promise.resolve(row)), row);
  assert.equal(await findOwned(admin, "thing", () => Promise.resolve(row)), row);
  const bob = { userId: "bob", roles: ["customer"] };
  assert.equal(await codeOf(findOwned(bob, "thing", () => Promise.resolve(row))), Code.NOT_FOUND);
  assert.equal(
    await codeOf(findOwned(alice, "thing", () => Promise.resolve(undefined))),
    Code.NOT_FOUND,
    "a missing row looks the same as someone else's",
  );
});

Deno.test("findOwned() refuses anonymous callers before looking anything up", async () => {
  let looked = false;
  const find = () => {
    looked = true;
    return Promise.resolve(row);
  };
  assert.equal(await codeOf(findOwned(undefined, "thing", find)), Code.UNAUTHENTICATED);
  assert.equal(looked, false);
});
