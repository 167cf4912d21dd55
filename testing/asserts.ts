/**
 * Assertions the end-to-end tests share.
 * @module
 */
import assert from "node:assert/strict";
import type { Answer } from "./stack.ts";

/**
 * Asserts an answer is the expected 4xx in the error shape `{code, message, details}`, naming
 * `field` among its details when one is given.
 */
export function assert4xx(r: Answer, status: number, what: string, field?: string): void {
  assert.equal(r.status, status, `${what}: ${JSON.stringify(r.json)}`);
  const body = r.json as { code?: unknown; message?: unknown; details?: Array<{ field?: string }> };
  assert.equal(typeof body.message, "string", `${what}: error body`);
  assert.equal(typeof body.code, "number", `${what}: error body`);
  if (field) {
    assert.ok(
      body.details?.some((d) => d.field === field),
      `${what}: the error names ${field}: ${JSON.stringify(body)}`,
    );
  }
}
