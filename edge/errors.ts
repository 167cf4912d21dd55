/**
 * Errors the edge answers itself, in the services' error body shape `{code, message, details}`
 * with the gRPC code that grpc-gateway clients expect for the HTTP status.
 * @module
 */
import {
  Code,
  codeOfHttpStatus,
  type ErrorBody,
  httpStatusOf,
  ServiceError,
} from "@stocklet/shared/errors";

/**
 * An error with the HTTP status the edge answers.
 *
 * @example
 * ```ts
 * throw new EdgeError(504, "upstream product timed out after 10000 ms");
 * ```
 */
export class EdgeError extends Error {
  override readonly name = "EdgeError";
  /** The HTTP status. */
  readonly status: number;
  /** Sent as `Retry-After` (seconds), e.g. with a 429. */
  readonly retryAfterSeconds: number | undefined;

  constructor(status: number, message: string, cause?: unknown, retryAfterSeconds?: number) {
    super(message, cause === undefined ? undefined : { cause });
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The status and body of anything thrown while handling a request. */
export function errorOf(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof EdgeError) {
    return {
      status: err.status,
      body: { code: codeOfHttpStatus(err.status), message: err.message, details: [] },
    };
  }
  if (err instanceof ServiceError) {
    return {
      status: httpStatusOf(err.code),
      body: { code: err.code, message: err.message, details: err.details },
    };
  }
  return { status: 500, body: { code: Code.INTERNAL, message: "internal error", details: [] } };
}

/**
 * A JSON error response.
 *
 * @param err What was thrown (an EdgeError, a ServiceError or anything else → 500).
 * @returns The response, with `content-type: application/json`.
 */
export function errorResponse(err: unknown): Response {
  const { status, body } = errorOf(err);
  const headers = new Headers({ "content-type": "application/json" });
  if (status === 401) {
    headers.set("www-authenticate", `Bearer error="invalid_token"`);
  }
  if (err instanceof EdgeError && err.retryAfterSeconds !== undefined) {
    headers.set("retry-after", String(err.retryAfterSeconds));
  }
  return new Response(JSON.stringify(body), { status, headers });
}
