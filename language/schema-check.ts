// Validating a parsed policy against the JSON Schema with ajv (draft 2020-12, strict mode), and turning
// ajv's errors into our diagnostics at the exact YAML node: unknown keys point at the key with a "did you
// mean", bad words point at the value, and the noise of `anyOf` branches is reduced to the branch whose
// type matched.

import type { ErrorObject, ValidateFunction } from "ajv";
import { closest, diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import type { CodeKey } from "../diagnostics/codes.js";
import { MAX_SCHEMA_DIAGNOSTICS, type PathSegment, type YamlDocument } from "./yaml-source.js";

// The validator is compiled ahead of time from POLICY_SCHEMA (ajv standalone, strict, allErrors, verbose) by
// `npm run gen`; tests/generated.test.ts proves it is current.
import { validate as generatedValidate } from "./schema-validator.generated.js";

function getValidator(): ValidateFunction {
  return generatedValidate as unknown as ValidateFunction;
}

function pointerToPath(pointer: string): PathSegment[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** What the thing at a path is, for messages. */
export function describePath(path: readonly PathSegment[]): string {
  const [a, b, c, d] = path;
  if (path.length === 0) return "the policy";
  if (a === "filesystem") return typeof b === "number" ? `filesystem rule ${b + 1}` : "`filesystem`";
  if (a === "network") {
    if (b === "rules") return typeof c === "number" ? `network rule ${c + 1}` : "`network.rules`";
    if (b === "unix") return c === "paths" ? (typeof d === "number" ? `unix path rule ${d + 1}` : "`network.unix.paths`") : "`network.unix`";
    return "`network`";
  }
  if (a === "syscalls") {
    if (b === "rules") return typeof c === "number" ? `syscall rule ${c + 1}` : "`syscalls.rules`";
    return "`syscalls`";
  }
  if (a === "commands") {
    if (b === "rules") return typeof c === "number" ? `command rule ${c + 1}` : "`commands.rules`";
    return "`commands`";
  }
  if (a === "tests") return typeof b === "number" ? `test ${b + 1}` : "`tests`";
  if (a === "params") return typeof b === "string" ? `parameter \`${b}\`` : "`params`";
  return `\`${String(a)}\``;
}

function lastKey(path: readonly PathSegment[]): string | undefined {
  for (let i = path.length - 1; i >= 0; i--) if (typeof path[i] === "string") return path[i] as string;
  return undefined;
}

function typeName(v: unknown): string {
  if (v === null) return "nothing";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return "a string";
  if (typeof v === "number") return Number.isInteger(v) ? "an integer" : "a number";
  if (typeof v === "boolean") return "a boolean";
  return typeof v;
}

function expectedName(t: string): string {
  return (
    { string: "a string", array: "a list", object: "a mapping", integer: "an integer", number: "a number", boolean: "a boolean" } as Record<string, string>
  )[t] ?? t;
}

function joinOr(items: readonly string[]): string {
  const u = [...new Set(items)];
  return u.length <= 1 ? (u[0] ?? "") : `${u.slice(0, -1).join(", ")} or ${u[u.length - 1]}`;
}

/** Keep only the errors of the `anyOf` branch whose type fits the value; or one type error if none does. */
function reduceAnyOf(errors: ErrorObject[]): ErrorObject[] {
  let list = [...errors];
  for (;;) {
    const anyOfs = list.filter((e) => e.keyword === "anyOf").sort((a, b) => a.schemaPath.length - b.schemaPath.length);
    const a = anyOfs[0];
    if (!a) return list;
    const prefix = a.schemaPath + "/";
    const branches = new Map<number, ErrorObject[]>();
    const under = (e: ErrorObject) =>
      e.schemaPath.startsWith(prefix) && (e.instancePath === a.instancePath || e.instancePath.startsWith(a.instancePath + "/"));
    for (const e of list) {
      if (!under(e)) continue;
      const idx = Number(e.schemaPath.slice(prefix.length).split("/")[0]);
      if (!branches.has(idx)) branches.set(idx, []);
      branches.get(idx)!.push(e);
    }
    const typeMismatch = (idx: number, errs: ErrorObject[]) =>
      errs.some((e) => e.keyword === "type" && e.instancePath === a.instancePath && e.schemaPath === `${prefix}${idx}/type`);
    const fitting = [...branches.entries()].filter(([i, errs]) => !typeMismatch(i, errs)).sort((x, y) => x[1].length - y[1].length || x[0] - y[0]);
    const inBranch = under;
    if (fitting.length) {
      const keep = new Set(fitting[0]![1]);
      list = list.filter((e) => e !== a && (!inBranch(e) || keep.has(e)));
    } else {
      const types = [...branches.values()].flat().filter((e) => e.keyword === "type" && e.instancePath === a.instancePath).map((e) => String(e.params.type));
      const synthetic: ErrorObject = { ...a, keyword: "type", params: { type: types.join(",") }, schemaPath: a.schemaPath + "/type" };
      list = list.filter((e) => e !== a && !inBranch(e));
      list.push(synthetic);
    }
  }
}

const MAX_RAW_ERRORS = 2000;

export function checkSchema(doc: YamlDocument): Diagnostic[] {
  const validate = getValidator();
  if (validate(doc.value)) return [];
  // reduceAnyOf is quadratic in the number of `anyOf` errors, and a file with 200,000 bad keys gives as many
  // errors: only the first MAX_RAW_ERRORS (in document order) are read, and at most MAX_SCHEMA_DIAGNOSTICS
  // reported, then one line says the rest were not.
  const raw = validate.errors ?? [];
  const errors = reduceAnyOf(raw.length > MAX_RAW_ERRORS ? raw.slice(0, MAX_RAW_ERRORS) : raw);
  const out: Diagnostic[] = [];
  for (const e of errors) {
    if (out.length >= MAX_SCHEMA_DIAGNOSTICS) {
      const last = out[out.length - 1]!;
      out.push(diag("tooManyErrors", `too many errors; stopped after ${MAX_SCHEMA_DIAGNOSTICS}`, { ...(last.span ? { span: last.span } : {}), help: "this does not look like a policy; is it the right file?" }));
      break;
    }
    const path = pointerToPath(e.instancePath);
    const where = describePath(path);
    const loc = doc.locate(path);
    const push = (key: CodeKey, message: string, options: { span?: typeof loc.value; help?: string | undefined; label?: string } = {}) =>
      out.push(diag(key, message, { span: options.span ?? loc.value, help: options.help, ...(options.label ? { spanLabel: options.label } : {}) }));
    switch (e.keyword) {
      case "additionalProperties": {
        const prop = String(e.params.additionalProperty);
        const known = Object.keys(((e.parentSchema as { properties?: object } | undefined)?.properties ?? {}) as object);
        const keyLoc = doc.locate([...path, prop]);
        const guess = closest(prop, known);
        push("unknownKey", `unknown key \`${prop}\` in ${where}`, {
          span: keyLoc.key ?? keyLoc.value,
          help: guess ? `did you mean \`${guess}\`?` : known.length ? `known keys: ${known.map((k) => `\`${k}\``).join(", ")}` : undefined,
        });
        break;
      }
      case "required": {
        const prop = String(e.params.missingProperty);
        push("missingKey", `${where} is missing \`${prop}\``, {
          span: loc.key ?? loc.value,
          help: prop === "sbc" ? "every policy starts with `sbc: 1`, the format version" : undefined,
        });
        break;
      }
      case "type": {
        const want = joinOr(String(e.params.type).split(",").map(expectedName));
        const key = lastKey(path);
        const subject = typeof path[path.length - 1] === "number" ? `an item of \`${key}\`` : key ? `\`${key}\`` : where;
        push("wrongType", `${subject} must be ${want}, found ${typeName(e.data)}`);
        break;
      }
      case "enum": {
        const allowed = (e.params.allowedValues as unknown[]).map(String);
        const got = String(e.data);
        const key = lastKey(path) ?? "value";
        const guess = closest(got, allowed);
        const context = where === `\`${key}\`` ? "" : ` in ${where}`;
        push("invalidValue", `\`${got}\` is not a valid \`${key}\`${context}`, {
          help: guess ? `did you mean \`${guess}\`?` : allowed.length <= 8 ? `expected ${joinOr(allowed.map((a) => `\`${a}\``))}` : undefined,
        });
        break;
      }
      case "pattern": {
        const key = lastKey(path) ?? "value";
        if (e.propertyName !== undefined || path[0] === "params") {
          // propertyNames: the offending key itself.
          break;
        }
        if (path.length === 1 && path[0] === "name") {
          push("schemaViolation", `\`${String(e.data)}\` is not a valid policy name`, {
            help: "a name is letters, digits, `.`, `_` and `-`, starts with a letter or digit, and has at most 64 characters",
          });
        } else push("schemaViolation", `\`${String(e.data)}\` is not a valid \`${key}\` in ${where}`, { help: `it must match \`${String(e.params.pattern)}\`` });
        break;
      }
      case "propertyNames": {
        const name = String(e.params.propertyName);
        const keyLoc = doc.locate([...path, name]);
        push("schemaViolation", `\`${name}\` is not a valid parameter name`, {
          span: keyLoc.key ?? keyLoc.value,
          help: "parameter names are letters, digits and `_`, not starting with a digit",
        });
        break;
      }
      case "minimum":
      case "maximum":
      case "maxLength":
      case "maxItems":
      case "minItems": {
        const key = lastKey(path) ?? "value";
        push("schemaViolation", `\`${key}\` in ${where} ${e.message ?? "is out of range"}`);
        break;
      }
      default:
        push("schemaViolation", `${where}: ${e.message ?? "is invalid"}`);
    }
  }
  return out;
}

/**
 * Where the value breaks the schema: the path of each offending node (an unknown key's own path), raw and
 * unreduced — for pruning the broken parts away, not for messages. Empty when the value is valid.
 */
export function schemaErrorPaths(value: unknown): PathSegment[][] {
  const validate = getValidator();
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => {
    const p = pointerToPath(e.instancePath);
    if (e.keyword === "additionalProperties") p.push(String(e.params.additionalProperty));
    if (e.keyword === "propertyNames") p.push(String(e.params.propertyName));
    return p;
  });
}
