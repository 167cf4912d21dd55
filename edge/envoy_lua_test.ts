/**
 * The Lua filter of deploy/envoy/envoy.yaml, run for real (LuaJIT, as Envoy runs it) against a
 * stand-in for Envoy's request and response handles: it strips identity headers by prefix, puts a
 * login's account in the rate-limit header (never trusting the client's), and turns the rate
 * limiter's reset into Retry-After. LuaJIT comes from Debian (`deno task test` installs it).
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { LUAJIT } from "../scripts/lib/luajit.ts";
import { LOGIN_ACCOUNT_HEADER } from "./policy.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const doc: Any = parse(
  await Deno.readTextFile(new URL("../deploy/envoy/envoy.yaml", import.meta.url)),
);
const hcm: Any = doc.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
const LUA: string = hcm.http_filters.find((f: Any) => f.name === "envoy.filters.http.lua")
  .typed_config.default_source_code.inline_string;

async function has(cmd: string): Promise<boolean> {
  try {
    return (await new Deno.Command(cmd, { args: ["-v"], stdout: "null", stderr: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

let luajit: Promise<string> | undefined;

/** LuaJIT (`deno task test` installs the Debian package beforehand: scripts/lib/luajit.ts). */
function ensureLuajit(): Promise<string> {
  return luajit ??= (async () => {
    if (await has(LUAJIT)) return LUAJIT;
    throw new Error(
      "edge/envoy_lua_test.ts needs luajit: run it through `deno task test`, or apt-get install luajit",
    );
  })();
}

/** Envoy's handle, enough of it: headers (a table whose methods live in its metatable) and body. */
const HARNESS = `
local function headers_of(t)
  local methods = {}
  function methods:get(k) return rawget(self, k) end
  function methods:remove(k) rawset(self, k, nil) end
  function methods:replace(k, v) rawset(self, k, v) end
  return setmetatable(t, { __index = methods })
end
local function handle_of(headers, body)
  local h = { h = headers_of(headers), body_reads = 0 }
  function h:headers() return self.h end
  function h:body()
    self.body_reads = self.body_reads + 1
    if body == nil then return nil end
    return { length = function() return #body end, getBytes = function(_, i, n) return string.sub(body, i + 1, i + n) end }
  end
  return h
end
local function show(t)
  local keys = {}
  for k, _ in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local out = {}
  for _, k in ipairs(keys) do out[#out + 1] = k .. "=" .. t[k] end
  return table.concat(out, ";")
end
`;

async function runLua(script: string): Promise<string[]> {
  const file = await Deno.makeTempFile({ suffix: ".lua" });
  try {
    await Deno.writeTextFile(file, `${LUA}\n${HARNESS}\n${script}`);
    const out = await new Deno.Command(await ensureLuajit(), { args: [file] }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    return text.trim().split("\n");
  } finally {
    await Deno.remove(file);
  }
}

Deno.test("envoy Lua: a login's account goes into the rate-limit header, lower-cased", async () => {
  const lines = await runLua(`
local cases = {
  { path = "/v1/auth/login", body = '{"email": " Ann@Example.COM ", "password": "x"}' },
  { path = "/v1/auth/login?x=1", body = '{"user_id":"0190D6A4-AAAA","password":"x"}' },
  { path = "/v1/auth/login", body = '{"password": "x"}' },
  { path = "/v1/auth/login", body = nil },
}
for _, c in ipairs(cases) do
  local h = handle_of({ [":method"] = "POST", [":path"] = c.path, ["${LOGIN_ACCOUNT_HEADER}"] = "spoofed" }, c.body)
  envoy_on_request(h)
  print(h:headers():get("${LOGIN_ACCOUNT_HEADER}") or "-")
end
`);
  assert.deepEqual(lines, ["ann@example.com", "0190d6a4-aaaa", "-", "-"]);
});

Deno.test("envoy Lua: other requests keep no account header and bodies are not read", async () => {
  const lines = await runLua(`
local h = handle_of({ [":method"] = "POST", [":path"] = "/v1/user/register", ["${LOGIN_ACCOUNT_HEADER}"] = "x", ["x-auth-user"] = "admin", ["x-user-id"] = "1", ["accept"] = "*/*" }, '{"email":"a@b.co"}')
envoy_on_request(h)
print(show(h:headers()))
print(h.body_reads)
local g = handle_of({ [":method"] = "GET", [":path"] = "/v1/auth/login" }, nil)
envoy_on_request(g)
print(g.body_reads)
`);
  assert.deepEqual(lines, [":method=POST;:path=/v1/user/register;accept=*/*", "0", "0"]);
});

Deno.test("envoy Lua: a 429 carries the limiter's reset as Retry-After", async () => {
  const lines = await runLua(`
local limited = handle_of({ [":status"] = "429", ["x-ratelimit-reset"] = "17", ["retry-after"] = "60" }, nil)
envoy_on_response(limited)
print(limited:headers():get("retry-after"))
local ok = handle_of({ [":status"] = "200", ["x-ratelimit-reset"] = "17" }, nil)
envoy_on_response(ok)
print(ok:headers():get("retry-after") or "-")
`);
  assert.deepEqual(lines, ["17", "-"]);
});
