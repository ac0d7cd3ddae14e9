// Where each diagnostic code is documented, as a URL: SARIF rule metadata (`helpUri`) and the `github`
// format link to it. The base URL lives here and nowhere else; docs/diagnostics.md gives every code an anchor
// (`#sbc0306`), and docs/lint.md gives every lint rule a section headed by its id (`#secret-access`).

import type { CodeInfo } from "./codes.js";

/**
 * The published docs folder. sbc has no public home yet, so this is a placeholder under the reserved
 * `.invalid` domain, like the policy schema's `$id` (language/schema.ts); change it here when the
 * project gets one.
 */
export const DOCS_BASE_URL = "https://sbc.invalid/docs/";

/**
 * Lint codes (family 30, `SBC30xx`, and older codes that became lint rules, tagged `lint`: SBC0405
 * unused-param) are documented per rule in docs/lint.md; every other code in docs/diagnostics.md.
 */
export function isLintCode(info: Pick<CodeInfo, "code" | "tags">): boolean {
  return info.code.startsWith("SBC30") || (info.tags?.includes("lint") ?? false);
}

/** The docs page and anchor of a code, relative to the docs folder (`diagnostics.md#sbc0306`, `lint.md#secret-access`). */
export function docsPath(info: Pick<CodeInfo, "code" | "name" | "tags">): string {
  return isLintCode(info) ? `lint.md#${info.name}` : `diagnostics.md#${info.code.toLowerCase()}`;
}

export function helpUri(info: Pick<CodeInfo, "code" | "name" | "tags">): string {
  return DOCS_BASE_URL + docsPath(info);
}
