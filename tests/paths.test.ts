// parsePath, compileGlob and isWithin: the one place that checks and normalizes policy paths. Each test
// states a behaviour of the path language (docs/language.md) through the public functions of paths.ts.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileGlob, components, formatTemplate, isWithin, parsePath, type ParsedPath } from "../ir/paths.js";

/** The normalized form of a path that parses, or a failure that names the first error. */
function normalized(raw: string, glob = false): string {
  const p = parsePath(raw, { glob });
  expect(p.errors, `errors for ${JSON.stringify(raw)}`).toEqual([]);
  expect(p.template, `template for ${JSON.stringify(raw)}`).toBeDefined();
  return formatTemplate(p.template!);
}

/** The single error of a path that must not parse. */
function theError(raw: string, glob = false): ParsedPath["errors"][number] {
  const p = parsePath(raw, { glob });
  expect(p.template, `${JSON.stringify(raw)} must not produce a template`).toBeUndefined();
  expect(p.errors.length, `errors for ${JSON.stringify(raw)}`).toBeGreaterThanOrEqual(1);
  return p.errors[0]!;
}

describe("parsePath: accepted paths", () => {
  it("absolute paths keep their components", () => {
    const p = parsePath("/usr/local/bin");
    expect(p.errors).toEqual([]);
    expect(p.warnings).toEqual([]);
    expect(p.template).toEqual({ param: null, components: ["usr", "local", "bin"] });
  });

  it("the root is an absolute path with no components and no warning", () => {
    const p = parsePath("/");
    expect(p.errors).toEqual([]);
    expect(p.warnings).toEqual([]);
    expect(p.template).toEqual({ param: null, components: [] });
    expect(formatTemplate(p.template!)).toBe("/");
  });

  it("a `${param}` head is kept symbolic, alone or followed by components", () => {
    expect(parsePath("${workspace}").template).toEqual({ param: "workspace", components: [] });
    expect(parsePath("${workspace}/src/main.ts").template).toEqual({ param: "workspace", components: ["src", "main.ts"] });
    expect(parsePath("${my_param2}/x").template).toEqual({ param: "my_param2", components: ["x"] });
    expect(parsePath("${workspace}/src").warnings).toEqual([]);
  });

  it("names with dots, spaces and non-ASCII characters are ordinary components", () => {
    expect(parsePath("/a/.git/.../b c/é/日本").template?.components).toEqual(["a", ".git", "...", "b c", "é", "日本"]);
    // A valid surrogate pair (an astral character) is not a lone surrogate.
    expect(parsePath("/emoji/😀").errors).toEqual([]);
  });
});

describe("parsePath: normalization warnings", () => {
  const cases: [string, string, string][] = [
    ["/a//b", "/a/b", "`//`"],
    ["/a/./b", "/a/b", "`/./`"],
    ["/a/b/", "/a/b", "a trailing `/`"],
    ["${workspace}/", "${workspace}", "a trailing `/`"],
    ["${workspace}//src/./x/", "${workspace}/src/x", "`//`"],
    ["/./", "/", "`/./`"],
  ];
  for (const [raw, want, spelling] of cases) {
    it(`${JSON.stringify(raw)} is normalized to ${want} with one warning`, () => {
      const p = parsePath(raw);
      expect(p.errors).toEqual([]);
      expect(formatTemplate(p.template!)).toBe(want);
      expect(p.warnings).toHaveLength(1);
      const w = p.warnings[0]!;
      expect(w.key).toBe("pathNormalized");
      expect(w.index).toBe(0);
      expect(w.length).toBe(raw.length);
      expect(w.message).toContain(want);
      expect(w.help).toContain(spelling);
    });
  }

  it("`/` alone is not warned about, nor is a normalized path", () => {
    for (const raw of ["/", "/a", "/a/b", "${home}", "${home}/.cache"]) expect(parsePath(raw).warnings, raw).toEqual([]);
  });

  it("normalizing twice is the identity (the normalized form parses clean)", () => {
    for (const raw of ["/a//b/./c/", "${x}//y/", "//", "/a/./"]) {
      const once = normalized(raw);
      const again = parsePath(once);
      expect(again.warnings, once).toEqual([]);
      expect(formatTemplate(again.template!)).toBe(once);
    }
  });
});

