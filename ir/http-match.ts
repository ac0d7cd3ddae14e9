// HTTP method and path conditions of a rule by domain (`http-methods:`, `http-paths:`): the patterns' one
// form, a request path's normal form, and the match. Only the egress proxy sees a plain-HTTP request's
// method and path; inside an HTTPS (CONNECT) or SOCKS5 tunnel it sees neither, so the evaluator treats a
// rule with conditions as never allowing a tunnel and always denying one (fail closed).

import type { Parsed } from "./values.js";
import type { HttpMatch } from "./types.js";

function fail<T>(message: string, help?: string): Parsed<T> {
  return { ok: false, issue: { key: "invalidHttpMatch", message, ...(help ? { help } : {}) } };
}

/** An HTTP method token (RFC 9110's `token`, letters in practice): `GET`, `post` → `POST`. */
export function parseHttpMethod(raw: string): Parsed<string> {
  if (!/^[A-Za-z][A-Za-z-]{0,31}$/.test(raw)) return fail(`\`${raw}\` is not an HTTP method`, "write `GET`, `HEAD`, `POST` …");
  return { ok: true, value: raw.toUpperCase() };
}

/**
 * A path pattern: absolute, `*` within one segment, `**` as a whole segment for any depth (none included).
 * Written decoded (`/a b`, not `/a%20b`): requests are decoded before they are matched.
 */
export function parseHttpPathPattern(raw: string): Parsed<string> {
  if (!raw.startsWith("/")) return fail(`\`${raw}\` is not an absolute path`, "http paths start with `/`, e.g. `/simple/**`");
  if (/[?#\s\x00-\x1f\x7f]/.test(raw)) return fail(`\`${raw}\` has a query, a fragment, a space or a control character`, "match the path only: the query is not matched");
  const segments = raw.slice(1).split("/");
  for (const seg of segments) {
    if (seg === "." || seg === "..") return fail(`\`${raw}\` has a \`${seg}\` segment`, "requests are matched after `.` and `..` are resolved: write the path they resolve to");
    if (seg.includes("**") && seg !== "**") return fail(`\`${raw}\` has \`**\` inside a segment`, "`**` stands alone between slashes (`/a/**/b`); `*` matches within a segment");
  }
  return { ok: true, value: raw };
}

/**
 * A request's path in its normal form, or undefined when it cannot be read: the query dropped, percent-escapes
 * decoded (except `%2F`, kept, so an escaped slash never makes a new segment), `.` and `..` resolved. Also
 * undefined where servers disagree on the segments: a `.` or `..` that another server would see through a
 * `\` (Windows servers), a decoded `%2F` (servers that allow encoded slashes) or a segment's parameters
 * (`..;x`, which Tomcat and Jetty resolve as `..`): `/simple/x%2F..%2F..%2Fadmin` is no path under `/simple/`
 * to such a server.
 */
export function normalizeHttpPath(raw: string): string | undefined {
  const q = raw.search(/[?#]/);
  const path = q >= 0 ? raw.slice(0, q) : raw;
  if (!path.startsWith("/")) return undefined;
  let decoded: string;
  try {
    decoded = path
      .split(/(%2[Ff])/)
      .map((part) => (/^%2[Ff]$/.test(part) ? "%2F" : decodeURIComponent(part)))
      .join("");
  } catch {
    return undefined;
  }
  if (/%2F|\\|;/.test(decoded) && decoded.slice(1).split(/\/|%2F|\\/).some((s) => /^\.\.?(;|$)/.test(s))) return undefined;
  const out: string[] = [];
  const segs = decoded.slice(1).split("/");
  segs.forEach((seg, i) => {
    if (seg === ".") {
      if (i === segs.length - 1) out.push("");
    } else if (seg === "..") {
      out.pop();
      if (i === segs.length - 1) out.push("");
    } else out.push(seg);
  });
  return "/" + out.join("/");
}

function segmentMatches(pattern: string, seg: string): boolean {
  if (!pattern.includes("*")) return pattern === seg;
  const re = new RegExp("^" + pattern.split("*").map((x) => x.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join("[^/]*") + "$");
  return re.test(seg);
}

function segmentsMatch(p: readonly string[], s: readonly string[]): boolean {
  if (!p.length) return !s.length;
  if (p[0] === "**") {
    for (let k = 0; k <= s.length; k++) if (segmentsMatch(p.slice(1), s.slice(k))) return true;
    return false;
  }
  return s.length > 0 && segmentMatches(p[0]!, s[0]!) && segmentsMatch(p.slice(1), s.slice(1));
}

/** Does a normalized path match a pattern? */
export function httpPathMatches(pattern: string, path: string): boolean {
  return segmentsMatch(pattern.slice(1).split("/"), path.slice(1).split("/"));
}

/**
 * Does a rule's condition hold for a request (`undefined`: a tunnel, or a question without HTTP)? `unknown`
 * when the proxy cannot tell (a tunnel, or a path it cannot read): an allow then does not apply, a deny does.
 */
export function httpMatches(m: HttpMatch, request: { readonly method: string; readonly path: string } | undefined): boolean | "unknown" {
  if (!request) return "unknown";
  if (m.methods && !m.methods.includes(request.method.toUpperCase())) return false;
  if (!m.paths) return true;
  const path = normalizeHttpPath(request.path);
  if (path === undefined) return "unknown";
  return m.paths.some((p) => httpPathMatches(p, path));
}
