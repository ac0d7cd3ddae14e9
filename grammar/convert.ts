// Which syntax a policy file is written in. Both syntaxes parse to the same document tree, so tools that
// take either (`sbc fmt`, `sbc convert`) only need to know which parser to use.

export type PolicySyntax = "dsl" | "yaml";

/** The syntax a policy file is written in, by its extension. */
export function syntaxOfPath(path: string): PolicySyntax | undefined {
  if (/\.sbc$/i.test(path)) return "dsl";
  if (/\.ya?ml$/i.test(path)) return "yaml";
  return undefined;
}

export const EXTENSION: Readonly<Record<PolicySyntax, string>> = { dsl: ".sbc", yaml: ".yaml" };