describe("parsePath: errors carry the right code and position", () => {
  it("an empty path", () => {
    const e = theError("");
    expect(e.key).toBe("emptyPath");
  });

  it("relative paths, with a help that suggests ${workspace}", () => {
    for (const raw of ["a/b", "./a", "src", "."]) {
      const e = theError(raw);
      expect(e.key, raw).toBe("relativePath");
      expect(e.index, raw).toBe(0);
    }
    expect(theError("./src/x").help).toContain("${workspace}/src/x");
  });

  it("`..` anywhere, at the index of the `..` component", () => {
    expect(theError("/a/../b")).toMatchObject({ key: "dotDotPath", index: 3, length: 2 });
    expect(theError("/..")).toMatchObject({ key: "dotDotPath", index: 1, length: 2 });
    expect(theError("${workspace}/..")).toMatchObject({ key: "dotDotPath", index: 13, length: 2 });
    expect(theError("/a/b/..")).toMatchObject({ key: "dotDotPath", index: 5 });
    // `...` and `..x` are ordinary names.
    expect(normalized("/a/.../..x")).toBe("/a/.../..x");
  });

  it("`~` is not expanded, and the help names ${home}", () => {
    expect(theError("~")).toMatchObject({ key: "tildePath", index: 0 });
    const e = theError("~/x");
    expect(e).toMatchObject({ key: "tildePath", index: 0 });
    expect(e.help).toContain("${home}/x");
  });

  it("shell-style `$HOME` is rejected as a misplaced parameter", () => {
    for (const raw of ["$HOME", "$HOME/x", "$workspace/src"]) expect(theError(raw), raw).toMatchObject({ key: "misplacedParam", index: 0 });
  });

  const controls: [string, number][] = [
    ["\u0000", 0x00],
    ["\u001f", 0x1f],
    ["\u007f", 0x7f],
    ["\u0085", 0x85],
    ["\n", 0x0a],
  ];
  for (const [ch, code] of controls) {
    const hex = code.toString(16).toUpperCase().padStart(4, "0");
    it(`the control character U+${hex} is an error at its index`, () => {
      const e = theError(`/ab${ch}c`);
      expect(e).toMatchObject({ key: "controlCharPath", index: 3, length: 1 });
      expect(e.message).toContain(`U+${hex}`);
      // The message shows the character escaped, never raw.
      expect(e.message).not.toContain(ch);
    });
  }

  it("lone surrogates (high or low) are errors at their index", () => {
    expect(theError("/a\ud800b")).toMatchObject({ key: "invalidUnicodePath", index: 2, length: 1 });
    expect(theError("/a\udc00")).toMatchObject({ key: "invalidUnicodePath", index: 2, length: 1 });
    expect(theError("/ok/\ud83d")).toMatchObject({ key: "invalidUnicodePath", index: 4 });
    // A low surrogate before a high one is two lone surrogates, not a pair.
    expect(theError("/x\udc00\ud800")).toMatchObject({ key: "invalidUnicodePath", index: 2 });
  });

  it("`${x}` in the middle of a path is misplaced, at the index of `${`", () => {
    expect(theError("/a${x}/b")).toMatchObject({ key: "misplacedParam", index: 2, length: 4 });
    expect(theError("${a}/${b}")).toMatchObject({ key: "misplacedParam", index: 5 });
  });

  it("`${x}foo` needs a `/` after the parameter", () => {
    const e = theError("${x}foo");
    expect(e).toMatchObject({ key: "misplacedParam", index: 4 });
    expect(e.help).toContain("${x}/foo");
  });

  it("malformed `${` references", () => {
    for (const raw of ["${x", "${", "${}/a", "${1x}/a", "${a-b}/c", "${ x }/a"]) {
      expect(theError(raw), raw).toMatchObject({ key: "misplacedParam", index: 0 });
    }
  });
});

describe("parsePath: globs", () => {
  it("accepts `*`, `?`, `**`, classes, negated classes and escapes", () => {
    for (const raw of ["/w/*.env", "/w/**", "/w/**/x", "/w/[!a]b", "/w/[^a]b", "/w/[abc]", "/w/\\*", "/w/?", "/w/[]]x", "${workspace}/**/*.pem"]) {
      const p = parsePath(raw, { glob: true });
      expect(p.errors, raw).toEqual([]);
      expect(p.template, raw).toBeDefined();
    }
  });

  it("keeps glob components verbatim", () => {
    expect(parsePath("/w/**/*.env", { glob: true }).template?.components).toEqual(["w", "**", "*.env"]);
    expect(parsePath("/w/\\*", { glob: true }).template?.components).toEqual(["w", "\\*"]);
  });

  const invalid: [string, number][] = [
    ["/w/[abc", 3],
    ["/w/a**b", 3],
    ["/w/]", 3],
    ["/w/x/**y", 5],
    ["/w/a\\", 3],
  ];
  for (const [raw, index] of invalid) {
    it(`rejects ${JSON.stringify(raw)} at the offending component`, () => {
      expect(theError(raw, true)).toMatchObject({ key: "invalidGlob", index });
    });
  }

  it("wildcards are not checked outside globs", () => {
    expect(parsePath("/w/[abc").errors).toEqual([]);
    expect(parsePath("/w/a**b").errors).toEqual([]);
  });
});

