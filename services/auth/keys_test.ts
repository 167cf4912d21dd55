import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { calculateJwkThumbprint, CompactSign, compactVerify, importJWK } from "jose";
import {
  generateSigningKey,
  parsePrivateKeyPem,
  type SigningKey,
  signingKeyFromJwk,
} from "./keys.ts";

function p256Pems(): { sec1: string; pkcs8: string } {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  return {
    sec1: privateKey.export({ type: "sec1", format: "pem" }).toString(),
    pkcs8: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

async function signsAndVerifies(key: SigningKey): Promise<void> {
  const jws = await new CompactSign(new TextEncoder().encode("hi"))
    .setProtectedHeader({ alg: "ES256" })
    .sign(key.privateKey);
  await compactVerify(jws, await importJWK(key.publicJwk, "ES256"));
}

Deno.test("parsePrivateKeyPem() reads SEC1 and PKCS#8 PEM of one key to the same kid", async () => {
  const { sec1, pkcs8 } = p256Pems();
  assert.match(sec1, /BEGIN EC PRIVATE KEY/);
  const a = await parsePrivateKeyPem(sec1);
  const b = await parsePrivateKeyPem(pkcs8);
  assert.equal(a.kid, b.kid);
  assert.deepEqual(a.publicJwk, b.publicJwk);
  await signsAndVerifies(a);
});

Deno.test("parsePrivateKeyPem() reads base64 of the PEM (the seed's form) and escaped newlines", async () => {
  const { sec1 } = p256Pems();
  const plain = await parsePrivateKeyPem(sec1);
  assert.equal((await parsePrivateKeyPem(btoa(sec1))).kid, plain.kid);
  assert.equal((await parsePrivateKeyPem(`  ${btoa(sec1)}\n`)).kid, plain.kid);
  assert.equal((await parsePrivateKeyPem(sec1.replace(/\n/g, "\\n"))).kid, plain.kid);
});

Deno.test("parsePrivateKeyPem() rejects other curves, RSA and garbage without echoing the key", async () => {
  const p384 = generateKeyPairSync("ec", { namedCurve: "secp384r1" }).privateKey
    .export({ type: "pkcs8", format: "pem" }).toString();
  await assert.rejects(parsePrivateKeyPem(p384), /P-256/);
  const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey
    .export({ type: "pkcs8", format: "pem" }).toString();
  await assert.rejects(parsePrivateKeyPem(rsa), /P-256/);
  await assert.rejects(parsePrivateKeyPem("not a key"), /must be a PEM/);
  const broken = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----";
  await assert.rejects(parsePrivateKeyPem(broken), (e: Error) => {
    assert.match(e.message, /not a readable private key/);
    assert.doesNotMatch(e.message, /AAAA/);
    return true;
  });
});

Deno.test("generateSigningKey() makes a P-256 key whose kid is its RFC 7638 thumbprint", async () => {
  const key = await generateSigningKey();
  const { kty, use, alg, crv, x, y, kid } = key.publicJwk;
  assert.deepEqual({ kty, use, alg, crv }, { kty: "EC", use: "sig", alg: "ES256", crv: "P-256" });
  assert.equal(kid, await calculateJwkThumbprint({ kty, crv, x, y }, "sha256"));
  assert.equal(key.kid, kid);
  assert.equal("d" in key.publicJwk, false);
  await signsAndVerifies(key);
});

Deno.test("signingKeyFromJwk() round-trips a stored private JWK to the same key", async () => {
  const key = await generateSigningKey();
  const stored = JSON.parse(JSON.stringify(key.privateJwk));
  const again = await signingKeyFromJwk(stored);
  assert.equal(again.kid, key.kid);
  await signsAndVerifies(again);
  await assert.rejects(signingKeyFromJwk({ ...stored, d: undefined }), /private/);
  await assert.rejects(signingKeyFromJwk({ ...stored, crv: "P-384" }), /P-256/);
});
