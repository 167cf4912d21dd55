import assert from "node:assert/strict";
import {
  DEFAULT_PARAMS,
  hashPassword,
  needsRehash,
  verifyAgainstDummy,
  verifyPassword,
} from "./password.ts";

// A cheap cost keeps the suite fast where the cost itself is not under test.
const CHEAP = { N: 2 ** 10, r: 8, p: 1 };

Deno.test("hashPassword() writes a self-describing scrypt string with the default cost", async () => {
  const stored = await hashPassword("correct horse battery");
  const [alg, n, r, p, salt, key] = stored.split("$");
  assert.equal(alg, "scrypt");
  assert.deepEqual([Number(n), Number(r), Number(p)], [
    DEFAULT_PARAMS.N,
    DEFAULT_PARAMS.r,
    DEFAULT_PARAMS.p,
  ]);
  assert.equal(atob(salt!).length, 16);
  assert.equal(atob(key!).length, 32);
});

Deno.test("DEFAULT_PARAMS is at least OWASP's minimum for scrypt: N=2^17, r=8, p=1 (issue 13 #9)", () => {
  assert.ok(DEFAULT_PARAMS.N >= 2 ** 17, `N=${DEFAULT_PARAMS.N}`);
  assert.ok(DEFAULT_PARAMS.r >= 8);
  assert.ok(DEFAULT_PARAMS.p >= 1);
});

Deno.test("needsRehash() asks for a new hash when the stored one is cheaper than today's", async () => {
  const cheap = await hashPassword("pw-123456", CHEAP);
  assert.equal(needsRehash(cheap), true);
  assert.equal(needsRehash(cheap, CHEAP), false);
  assert.equal(needsRehash(cheap, { ...CHEAP, r: 16 }), true);
  assert.equal(needsRehash("not a hash"), true);
  const current = [
    "scrypt",
    DEFAULT_PARAMS.N,
    8,
    1,
    "c2FsdHNhbHRzYWx0c2FsdA==",
    btoa("k".repeat(32)),
  ]
    .join("$");
  assert.equal(needsRehash(current), false);
});

Deno.test("verifyPassword() accepts the right password", async () => {
  const stored = await hashPassword("correct horse battery", CHEAP);
  assert.equal(await verifyPassword("correct horse battery", stored), true);
});

Deno.test("verifyPassword() rejects a wrong password", async () => {
  const stored = await hashPassword("correct horse battery", CHEAP);
  assert.equal(await verifyPassword("correct horse batterY", stored), false);
  assert.equal(await verifyPassword("", stored), false);
});

Deno.test("verifyPassword() rejects tampered or malformed hash strings without throwing", async () => {
  const stored = await hashPassword("pw-123456", CHEAP);
  const parts = stored.split("$");
  const key = atob(parts[5]!);
  const flipped = String.fromCharCode(key.charCodeAt(0) ^ 1) + key.slice(1);
  const tampered = [
    [...parts.slice(0, 5), btoa(flipped)].join("$"), // one bit of the hash
    [...parts.slice(0, 4), btoa("0123456789abcdef"), parts[5]].join("$"), // another salt
    ["scrypt", 2048, 8, 1, parts[4], parts[5]].join("$"), // another cost
    ["bcrypt", ...parts.slice(1)].join("$"),
    ["scrypt", 1000, 8, 1, parts[4], parts[5]].join("$"), // N not a power of two
    ["scrypt", 2 ** 24, 8, 1, parts[4], parts[5]].join("$"), // absurd cost
    parts.slice(0, 5).join("$"),
    stored + "$extra",
    "",
    "scrypt$16384$8$1$not base64!$" + parts[5],
  ];
  for (const t of tampered) assert.equal(await verifyPassword("pw-123456", t), false, t);
});

Deno.test("hashPassword() salts each hash: one password, distinct strings, both verify", async () => {
  const a = await hashPassword("same password", CHEAP);
  const b = await hashPassword("same password", CHEAP);
  assert.notEqual(a, b);
  assert.notEqual(a.split("$")[4], b.split("$")[4]);
  assert.equal(await verifyPassword("same password", a), true);
  assert.equal(await verifyPassword("same password", b), true);
});

Deno.test("verifyPassword() treats composed and decomposed accents alike (NFC)", async () => {
  const stored = await hashPassword("caf\u00e9-secret", CHEAP);
  assert.equal(await verifyPassword("cafe\u0301-secret", stored), true);
});

Deno.test("verifyAgainstDummy() is false and costs about a real verification", async () => {
  const stored = await hashPassword("a real one");
  await verifyAgainstDummy("warm-up"); // the dummy hash is made once, lazily
  let t = performance.now();
  assert.equal(await verifyAgainstDummy("a real one"), false);
  const dummyMs = performance.now() - t;
  t = performance.now();
  await verifyPassword("a real one", stored);
  const realMs = performance.now() - t;
  // Loose bounds: the point is "same order of magnitude", not a benchmark.
  assert.ok(dummyMs > realMs / 4 && dummyMs < realMs * 4, `${dummyMs} vs ${realMs} ms`);
});

Deno.test("hashPassword() under a burst: every queued derivation finishes and verifies", async () => {
  const started = performance.now();
  const hashes = await Promise.all(
    Array.from({ length: 6 }, (_, i) => hashPassword(`pw-${i}-long-enough`, CHEAP)),
  );
  assert.equal(new Set(hashes).size, 6);
  for (const [i, h] of hashes.entries()) {
    assert.equal(await verifyPassword(`pw-${i}-long-enough`, h), true);
  }
  assert.ok(performance.now() - started < 30_000);
});
