// The one place that checks and normalizes paths. A policy path is absolute (`/etc`) or starts with a
// parameter (`${workspace}/src`). Spellings that only change the look (`//`, `/./`, trailing `/`) are
// normalized with a warning; spellings whose meaning depends on the filesystem (`..`, relative paths, `~`) or
// that cannot be encoded safely (control characters, lone surrogates) are errors.

import type { CodeKey } from "../diagnostics/codes.js";
import { oneLine } from "../diagnostics/diagnostic.js";

/** A problem found in a path string; `index`/`length` are UTF-16 offsets into the raw string. */
export interface PathIssue {
  readonly key: CodeKey;
  readonly message: string;
  readonly index: number;
  readonly length: number;
  readonly help?: string;
}

export interface PathTemplate {
  /** Leading parameter name, or null for an absolute path. */
  readonly param: string | null;
  /** Normalized components after the parameter (or after `/`). */
  readonly components: readonly string[];
}

export interface ParsedPath {
  readonly template?: PathTemplate;
  readonly errors: PathIssue[];
  readonly warnings: PathIssue[];
}

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Quote user input for a message: backticks, with control characters made visible. */
export function showPath(raw: string): string {
  const visible = oneLine(raw);
  const cut = visible.length > 80 ? visible.slice(0, 77) + "..." : visible;
  return `\`${cut}\``;
}

function findLoneSurrogate(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const n = s.charCodeAt(i + 1);
      if (n >= 0xdc00 && n <= 0xdfff) {
        i++;
        continue;
      }
      return i;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return i;
  }
  return -1;
}

export interface ParsePathOptions {
  /** Whether `*`, `?`, `[...]` and `**` are wildcards (for `glob:` rules). */
  readonly glob?: boolean;
  /** What the path is, for messages ("path", "glob", "param default"). */
  readonly what?: string;
}

