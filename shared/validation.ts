/**
 * Every request is checked once, in the kit's call pipeline, before any handler sees it:
 *
 * 1. protovalidate's rules from the contract (`buf.validate`);
 * 2. text Postgres can store: no string anywhere in the message (fields, list items, map keys and
 *    values, nested messages) may hold U+0000 or an unpaired surrogate — Postgres `text` rejects
 *    the first and would silently rewrite the second;
 * 3. one spelling per id: every string the contract declares a UUID (`string.uuid`, also as list
 *    items or map keys) is lower-cased, so `ABC…` and `abc…` are the same product everywhere,
 *    and a map holding one id in two spellings is refused instead of colliding in the database.
 *
 * Any failure is INVALID_ARGUMENT (400) naming each field and rule.
 * @module
 */
import {
  type DescField,
  type DescMessage,
  getOption,
  hasOption,
  type MessageShape,
  ScalarType,
} from "@bufbuild/protobuf";
import { createValidator, type Violation } from "@bufbuild/protovalidate";
import {
  field as fieldRulesExt,
  type FieldRules,
} from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
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

/** The violations of a message's protovalidate rules (empty when valid). */
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

/** Rule id of a string holding U+0000 (Postgres `text` cannot store it). */
export const RULE_NO_NUL = "string.no_nul";
/** Rule id of a string holding an unpaired UTF-16 surrogate (not Unicode text). */
export const RULE_WELL_FORMED = "string.well_formed";
/** Rule id of a map holding the same UUID key in two spellings. */
export const RULE_UNIQUE_UUID_KEYS = "map.unique_uuid_keys";

/** Why a string is not storable text, or undefined when it is. */
export function textProblem(s: string): { rule: string; message: string } | undefined {
  if (s.includes("\u0000")) {
    return { rule: RULE_NO_NUL, message: "must not contain the NUL character (U+0000)" };
  }
  if (!s.isWellFormed()) {
    return {
      rule: RULE_WELL_FORMED,
      message: "must be well-formed Unicode (an unpaired surrogate was found)",
    };
  }
  return undefined;
}

/** How one field of a message is checked: which of its strings are UUIDs, where messages nest. */
interface FieldPlan {
  field: DescField;
  /** The field is a string, a list of strings or a map with string values. */
  textValues: boolean;
  /** Those values are UUIDs. */
  uuidValues: boolean;
  /** The map's keys are UUIDs (string-keyed maps' keys are always checked as text). */
  uuidKeys: boolean;
  /** The message type of the field's values (singular, list or map), to walk into. */
  nested: DescMessage | undefined;
}

const plans = new WeakMap<DescMessage, FieldPlan[]>();

function isUuidRule(rules: FieldRules | undefined): boolean {
  return rules?.type.case === "string" && rules.type.value.wellKnown.case === "uuid";
}

/** The fields of a message that hold strings (directly or deeper), computed once per type. */
function planOf(desc: DescMessage, inProgress: Set<DescMessage> = new Set()): FieldPlan[] {
  const cached = plans.get(desc);
  if (cached) return cached;
  inProgress.add(desc);
  const out: FieldPlan[] = [];
  plans.set(desc, out); // recursive types terminate here
  for (const field of desc.fields) {
    const rules = hasOption(field, fieldRulesExt) ? getOption(field, fieldRulesExt) : undefined;
    let textValues = false;
    let uuidValues = false;
    let uuidKeys = false;
    let nested: DescMessage | undefined;
    switch (field.fieldKind) {
      case "scalar":
        textValues = field.scalar === ScalarType.STRING;
        uuidValues = textValues && isUuidRule(rules);
        break;
      case "list":
        textValues = field.listKind === "scalar" && field.scalar === ScalarType.STRING;
        uuidValues = textValues && rules?.type.case === "repeated" &&
          isUuidRule(rules.type.value.items);
        if (field.listKind === "message") nested = field.message;
        break;
      case "map":
        textValues = field.mapKind === "scalar" && field.scalar === ScalarType.STRING;
        if (rules?.type.case === "map") {
          uuidKeys = isUuidRule(rules.type.value.keys);
          uuidValues = textValues && isUuidRule(rules.type.value.values);
        }
        if (field.mapKind === "message") nested = field.message;
        break;
      case "message":
        nested = field.message;
        break;
      case "enum":
        continue;
    }
    const stringKeys = field.fieldKind === "map" && field.mapKey === ScalarType.STRING;
    // A type still being planned (a recursive one) is kept: it may hold strings.
    if (nested && !inProgress.has(nested) && planOf(nested, inProgress).length === 0) {
      nested = undefined;
    }
    if (!textValues && !stringKeys && !nested) continue;
    out.push({ field, textValues, uuidValues, uuidKeys, nested });
  }
  inProgress.delete(desc);
  return out;
}

