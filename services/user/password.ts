/**
 * Password hashing with scrypt (RFC 7914). A hash is stored as a self-describing string,
 * `scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>`, so the cost can be raised later without a
 * migration: old hashes keep verifying with the parameters they were made with.
 *
 * Hashing runs through node:crypto's asynchronous `scrypt`, which works on a thread pool, so a
 * login (about 0.3 s of CPU and 128 MiB at OWASP's cost) never blocks the event loop of the
 * service. A hash made with a lower cost than today's is replaced at the next successful login
 * ({@linkcode needsRehash}).
 *
 * @example
 * ```ts
 * const stored = await hashPassword("correct horse");
 * await verifyPassword("correct horse", stored); // true
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/** The cost parameters of scrypt. */
export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  N: number;
  /** Block size. */
  r: number;
  /** Parallelism. */
  p: number;
}

/**
 * The parameters new hashes use: N=2^17, r=8, p=1, OWASP's minimum for scrypt (128 MiB, about
 * 0.3 s on one core).
 */
export const DEFAULT_PARAMS: Readonly<ScryptParams> = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });

const SALT_BYTES = 16;
const KEY_BYTES = 32;
const PREFIX = "scrypt";

// A stored string comes from our own database, but a corrupted or hostile row must not make one
// verification take minutes or gigabytes: parameters outside these bounds are rejected.
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;

/**
 * How many derivations run at once. Each takes 128 MiB at today's cost and a core for about
 * 0.3 s: on a small machine a burst of logins would otherwise take half a gigabyte and gain no
 * throughput. The others wait their turn.
 */
const MAX_CONCURRENT_DERIVATIONS = 2;
let running = 0;
const waiting: Array<() => void> = [];

async function withSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT_DERIVATIONS) {
    await new Promise<void>((resolve) => waiting.push(resolve));
  } else {
    running++;
  }
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next(); // the slot passes straight on
    else running--;
  }
}

function derive(password: string, salt: Uint8Array, params: ScryptParams): Promise<Buffer> {
  return withSlot(() => deriveNow(password, salt, params));
}

function deriveNow(password: string, salt: Uint8Array, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      // NFC, so that the same password typed on two keyboards (composed or decomposed accents)
      // hashes the same.
      Buffer.from(password.normalize("NFC"), "utf8"),
      salt,
      KEY_BYTES,
      // 128·N·r is what scrypt needs; node's default cap (32 MiB) would refuse larger costs.
      { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

/**
 * Hashes a password with a fresh random 16-byte salt.
 *
 * @param password The plain password.
 * @param params The scrypt cost. @default DEFAULT_PARAMS
 * @returns The self-describing hash string to store.
 */
export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_PARAMS,
): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params);
  return [
    PREFIX,
    params.N,
    params.r,
    params.p,
    salt.toString("base64"),
    key.toString("base64"),
  ].join("$");
}

interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

function parseHash(stored: string): ParsedHash | undefined {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== PREFIX) return undefined;
  const [, n, r, p, salt, key] = parts as [string, string, string, string, string, string];
  if (![n, r, p].every((x) => /^[1-9]\d{0,7}$/.test(x))) return undefined;
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  const powerOfTwo = (params.N & (params.N - 1)) === 0;
  if (!powerOfTwo || params.N < 2 || params.N > MAX_N || params.r > MAX_R || params.p > MAX_P) {
    return undefined;
  }
  if (!B64.test(salt) || !B64.test(key)) return undefined;
  const parsed = { params, salt: Buffer.from(salt, "base64"), key: Buffer.from(key, "base64") };
  if (parsed.salt.length < 8 || parsed.key.length < 16) return undefined;
  return parsed;
}

/**
 * Whether the password matches a stored hash. A malformed or tampered hash string never matches
 * (it does not throw), so a corrupted row locks its user out rather than failing the service.
 *
 * @param password The plain password to check.
 * @param stored A string made by {@linkcode hashPassword}.
 * @returns True when the password is right.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (!parsed) return false;
  const key = await derive(password, parsed.salt, parsed.params);
  // The comparison takes the same time wherever the first differing byte is.
  return key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
}

/** A fresh credential version (128 random bits, hex): a token is valid for the version it names. */
export function newCredentialVersion(): string {
  return randomBytes(16).toString("hex");
}

/**
 * Whether a stored hash should be replaced by one with today's parameters (it was made with a
 * lower cost, or is not ours at all). Checked after a successful login, when the plain password
 * is at hand.
 *
 * @param stored A string made by {@linkcode hashPassword}.
 * @param params Today's cost. @default DEFAULT_PARAMS
 */
export function needsRehash(stored: string, params: ScryptParams = DEFAULT_PARAMS): boolean {
  const parsed = parseHash(stored);
  if (!parsed) return true;
  const p = parsed.params;
  return p.N < params.N || p.r < params.r || p.p < params.p;
}

let dummy: Promise<string> | undefined;

/**
 * Spends as long as a real verification and returns false. Called when no user matches, so that
 * "unknown email" and "wrong password" cannot be told apart by timing.
 *
 * @param password The password that was presented.
 * @returns Always false.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummy ??= hashPassword("stocklet dummy password, never matches anyone");
  await verifyPassword(password, await dummy);
  return false;
}