export function parsePath(raw: string, options: ParsePathOptions = {}): ParsedPath {
  const errors: PathIssue[] = [];
  const warnings: PathIssue[] = [];
  const what = options.what ?? "path";
  // "path `x`" reads well; for longer descriptions ("value of `workspace`") the input comes first.
  const subject = /^[a-z ]+$/.test(what) ? `${what} ${showPath(raw)}` : `${showPath(raw)} (${what})`;
  if (raw.length === 0) {
    errors.push({ key: "emptyPath", message: `${what} is empty`, index: 0, length: 0 });
    return { errors, warnings };
  }
  const surrogate = findLoneSurrogate(raw);
  if (surrogate >= 0) {
    errors.push({
      key: "invalidUnicodePath",
      message: `${subject} contains a lone UTF-16 surrogate and cannot be encoded as UTF-8`,
      index: surrogate,
      length: 1,
    });
    return { errors, warnings };
  }
  const control = raw.search(/[\u0000-\u001f\u007f-\u009f]/);
  if (control >= 0) {
    const code = raw.charCodeAt(control);
    errors.push({
      key: "controlCharPath",
      message: `${subject} contains the control character U+${code.toString(16).toUpperCase().padStart(4, "0")}`,
      index: control,
      length: 1,
      help: "control characters in paths confuse tools and logs; rename the file or match it with a glob",
    });
    return { errors, warnings };
  }
  if (raw.startsWith("~")) {
    errors.push({
      key: "tildePath",
      message: `${subject} starts with \`~\`, which is not expanded`,
      index: 0,
      length: 1,
      help: `write \`\${home}${raw.slice(1).startsWith("/") || raw.length === 1 ? raw.slice(1) : "/" + raw.slice(1)}\``,
    });
    return { errors, warnings };
  }

  let param: string | null = null;
  let restStart = 0;
  if (raw.startsWith("${")) {
    const close = raw.indexOf("}");
    const name = close < 0 ? "" : raw.slice(2, close);
    if (close < 0 || !PARAM_NAME.test(name)) {
      errors.push({
        key: "misplacedParam",
        message: `malformed parameter reference in ${subject}`,
        index: 0,
        length: close < 0 ? raw.length : close + 1,
        help: "a reference is `${name}`, where the name is letters, digits and `_`",
      });
      return { errors, warnings };
    }
    param = name;
    restStart = close + 1;
    if (restStart < raw.length && raw[restStart] !== "/") {
      errors.push({
        key: "misplacedParam",
        message: `parameter \`\${${name}}\` must be followed by \`/\` or end the ${what}`,
        index: restStart,
        length: 1,
        help: `write \`\${${name}}/${raw.slice(restStart)}\``,
      });
      return { errors, warnings };
    }
  } else if (raw.startsWith("$")) {
    errors.push({
      key: "misplacedParam",
      message: `${subject} uses shell-style \`$\`; environment variables are not expanded`,
      index: 0,
      length: 1,
      help: "parameters are written `${name}`, e.g. `${home}`",
    });
    return { errors, warnings };
  } else if (!raw.startsWith("/")) {
    const tail = raw.replace(/^(\.\/)+/, "");
    errors.push({
      key: "relativePath",
      message: `${subject} is relative`,
      index: 0,
      length: raw.length,
      help: `paths are absolute or start with a parameter; for a path in the workspace write \`\${workspace}/${tail}\``,
    });
    return { errors, warnings };
  }

  const nested = raw.indexOf("${", restStart);
  if (nested >= 0) {
    errors.push({
      key: "misplacedParam",
      message: `a parameter may only start a ${what}; \`\${\` appears inside ${showPath(raw)}`,
      index: nested,
      length: Math.max(2, raw.indexOf("}", nested) + 1 - nested),
      help: "define a parameter whose default is the whole prefix, and start the path with it",
    });
    return { errors, warnings };
  }

  const components: string[] = [];
  const spellings = new Set<string>();
  let index = restStart;
  const rest = raw.slice(restStart);
  const parts = rest.split("/");
  // parts[0] is "" (rest starts with "/" or is empty).
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]!;
    const at = index + 1; // offset of this component
    if (part === "") {
      if (i === parts.length - 1) {
        if (parts.length > 2 || param !== null) spellings.add("a trailing `/`");
      } else spellings.add("`//`");
    } else if (part === ".") {
      spellings.add("`/./`");
    } else if (part === "..") {
      errors.push({
        key: "dotDotPath",
        message: `${subject} contains \`..\``,
        index: at,
        length: 2,
        help: "`..` is resolved after symlinks by the kernel, so its meaning cannot be known when compiling; spell the path without it",
      });
    } else {
      if (options.glob) {
        const issue = checkGlobComponent(part);
        if (issue) errors.push({ key: "invalidGlob", message: `${issue} in glob ${showPath(raw)}`, index: at, length: part.length });
      }
      components.push(part);
    }
    index = at + part.length;
  }
  if (errors.length) return { errors, warnings };
  const template: PathTemplate = { param, components };
  if (spellings.size) {
    warnings.push({
      key: "pathNormalized",
      message: `${subject} was normalized to \`${formatTemplate(template)}\``,
      index: 0,
      length: raw.length,
      help: `it was spelled with ${[...spellings].sort().join(" and ")}; write the normalized form`,
    });
  }
  return { template, errors, warnings };
}

export function formatTemplate(t: PathTemplate): string {
  const rest = t.components.map((c) => "/" + c).join("");
  if (t.param !== null) return "${" + t.param + "}" + rest;
  return rest || "/";
}

/** Parse a path string that the compiler itself produced (IR form); throws on anything else. */
export function parseTemplate(s: string): PathTemplate {
  const p = parsePath(s, { glob: true });
  if (!p.template || p.warnings.length) throw new Error(`not a normalized IR path: ${s}`);
  return p.template;
}

/** Split a normalized absolute path into components. */
export function components(path: string): string[] {
  return path === "/" ? [] : path.slice(1).split("/");
}

export function joinComponents(parts: readonly string[]): string {
  return parts.length === 0 ? "/" : "/" + parts.join("/");
}

/**
 * Substitute a bound parameter value (a normalized absolute path) into a template. In a glob the value is
 * literal text, so its wildcard characters are escaped.
 */
export function bindTemplate(t: PathTemplate, value: string | undefined, glob = false): string | undefined {
  if (t.param === null) return joinComponents(t.components);
  if (value === undefined) return undefined;
  const head = components(value).map(glob ? escapeGlob : (c: string) => c);
  return joinComponents([...head, ...t.components]);
}

