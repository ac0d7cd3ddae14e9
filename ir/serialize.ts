// JSON for the IR: deterministic bytes (keys in a fixed order, two-space indent, final newline) and spans
// left out unless asked for, so the same policy written in another syntax serializes identically. Equality
// of two IRs is equality of this serialization.

import { formatLocation } from "../diagnostics/source.js";
import type { IR } from "./types.js";

export interface SerializeOptions {
  /** Include `span` fields as `file:line:col` strings. */
  readonly spans?: boolean;
}

export function irToJson(ir: IR, options: SerializeOptions = {}): string {
  const plain = JSON.parse(
    JSON.stringify(ir, (key, value: unknown) => {
      if (key === "span") return options.spans && value && typeof value === "object" ? formatLocation(value as never) : undefined;
      return value;
    }),
  ) as unknown;
  return prettyJson(plain) + "\n";
}

/** Two-space JSON, except that lists of scalars stay on one line when short: IR goldens read like tables. */
export function prettyJson(value: unknown, indent = ""): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const flat = value.every((v) => v === null || typeof v !== "object" || (Array.isArray(v) && v.every((w) => typeof w !== "object")));
    if (flat) {
      const inline = (v: unknown): string => (Array.isArray(v) ? "[" + v.map(inline).join(", ") + "]" : JSON.stringify(v));
      const one = inline(value);
      if (one.length + indent.length <= 110) return one;
    }
    const inner = indent + "  ";
    return "[\n" + value.map((v) => inner + prettyJson(v, inner)).join(",\n") + "\n" + indent + "]";
  }
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return "{}";
    const inner = indent + "  ";
    return "{\n" + entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${prettyJson(v, inner)}`).join(",\n") + "\n" + indent + "}";
  }
  return JSON.stringify(value);
}

export function irEquals(a: IR, b: IR): boolean {
  return irToJson(a) === irToJson(b);
}
