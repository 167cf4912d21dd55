import assert from "node:assert/strict";
import { Code } from "@stocklet/shared/errors";
import { DEFAULT_RATE_LIMITS, rateLimitsOf } from "./policy.ts";
import { loginAccountOf, parseRateLimits, rateLimitedError, rateLimiter } from "./rate_limit.ts";

const LIMITS = {
  ...DEFAULT_RATE_LIMITS,
  "login-account": { requests: 3, windowSeconds: 30 }, // a token every 10 s
  "address": { requests: 5, windowSeconds: 5 },
};

Deno.test("rateLimiter() allows a burst, then refuses with the seconds until the next token", () => {
  let t = 0;
  const limiter = rateLimiter({ limits: LIMITS, now: () => t });
  const key = [{ limit: "login-account" as const, key: "ann@example.com" }];
  for (let i = 0; i < 3; i++) assert.equal(limiter.take(key), undefined, `attempt ${i + 1}`);
  assert.deepEqual(limiter.take(key), { limit: "login-account", retryAfterSeconds: 10 });
  t += 4_000;
  assert.deepEqual(limiter.take(key), { limit: "login-account", retryAfterSeconds: 6 });
  t += 6_000; // one token back
  assert.equal(limiter.take(key), undefined);
  assert.equal(limiter.take(key)?.limit, "login-account");
  // Another account has a bucket of its own.
  assert.equal(limiter.take([{ limit: "login-account", key: "bob@example.com" }]), undefined);
});

Deno.test("rateLimiter() takes from every bucket or from none", () => {
  const limiter = rateLimiter({ limits: LIMITS, now: () => 0 });
  const ip = { limit: "address" as const, key: "10.0.0.1" };
  const account = { limit: "login-account" as const, key: "ann@example.com" };
  for (let i = 0; i < 3; i++) assert.equal(limiter.take([ip, account]), undefined);
  // The account is exhausted: refused, and the address bucket keeps its 2 tokens.
  assert.equal(limiter.take([ip, account])?.limit, "login-account");
  assert.equal(limiter.take([ip]), undefined);
  assert.equal(limiter.take([ip]), undefined);
  assert.equal(limiter.take([ip])?.limit, "address");
});

Deno.test("rateLimiter() keeps at most maxBuckets, forgetting the least recently used", () => {
  const limiter = rateLimiter({ limits: LIMITS, now: () => 0, maxBuckets: 2 });
  const k = (key: string) => [{ limit: "login-account" as const, key }];
  for (let i = 0; i < 3; i++) limiter.take(k("a"));
  assert.ok(limiter.take(k("a")), "a is exhausted");
  limiter.take(k("b"));
  limiter.take(k("c")); // pushes out a
  assert.equal(limiter.take(k("a")), undefined, "a starts over");
});

Deno.test("rateLimitedError() is RESOURCE_EXHAUSTED saying which limit and when", () => {
  const e = rateLimitedError({ limit: "login-account", retryAfterSeconds: 7 });
  assert.equal(e.code, Code.RESOURCE_EXHAUSTED);
  assert.equal(e.message, "too many login attempts for this account; retry in 7 s");
});

Deno.test("loginAccountOf() reads the email or user id of a login body, lower-cased", () => {
  const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  assert.equal(
    loginAccountOf(enc({ email: " Ann@Example.COM ", password: "x" })),
    "ann@example.com",
  );
  assert.equal(loginAccountOf(enc({ user_id: "0190D6A4-AAAA", password: "x" })), "0190d6a4-aaaa");
  assert.equal(loginAccountOf(enc({ userId: "abc" })), "abc");
  assert.equal(loginAccountOf(enc({ password: "x" })), undefined);
  assert.equal(loginAccountOf(enc({ email: 42 })), undefined);
  assert.equal(loginAccountOf(enc([1, 2])), undefined);
  assert.equal(loginAccountOf(new TextEncoder().encode("{not json")), undefined);
  assert.equal(loginAccountOf(undefined), undefined);
});

Deno.test("parseRateLimits() overrides named limits and refuses anything else", () => {
  const parsed = parseRateLimits("login-account=5/60s, address=600/60", DEFAULT_RATE_LIMITS);
  assert.deepEqual(parsed["login-account"], { requests: 5, windowSeconds: 60 });
  assert.deepEqual(parsed.address, { requests: 600, windowSeconds: 60 });
  assert.deepEqual(parsed["order-address"], DEFAULT_RATE_LIMITS["order-address"]);
  assert.deepEqual(parseRateLimits("", DEFAULT_RATE_LIMITS), DEFAULT_RATE_LIMITS);
  assert.throws(
    () => parseRateLimits("logins=5/60", DEFAULT_RATE_LIMITS),
    /name=requests\/seconds/,
  );
  assert.throws(() => parseRateLimits("address=5", DEFAULT_RATE_LIMITS), /name=requests/);
  assert.throws(() => parseRateLimits("address=0/60", DEFAULT_RATE_LIMITS), /at least 1/);
});

Deno.test("rateLimitsOf(): every route counts per address; logins also per account (issue 13 #4)", () => {
  assert.deepEqual(rateLimitsOf("stocklet.product.v1.ProductService.ViewProducts"), ["address"]);
  assert.deepEqual(rateLimitsOf("stocklet.auth.v1.AuthService.LoginPassword"), [
    "address",
    "login-address",
    "login-account",
  ]);
  assert.ok(rateLimitsOf("stocklet.user.v1.UserService.RegisterUser").includes("register-address"));
  assert.ok(rateLimitsOf("stocklet.order.v1.OrderService.PlaceOrder").includes("order-address"));
  // The default per-account login limit stops 30 guesses in a row well before the 30th.
  assert.ok(DEFAULT_RATE_LIMITS["login-account"].requests < 30);
});