describe("compileGlob", () => {
  const matches = (glob: string, path: string): boolean => {
    const g = parsePath(glob, { glob: true });
    expect(g.errors, glob).toEqual([]);
    return compileGlob(g.template!.components)(components(path));
  };

  it("`/w/**/*.env` matches at any depth, including directly under /w", () => {
    expect(matches("/w/**/*.env", "/w/.env")).toBe(true);
    expect(matches("/w/**/*.env", "/w/a/b/.env")).toBe(true);
    expect(matches("/w/**/*.env", "/w/prod.env")).toBe(true);
    expect(matches("/w/**/*.env", "/w/a.envx")).toBe(false);
    expect(matches("/w/**/*.env", "/x/a.env")).toBe(false);
    expect(matches("/w/**/*.env", "/w")).toBe(false);
  });

  it("`*` and `?` stay within one component", () => {
    expect(matches("/w/*", "/w/a")).toBe(true);
    expect(matches("/w/*", "/w/a/b")).toBe(false);
    expect(matches("/w/*", "/w")).toBe(false);
    expect(matches("/w/?", "/w/a")).toBe(true);
    expect(matches("/w/?", "/w/ab")).toBe(false);
    expect(matches("/w/?", "/w/é")).toBe(true);
  });

  it("`**` matches zero or more components", () => {
    expect(matches("/w/**", "/w")).toBe(true);
    expect(matches("/w/**", "/w/a/b/c")).toBe(true);
    expect(matches("/w/**", "/wx")).toBe(false);
    expect(matches("/**/x", "/x")).toBe(true);
    expect(matches("/**/x", "/a/b/x")).toBe(true);
    expect(matches("/a/**/b/**/c", "/a/b/c")).toBe(true);
    expect(matches("/a/**/b/**/c", "/a/x/b/y/z/c")).toBe(true);
    expect(matches("/a/**/b/**/c", "/a/c")).toBe(false);
  });

  it("classes, negated classes and escapes", () => {
    expect(matches("/w/[!a]b", "/w/bb")).toBe(true);
    expect(matches("/w/[!a]b", "/w/ab")).toBe(false);
    expect(matches("/w/[ab]", "/w/a")).toBe(true);
    expect(matches("/w/[ab]", "/w/c")).toBe(false);
    expect(matches("/w/[a-c]x", "/w/bx")).toBe(true);
    expect(matches("/w/[]]x", "/w/]x")).toBe(true);
    expect(matches("/w/\\*", "/w/*")).toBe(true);
    expect(matches("/w/\\*", "/w/a")).toBe(false);
    expect(matches("/w/\\?x", "/w/?x")).toBe(true);
    expect(matches("/w/\\?x", "/w/ax")).toBe(false);
  });

  it("regular-expression metacharacters in a glob are literal", () => {
    expect(matches("/w/a.b*", "/w/a.bc")).toBe(true);
    expect(matches("/w/a.b*", "/w/axbc")).toBe(false);
    expect(matches("/w/(x)+*", "/w/(x)+y")).toBe(true);
    expect(matches("/w/$*", "/w/$HOME")).toBe(true);
  });

  it("an escaped backslash does not escape the wildcard after it", () => {
    // `\\` is a literal backslash (the checker and the component compiler both read it so), so the `*` after
    // it is a wildcard: `a\\*` matches a component that starts with `a\`.
    expect(parsePath("/w/a\\\\*", { glob: true }).errors).toEqual([]);
    expect(matches("/w/a\\\\*", "/w/a\\x")).toBe(true);
  });
});

describe("every glob that parsePath accepts can be matched", () => {
  // The checker (parsePath with glob: true) is the gate: whatever it lets through, compileGlob must turn into
  // a matcher, or the evaluator and the policy's own tests fail on a policy that compiled cleanly.
  it("a reversed range in a class is rejected or compiles", () => {
    const p = parsePath("/w/[z-a]", { glob: true });
    if (p.template) expect(() => compileGlob(p.template!.components)).not.toThrow();
    else expect(p.errors[0]?.key).toBe("invalidGlob");
  });

  it("random components over the glob alphabet", () => {
    const component = fc.string({ unit: fc.constantFrom("a", "b", "*", "?", "[", "]", "!", "^", "-", "\\", "."), minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(component, (c) => {
        const p = parsePath("/w/" + c, { glob: true });
        if (!p.template) return;
        const m = compileGlob(p.template.components);
        expect(typeof m(["w", "a"])).toBe("boolean");
      }),
      { numRuns: 2000 },
    );
  });
});

describe("isWithin", () => {
  it("a path is within itself and within its ancestors", () => {
    expect(isWithin("/a", "/a")).toBe(true);
    expect(isWithin("/a/b", "/a")).toBe(true);
    expect(isWithin("/a/b/c", "/a")).toBe(true);
  });

  it("a sibling that shares a prefix is not within", () => {
    expect(isWithin("/ab", "/a")).toBe(false);
    expect(isWithin("/a-b/c", "/a")).toBe(false);
    expect(isWithin("/a", "/a/b")).toBe(false);
  });

  it("everything is within the root, and the root is within nothing else", () => {
    expect(isWithin("/", "/")).toBe(true);
    expect(isWithin("/a", "/")).toBe(true);
    expect(isWithin("/a/b", "/")).toBe(true);
    expect(isWithin("/", "/a")).toBe(false);
  });
});
