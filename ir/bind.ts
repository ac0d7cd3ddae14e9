// Binding the IR's symbolic parameters to absolute paths. The reference evaluator (and any backend that
// cannot carry a parameter) works on a bound IR, because the precedence of two paths depends on their depth.

import { diag, type Diagnostic } from "../diagnostics/diagnostic.js";
import { bindTemplate, formatTemplate, parsePath, parseTemplate } from "./paths.js";
import type { IR } from "./types.js";

/** Params still symbolic in this IR. */
export function freeParams(ir: IR): string[] {
  return ir.params.filter((p) => p.value === null).map((p) => p.name);
}

export function bindIr(ir: IR, bindings: Readonly<Record<string, string>>): { ir?: IR; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const values = new Map<string, string>();
  for (const p of ir.params) if (p.value !== null) values.set(p.name, p.value);
  for (const [k, v] of Object.entries(bindings)) {
    const parsed = parsePath(v, { what: `value of \`${k}\`` });
    const err = parsed.errors[0];
    if (err || !parsed.template || parsed.template.param !== null) {
      diagnostics.push(diag(err?.key ?? "misplacedParam", err?.message ?? `value of \`${k}\` must be an absolute path, not a parameter reference`, { help: "bind parameters to absolute paths" }));
      continue;
    }
    if (!values.has(k)) values.set(k, formatTemplate(parsed.template));
  }
  const missing = ir.params.filter((p) => !values.has(p.name)).map((p) => p.name);
  for (const m of missing) {
    const p = ir.params.find((q) => q.name === m)!;
    diagnostics.push(
      diag("unboundParam", `parameter \`${m}\` has no value`, {
        ...(p.span ? { span: p.span } : {}),
        help: `bind it with \`--param ${m}=PATH\``,
      }),
    );
  }
  if (diagnostics.length) return { diagnostics };
  const bind = (s: string, glob = false) => {
    const t = parseTemplate(s);
    return bindTemplate(t, t.param === null ? undefined : values.get(t.param), glob)!;
  };
  return {
    ir: {
      ...ir,
      params: ir.params.map((p) => ({ ...p, value: values.get(p.name)! })),
      filesystem: ir.filesystem.map((r) => ({ ...r, path: bind(r.path, r.kind === "glob") })),
      network: { ...ir.network, unix: { ...ir.network.unix, paths: ir.network.unix.paths.map((r) => ({ ...r, path: bind(r.path) })) } },
      tests: ir.tests.map((t) => (t.kind === "fs" || (t.kind === "unix" && "path" in t) ? { ...t, path: bind(t.path) } : t)),
    },
    diagnostics,
  };
}