/** Is `path` equal to `base` or beneath it? Both normalized absolute paths. */
export function isWithin(path: string, base: string): boolean {
  return base === "/" || path === base || path.startsWith(base + "/");
}

export function depth(path: string): number {
  return components(path).length;
}

// ---- globs -------------------------------------------------------------------------------------------

/** Escape a literal path component for use inside a glob (a parameter's value spliced into `glob:`). */
export function escapeGlob(component: string): string {
  return component.replace(/[\\*?[\]]/g, "\\$&");
}

export function hasWildcard(component: string): boolean {
  for (let i = 0; i < component.length; i++) {
    const c = component[i];
    if (c === "\\") i++;
    else if (c === "*" || c === "?" || c === "[") return true;
  }
  return false;
}

export function checkGlobComponent(part: string): string | undefined {
  if (part.includes("**") && part !== "**") return "`**` must be a whole path component";
  for (let i = 0; i < part.length; i++) {
    const c = part[i];
    if (c === "\\") {
      if (i === part.length - 1) return "a trailing `\\` escapes nothing";
      i++;
    } else if (c === "[") {
      let j = i + 1;
      if (part[j] === "!" || part[j] === "^") j++;
      if (part[j] === "]") j++;
      while (j < part.length && part[j] !== "]") j++;
      // `[]x]` is a class holding `]` and `x`, so `[]` alone is an unclosed class, as in POSIX globs.
      if (j >= part.length) return "an unclosed `[`";
      try {
        globComponentRegExp(part.slice(i, j + 1));
      } catch {
        return `an invalid class \`${part.slice(i, j + 1)}\` (a range must go from low to high)`;
      }
      i = j;
    } else if (c === "]") {
      return "a `]` without `[`";
    }
  }
  return undefined;
}

/** Compile one glob component (not `**`) into an anchored regular expression. */
export function globComponentRegExp(part: string): RegExp {
  let re = "^";
  for (let i = 0; i < part.length; i++) {
    const c = part[i]!;
    if (c === "\\") {
      re += escapeRegExp(part[++i] ?? "");
    } else if (c === "*") {
      re += "[^/]*";
    } else if (c === "?") {
      re += "[^/]";
    } else if (c === "[") {
      let j = i + 1;
      let negate = false;
      if (part[j] === "!" || part[j] === "^") {
        negate = true;
        j++;
      }
      let body = "";
      if (part[j] === "]") {
        body += "\\]";
        j++;
      }
      while (part[j] !== "]") {
        const d = part[j]!;
        body += d === "\\" || d === "^" ? "\\" + d : d;
        j++;
      }
      re += `[${negate ? "^" : ""}${body}]`;
      i = j;
    } else {
      re += escapeRegExp(c);
    }
  }
  return new RegExp(re + "$", "u");
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

export type GlobMatcher = (pathComponents: readonly string[]) => boolean;

/** A matcher for a bound glob (components of a normalized absolute glob). */
export function compileGlob(globComponents: readonly string[]): GlobMatcher {
  const parts = globComponents.map((c) => (c === "**" ? "**" : hasWildcard(c) ? globComponentRegExp(c) : unescapeGlob(c)));
  const match = (pi: number, path: readonly string[], xi: number): boolean => {
    if (pi === parts.length) return xi === path.length;
    const p = parts[pi]!;
    if (p === "**") {
      for (let k = xi; k <= path.length; k++) if (match(pi + 1, path, k)) return true;
      return false;
    }
    if (xi >= path.length) return false;
    const ok = typeof p === "string" ? p === path[xi] : p.test(path[xi]!);
    return ok && match(pi + 1, path, xi + 1);
  };
  return (path) => match(0, path, 0);
}

function unescapeGlob(c: string): string {
  return c.replace(/\\(.)/g, "$1");
}

/** Number of leading components of a glob that contain no wildcard: its rank for precedence. */
export function globLiteralDepth(globComponents: readonly string[]): number {
  let n = 0;
  for (const c of globComponents) {
    if (c === "**" || hasWildcard(c)) break;
    n++;
  }
  return n;
}
