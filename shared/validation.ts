/**
 * protovalidate on every request: a violation becomes INVALID_ARGUMENT naming each field and rule.
 * @module
 */
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { createValidator, type Violation } from "@bufbuild/protovalidate";
import { Code, type ErrorDetail, ServiceError } from "./errors.ts";

const validator = createValidator();

function detailOf(v: Violation): ErrorDetail {
  const field = v.field.length ? String(v).split(":")[0]! : undefined;
  return {
    ...(field ? { field } : {}),
    rule: v.ruleId,
    message: v.message,
  };
}

/** The violations of a message (empty when valid). */
export function violationsOf<D extends DescMessage>(
  schema: D,
  message: MessageShape<D>,
): ErrorDetail[] {
  const result = validator.validate(schema, message);
  switch (result.kind) {
    case "valid":
      return [];
    case "invalid":
      return result.violations.map(detailOf);
    case "error":
      throw result.error;
  }
}

/**
 * Throws INVALID_ARGUMENT (400) listing every violation, e.g.
 * `invalid request: email: value must be a valid email address [string.email]`.
 */
export function validateRequest<D extends DescMessage>(schema: D, message: MessageShape<D>): void {
  const details = violationsOf(schema, message);
  if (details.length === 0) return;
  const summary = details.map((d) => `${d.field ?? "(message)"}: ${d.message} [${d.rule}]`);
  throw new ServiceError(Code.INVALID_ARGUMENT, `invalid request: ${summary.join("; ")}`, details);
}