type Obj = Record<string, unknown>;

/** Reads a field's value, or undefined when unset (oneof members live under the oneof's name). */
function readField(msg: Obj, field: DescField): unknown {
  if (field.oneof) {
    const o = msg[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
    return o?.case === field.localName ? o.value : undefined;
  }
  return msg[field.localName];
}

function writeField(msg: Obj, field: DescField, value: unknown): void {
  if (field.oneof) {
    (msg[field.oneof.localName] as { value: unknown }).value = value;
  } else {
    msg[field.localName] = value;
  }
}

/** Checks and canonicalises one message in place, collecting problems. */
function walk(desc: DescMessage, msg: Obj, path: string, problems: ErrorDetail[], depth: number) {
  if (depth > 32) return; // protobuf's own nesting limit is lower; this only bounds recursion
  for (const plan of planOf(desc)) {
    const { field } = plan;
    const name = path + field.name;
    const value = readField(msg, field);
    if (value === undefined) continue;
    const text = (s: string, at: string, uuid: boolean): string => {
      const problem = textProblem(s);
      if (problem) problems.push({ field: at, ...problem });
      return uuid ? s.toLowerCase() : s;
    };
    if (field.fieldKind === "scalar") {
      if (typeof value === "string") {
        const canonical = text(value, name, plan.uuidValues);
        if (canonical !== value) writeField(msg, field, canonical);
      }
    } else if (field.fieldKind === "list") {
      const list = value as unknown[];
      list.forEach((item, i) => {
        if (typeof item === "string") list[i] = text(item, `${name}[${i}]`, plan.uuidValues);
        else if (plan.nested && item) {
          walk(plan.nested, item as Obj, `${name}[${i}].`, problems, depth + 1);
        }
      });
    } else if (field.fieldKind === "map") {
      const map = value as Obj;
      const canonical: Obj = {};
      let changed = false;
      for (const [rawKey, item] of Object.entries(map)) {
        const at = `${name}[${JSON.stringify(rawKey)}]`;
        const key = field.mapKey === ScalarType.STRING ? text(rawKey, at, plan.uuidKeys) : rawKey;
        if (key in canonical) {
          problems.push({
            field: at,
            rule: RULE_UNIQUE_UUID_KEYS,
            message: `the same id as another key (${key}); ids are case-insensitive`,
          });
          continue;
        }
        let v = item;
        if (typeof item === "string") v = text(item, at, plan.uuidValues);
        else if (plan.nested && item) walk(plan.nested, item as Obj, `${at}.`, problems, depth + 1);
        if (key !== rawKey || v !== item) changed = true;
        canonical[key] = v;
      }
      if (changed) writeField(msg, field, canonical);
    } else if (plan.nested) {
      walk(plan.nested, value as Obj, `${name}.`, problems, depth + 1);
    }
  }
}

/**
 * Checks that every string of a message is storable text and lower-cases its UUIDs, in place.
 *
 * @returns The problems found (empty when the message is fine).
 * @example
 * ```ts
 * const req = create(PlaceOrderRequestSchema, { cart: { "0190D6A4-…": 1 } });
 * canonicalize(PlaceOrderRequestSchema, req); // []; req.cart is now { "0190d6a4-…": 1 }
 * ```
 */
export function canonicalize<D extends DescMessage>(
  schema: D,
  message: MessageShape<D>,
): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  walk(schema, message as unknown as Obj, "", problems, 0);
  return problems;
}

/**
 * Validates a request and brings it to its canonical form (see the module doc): throws
 * INVALID_ARGUMENT (400) listing every problem, e.g.
 * `invalid request: email: value must be a valid email address [string.email]`.
 */
export function validateRequest<D extends DescMessage>(schema: D, message: MessageShape<D>): void {
  // Text first: protovalidate's regular expressions and lengths then see what will be stored.
  const details = canonicalize(schema, message);
  details.push(...violationsOf(schema, message));
  if (details.length === 0) return;
  const summary = details.map((d) => `${d.field ?? "(message)"}: ${d.message} [${d.rule}]`);
  throw new ServiceError(Code.INVALID_ARGUMENT, `invalid request: ${summary.join("; ")}`, details);
}
