/**
 * One error type for every service: a gRPC status code, a client-safe message and details.
 * REST answers it with the mapped HTTP status and `{code, message, details}` (grpc-gateway's shape).
 * @module
 */

/** gRPC status codes. */
export const Code = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** A gRPC status code. */
export type Code = typeof Code[keyof typeof Code];

/** One violated field rule, or any other structured detail. */
export interface ErrorDetail {
  /** Dotted field path, e.g. `cart["x"]` or `email`. */
  field?: string;
  /** The rule id, e.g. `string.email`. */
  rule?: string;
  message: string;
}

/**
 * An error a handler throws to answer a call. Only `message` and `details` reach the client;
 * `cause` is logged with the trace id.
 *
 * @example
 * ```ts
 * throw new ServiceError(Code.NOT_FOUND, "order not found");
 * ```
 */
export class ServiceError extends Error {
  override readonly name = "ServiceError";
  readonly code: Code;
  readonly details: ErrorDetail[];
  /** When the caller may try again (REST: `Retry-After`; gRPC: `retry-after` trailer). */
  retryAfterSeconds?: number;
  /**
   * The whole service is at capacity, whoever calls (REST: {@linkcode AT_CAPACITY_HEADER}), as
   * opposed to a limit of this caller's: the edge may then refuse the route's next calls itself.
   */
  atCapacity?: boolean;

  constructor(code: Code, message: string, details: ErrorDetail[] = [], cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.details = details;
  }
}

/**
 * RESOURCE_EXHAUSTED (429) with a `Retry-After`: the service is at capacity and sheds this call
 * rather than accept work it cannot finish in time.
 */
export function tooBusy(message: string, retryAfterSeconds: number): ServiceError {
  const e = new ServiceError(Code.RESOURCE_EXHAUSTED, message);
  e.retryAfterSeconds = retryAfterSeconds;
  e.atCapacity = true;
  return e;
}

/** The REST response header that marks a 429 of {@linkcode tooBusy}: the service, not the caller. */
export const AT_CAPACITY_HEADER = "x-stocklet-at-capacity";

const HTTP_STATUS: Record<Code, number> = {
  [Code.OK]: 200,
  [Code.CANCELLED]: 499,
  [Code.UNKNOWN]: 500,
  [Code.INVALID_ARGUMENT]: 400,
  [Code.DEADLINE_EXCEEDED]: 504,
  [Code.NOT_FOUND]: 404,
  [Code.ALREADY_EXISTS]: 409,
  [Code.PERMISSION_DENIED]: 403,
  [Code.RESOURCE_EXHAUSTED]: 429,
  // grpc-gateway answers 400; a request that is well formed but comes too late for the resource's
  // state (cancelling a dispatched order, dispatching a released shipment) is a conflict with
  // that state, and clients tell it from bad input by the 409.
  [Code.FAILED_PRECONDITION]: 409,
  [Code.ABORTED]: 409,
  [Code.OUT_OF_RANGE]: 400,
  [Code.UNIMPLEMENTED]: 501,
  [Code.INTERNAL]: 500,
  [Code.UNAVAILABLE]: 503,
  [Code.DATA_LOSS]: 500,
  [Code.UNAUTHENTICATED]: 401,
};

/** The HTTP status grpc-gateway uses for a gRPC code (FAILED_PRECONDITION: 409, see above). */
export function httpStatusOf(code: Code): number {
  return HTTP_STATUS[code];
}

/** The gRPC code grpc-gateway-style clients expect for an HTTP status (used by the edge). */
export function codeOfHttpStatus(status: number): Code {
  switch (status) {
    case 400:
      return Code.INVALID_ARGUMENT;
    case 401:
      return Code.UNAUTHENTICATED;
    case 403:
      return Code.PERMISSION_DENIED;
    case 404:
      return Code.NOT_FOUND;
    case 409:
      return Code.ALREADY_EXISTS;
    case 413:
      return Code.RESOURCE_EXHAUSTED;
    case 429:
      return Code.RESOURCE_EXHAUSTED;
    case 501:
      return Code.UNIMPLEMENTED;
    case 502:
    case 503:
      return Code.UNAVAILABLE;
    case 504:
      return Code.DEADLINE_EXCEEDED;
    default:
      return status >= 500 ? Code.INTERNAL : Code.UNKNOWN;
  }
}

/** The REST error body. */
export interface ErrorBody {
  code: Code;
  message: string;
  details: ErrorDetail[];
}

/** Turns anything thrown into a client-safe ServiceError (unknown errors become INTERNAL). */
export function toServiceError(err: unknown): ServiceError {
  if (err instanceof ServiceError) return err;
  return new ServiceError(Code.INTERNAL, "internal error", [], err);
}

/** The REST body of an error. */
export function errorBody(err: ServiceError): ErrorBody {
  return { code: err.code, message: err.message, details: err.details };
}

/** NOT_FOUND: `<what> not found`. */
export function notFound(what: string): ServiceError {
  return new ServiceError(Code.NOT_FOUND, `${what} not found`);
}

/** INVALID_ARGUMENT with an optional violated field. */
export function invalidArgument(message: string, field?: string): ServiceError {
  return new ServiceError(
    Code.INVALID_ARGUMENT,
    message,
    field === undefined ? [] : [{ field, message }],
  );
}

/** UNAUTHENTICATED: missing or bad credentials (401). */
export function unauthenticated(message = "missing or invalid access token"): ServiceError {
  return new ServiceError(Code.UNAUTHENTICATED, message);
}

/** PERMISSION_DENIED: authenticated but not allowed (403). */
export function permissionDenied(message = "permission denied"): ServiceError {
  return new ServiceError(Code.PERMISSION_DENIED, message);
}

/**
 * FAILED_PRECONDITION (409): the request is valid, but the resource's state no longer allows it.
 *
 * @example
 * ```ts
 * throw failedPrecondition("the order was dispatched and can no longer be cancelled");
 * ```
 */
export function failedPrecondition(message: string): ServiceError {
  return new ServiceError(Code.FAILED_PRECONDITION, message);
}

/** ALREADY_EXISTS (409). */
export function alreadyExists(message: string): ServiceError {
  return new ServiceError(Code.ALREADY_EXISTS, message);
}
