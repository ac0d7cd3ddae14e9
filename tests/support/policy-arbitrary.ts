// Random IRs of the kind one policy file compiles to, for round-trip property tests (IR → YAML / DSL → IR).
// The generators of the evaluator and seccomp property tests build IRs the compiler would never produce
// (layers from several files, access lists out of canonical order), which is right for testing an evaluator
// but not a round trip, so this one keeps to what a single file can say (language/ir-to-document.ts):
// layer 0 everywhere, parameters free (no defaults, nothing bound), every list in the compiler's normal form
// (sorted accesses, ops, syscalls and hosts; merged ports; hex values), and `protect:` rules right after
// their rule. Free text (reasons, descriptions, test names) draws from quotes, backslashes, `#`, control
// characters and non-ASCII, which both printers must escape correctly.

import fc from "fast-check";
import { ACCESS_CLASSES, type Access } from "../../ir/access.js";
import { expandAccess } from "../../ir/access.js";
import { mergeRanges } from "../../ir/values.js";
import { formatTemplate } from "../../ir/paths.js";
import {
  IR_VERSION,
  type Action,
  type ArgCondition,
  type CmpOp,
  type CommandRule,
  type Decision,
  type Effect,
  type FsRule,
  type IR,
  type IRParam,
  type LinuxLaunch,
  type NetRule,
  type PolicyTest,
  type SyscallRule,
  type UnixPathRule,
  type UnixSockets,
} from "../../ir/types.js";

const BUILTINS = ["workspace", "home", "tmpdir", "cwd"] as const;
const USER_PARAMS = ["data", "out_dir"] as const;
const LITERAL_PARTS = ["a", "b c", "x.e", "é", "#h", "q:r", "[x]", "-"];
const GLOB_PARTS = ["*", "**", "?", "[ab]", "a", "*.e", "[!x]"];
const SYSCALLS = ["read", "write", "ptrace", "socket", "openat", "clone", "personality"];
const WORDS = ["git", "status", "-c", "a b", "npm", "--x", "é", "errno"];
const OPS: readonly CmpOp[] = ["==", "!=", "<", "<=", ">", ">=", "&=="];
const hex = (v: bigint) => "0x" + v.toString(16);

/** Free text: the characters that trip quoting in YAML and in the DSL. */
export const freeTextArb = fc.string({
  unit: fc.constantFrom("a", "Z", " ", '"', "'", "\\", "#", ":", "-", "{", "[", ",", "\n", "\t", "\u0000", "\u007f", "\u0085", "é", "😀", "\u2028", "$", "%", "*", "&", "!", "|", ">", "@", "`"),
  maxLength: 12,
});

/** A test name or reason is usually plain; sometimes it is anything. */
const textArb = fc.oneof({ arbitrary: fc.constantFrom("why", "a reason", "true", "null", "0x10", "- dash", "yes"), weight: 1 }, { arbitrary: freeTextArb, weight: 2 });

type Head = string | null;
const headArb: fc.Arbitrary<Head> = fc.constantFrom<Head>(null, ...BUILTINS, ...USER_PARAMS);

function pathOf(head: Head, parts: readonly string[]): string {
  return formatTemplate({ param: head, components: parts });
}

const literalPathArb = fc
  .tuple(headArb, fc.array(fc.constantFrom(...LITERAL_PARTS), { maxLength: 3 }))
  .filter(([h, parts]) => h !== null || parts.length > 0)
  .map(([h, parts]) => pathOf(h, parts));
const globPathArb = fc
  .tuple(headArb, fc.array(fc.constantFrom(...GLOB_PARTS, ...LITERAL_PARTS), { minLength: 1, maxLength: 3 }))
  .map(([h, parts]) => pathOf(h, parts));

const accessArb = fc.subarray<Access>([...ACCESS_CLASSES], { minLength: 1 });
const effectArb = fc.constantFrom<Effect>("allow", "deny");
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });

/** One filesystem entry: a rule, and for `allow … path` the rules its `protect:` names generate. */
const fsEntryArb: fc.Arbitrary<FsRule[]> = fc
  .record({
    effect: effectArb,
    access: accessArb,
    kind: fc.constantFrom("subtree" as const, "exact" as const, "glob" as const),
    literal: literalPathArb,
    glob: globPathArb,
    ifMissing: fc.constantFrom("skip" as const, "error" as const),
    reason: optional(textArb),
    protect: fc.uniqueArray(fc.constantFrom(".git", "p", "d/e", "x y"), { maxLength: 2 }),
  })
  .map((r) => {
    const rule: FsRule = {
      effect: r.effect,
      access: r.access,
      kind: r.kind,
      path: r.kind === "glob" ? r.glob : r.literal,
      ifMissing: r.ifMissing,
      layer: 0,
      ...(r.reason !== undefined ? { reason: r.reason } : {}),
    };
    if (r.effect !== "allow" || r.kind !== "subtree") return [rule];
    const base = r.literal === "/" ? "" : r.literal;
    const protects = r.protect.map(
      (name): FsRule => ({ effect: "deny", access: expandAccess(["modify"]), kind: "subtree", path: `${base}/${name}`, ifMissing: "skip", layer: 0, protects: name }),
    );
    return [rule, ...protects];
  });

const CIDRS = ["10.0.0.0/8", "127.0.0.1/32", "::1/128", "192.168.1.0/24", "fe80::/10", "0.0.0.0/0"];
const netRuleArb: fc.Arbitrary<NetRule> = fc
  .record({
    effect: effectArb,
    ops: fc.subarray(["bind", "connect"] as const, { minLength: 1 }),
    protocols: fc.constantFrom<NetRule["protocols"]>(["tcp"], ["udp"], ["tcp", "udp"]),
    hosts: fc.oneof(fc.constantFrom<"any" | "loopback">("any", "loopback"), fc.uniqueArray(fc.constantFrom(...CIDRS), { minLength: 1, maxLength: 3 }).map((xs) => [...xs].sort())),
    ports: fc.oneof(
      fc.constant<[number, number][]>([[0, 65535]]),
      fc
        .array(
          fc.tuple(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 300 })).map(([lo, n]): [number, number] => [lo, Math.min(65535, lo + (n % 3 === 0 ? 0 : n))]),
          { minLength: 1, maxLength: 3 },
        )
        .map(mergeRanges),
    ),
    reason: optional(textArb),
  })
  .map((r) => ({ effect: r.effect, ops: r.ops, protocols: r.protocols, hosts: r.hosts, ports: r.ports, layer: 0, ...(r.reason !== undefined ? { reason: r.reason } : {}) }));

const unixPathRuleArb: fc.Arbitrary<UnixPathRule> = fc
  .record({ effect: effectArb, ops: fc.subarray(["bind", "connect"] as const, { minLength: 1 }), path: literalPathArb, reason: optional(textArb) })
  .map((r) => ({ effect: r.effect, ops: r.ops, path: r.path, layer: 0, ...(r.reason !== undefined ? { reason: r.reason } : {}) }));

/** The unix section: what `unix: allow|deny` gives, or any mix of settings and path rules. */
const unixArb: fc.Arbitrary<UnixSockets> = fc.oneof(
  effectArb.map((e): UnixSockets => ({ pairs: e, abstract: e, paths: e === "allow" ? [{ effect: "allow", ops: ["bind", "connect"], path: "/", layer: 0 }] : [] })),
  fc.record({ pairs: effectArb, abstract: effectArb, paths: fc.array(unixPathRuleArb, { maxLength: 3 }) }),
);

const linuxArb: fc.Arbitrary<LinuxLaunch> = fc.constantFrom("auto" as const, "require" as const, "never" as const).map((namespaces) => ({ namespaces }));

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  fc.constantFrom<Action>({ type: "allow" }, { type: "log" }, { type: "trap" }, { type: "kill-thread" }, { type: "kill-process" }, { type: "user-notif" }),
  fc.integer({ min: 0, max: 4095 }).map((errno): Action => ({ type: "errno", errno })),
);
const u64Arb = fc.oneof(fc.constantFrom(0n, 1n, 0xffn, 0xffffffffn, (1n << 64n) - 1n), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));
const conditionArb: fc.Arbitrary<ArgCondition> = fc
  .record({ arg: fc.integer({ min: 0, max: 5 }), op: fc.constantFrom(...OPS), value: u64Arb, mask: u64Arb })
  .map(({ arg, op, value, mask }) => (op === "&==" ? { arg, op, mask: hex(mask), value: hex(value & mask) } : { arg, op, value: hex(value) }));
const syscallRuleArb: fc.Arbitrary<SyscallRule> = fc
  .record({
    syscalls: fc.uniqueArray(fc.constantFrom(...SYSCALLS), { minLength: 1, maxLength: 3 }).map((xs) => [...xs].sort()),
    action: actionArb,
    conditions: fc.array(conditionArb, { maxLength: 2 }),
    reason: optional(textArb),
  })
  .map((r) => ({ syscalls: r.syscalls, action: r.action, conditions: r.conditions, layer: 0, ...(r.reason !== undefined ? { reason: r.reason } : {}) }));

const decisionArb = fc.constantFrom<Decision>("allow", "prompt", "forbidden");
const commandRuleArb: fc.Arbitrary<CommandRule> = fc
  .record({
    prefix: fc.array(fc.uniqueArray(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 2 }).map((xs) => [...xs].sort()), { minLength: 1, maxLength: 3 }),
    decision: decisionArb,
    reason: optional(textArb),
  })
  .map((r) => ({ prefix: r.prefix, decision: r.decision, ...(r.reason !== undefined ? { reason: r.reason } : {}) }));

const named = <T extends object>(t: T, name: string | undefined): T => (name !== undefined ? { ...t, name } : t);
const testArb: fc.Arbitrary<PolicyTest> = fc.oneof(
  fc.record({ access: fc.constantFrom(...ACCESS_CLASSES), path: literalPathArb, expect: effectArb, name: optional(textArb) }).map((t) => named({ kind: "fs" as const, access: t.access, path: t.path, expect: t.expect }, t.name)),
  fc
    .record({
      op: fc.constantFrom("connect" as const, "bind" as const),
      protocol: fc.constantFrom("tcp" as const, "udp" as const),
      host: fc.constantFrom("127.0.0.1", "10.1.2.3", "::1", "2001:db8::1"),
      port: fc.integer({ min: 0, max: 65535 }),
      expect: effectArb,
      name: optional(textArb),
    })
    .map((t) => named({ kind: "net" as const, op: t.op, protocol: t.protocol, host: t.host, port: t.port, expect: t.expect }, t.name)),
  fc.record({ expect: effectArb, name: optional(textArb) }).map((t) => named({ kind: "unix" as const, op: "socketpair" as const, expect: t.expect }, t.name)),
  fc
    .record({ op: fc.constantFrom("connect" as const, "bind" as const), path: literalPathArb, expect: effectArb, name: optional(textArb) })
    .map((t) => named({ kind: "unix" as const, op: t.op, path: t.path, expect: t.expect }, t.name)),
  fc
    .record({ abstract: fc.constantFrom("sock", "a b", "@x", "é"), expect: effectArb, name: optional(textArb) })
    .map((t) => named({ kind: "unix" as const, op: "connect" as const, abstract: t.abstract, expect: t.expect }, t.name)),
  fc
    .record({ syscall: fc.constantFrom(...SYSCALLS), args: fc.array(u64Arb.map(hex), { maxLength: 6 }), expect: actionArb, name: optional(textArb) })
    .map((t) => named({ kind: "syscall" as const, syscall: t.syscall, args: t.args, expect: t.expect }, t.name)),
  fc
    .record({ argv: fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 3 }), expect: decisionArb, name: optional(textArb) })
    .map((t) => named({ kind: "command" as const, argv: t.argv, expect: t.expect }, t.name)),
);

/** The parameters an IR lists: those its paths (filesystem and unix rules, their tests) refer to, free. */
function paramsOf(filesystem: readonly FsRule[], unix: UnixSockets, tests: readonly PolicyTest[], descriptions: Readonly<Record<string, string | undefined>>): IRParam[] {
  const used = new Set<string>();
  const note = (p: string) => {
    const m = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(p);
    if (m) used.add(m[1]!);
  };
  filesystem.forEach((r) => note(r.path));
  unix.paths.forEach((r) => note(r.path));
  tests.forEach((t) => (t.kind === "fs" || (t.kind === "unix" && "path" in t)) && note(t.path));
  return [...used].sort().map((name) => {
    const builtin = (BUILTINS as readonly string[]).includes(name);
    const description = builtin ? undefined : descriptions[name];
    return { name, builtin, value: null, ...(description !== undefined ? { description } : {}) };
  });
}

/** A random IR that one policy file can say. */
export const singleFileIrArb: fc.Arbitrary<IR> = fc
  .record({
    name: fc.constantFrom("p", "my-policy", "a.b_c", "X1"),
    description: optional(textArb),
    descriptions: fc.record({ data: optional(textArb), out_dir: optional(textArb) }),
    filesystem: fc.array(fsEntryArb, { maxLength: 5 }).map((xs) => xs.flat()),
    unix: unixArb,
    netRules: fc.array(netRuleArb, { maxLength: 3 }),
    defaultAction: actionArb,
    foreign: optional(actionArb),
    syscallRules: fc.array(syscallRuleArb, { maxLength: 3 }),
    defaultDecision: decisionArb,
    commandRules: fc.array(commandRuleArb, { maxLength: 3 }),
    linux: linuxArb,
    tests: fc.array(testArb, { maxLength: 5 }),
  })
  .map(
    (g): IR => ({
      irVersion: IR_VERSION,
      name: g.name,
      ...(g.description !== undefined ? { description: g.description } : {}),
      params: paramsOf(g.filesystem, g.unix, g.tests, g.descriptions),
      filesystem: g.filesystem,
      network: { unix: g.unix, rules: g.netRules },
      syscalls: { defaultAction: g.defaultAction, ...(g.foreign ? { foreignArchAction: g.foreign } : {}), rules: g.syscallRules },
      commands: { defaultDecision: g.defaultDecision, rules: g.commandRules },
      linux: g.linux,
      tests: g.tests,
    }),
  );

// ---- document trees, for the spelling of values --------------------------------------------------------------

/**
 * Strings that stress how a value is spelled: keywords and query words (free in value positions, but not after
 * `errno` or as a parameter called `description`), words, text that is not a word, numbers as text.
 */
export const trickyStringArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("path", "description", "errno", "allow", "deny", "default", "rule", "expect", "syscall", "read", "connect", "unix", "policy", "sbc", "name", "reason"),
  fc.constantFrom("git", "EPERM", "@network-io", "read-write", "a.b", "_x", "x-"),
  fc.constantFrom("-c", "1abc", "a b", "", "${workspace}/x", "443", "-1", "8000-8999", "arg0 == 1", "#", "{", "\"", "é"),
  freeTextArb,
);
const listOrOne = <T>(arb: fc.Arbitrary<T>) => fc.oneof(arb, fc.array(arb, { maxLength: 3 }));
const portValueArb = fc.oneof(fc.integer({ min: 0, max: 70000 }), trickyStringArb);
const actionValueArb: fc.Arbitrary<unknown> = fc.oneof(trickyStringArb, fc.record({ errno: fc.oneof(trickyStringArb, fc.integer({ min: -5, max: 5000 })) }));
const some = <T extends Record<string, unknown>>(arb: fc.Arbitrary<T>) => arb.map((o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)));
const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

/**
 * Document trees of the schema's shape (keys and the words the grammar fixes are right; every free value is
 * tricky), in the forms the DSL writes one way only: a `rules:` list is never empty, and a parameter given as
 * an object has a description (`{default: x}` alone is written `name = x`, which reads back as `x`).
 */
export const documentArb: fc.Arbitrary<Record<string, unknown>> = some(
  fc.record({
    sbc: fc.constant(1),
    name: opt(trickyStringArb),
    description: opt(trickyStringArb),
    extends: opt(listOrOne(trickyStringArb)),
    params: opt(
      fc.dictionary(
        trickyStringArb,
        fc.oneof(trickyStringArb, some(fc.record({ default: opt(trickyStringArb), description: trickyStringArb }))),
        { maxKeys: 3 },
      ),
    ),
    filesystem: opt(
      fc.array(
        fc
          .tuple(
            fc.constantFrom("allow", "deny"),
            listOrOne(trickyStringArb),
            fc.constantFrom("path", "exact", "glob"),
            trickyStringArb,
            some(fc.record({ protect: opt(fc.array(trickyStringArb, { maxLength: 2 })), "if-missing": opt(trickyStringArb), reason: opt(trickyStringArb) })),
          )
          .map(([e, a, k, p, rest]) => ({ [e]: a, [k]: p, ...rest })),
        { maxLength: 3 },
      ),
    ),
    network: opt(
      fc.oneof(
        trickyStringArb,
        some(
          fc.record({
            mode: opt(trickyStringArb),
            unix: opt(
              fc.oneof(
                trickyStringArb,
                some(
                  fc.record({
                    pairs: opt(trickyStringArb),
                    abstract: opt(trickyStringArb),
                    paths: opt(
                      fc.array(
                        fc
                          .tuple(fc.constantFrom("allow", "deny"), listOrOne(trickyStringArb), some(fc.record({ path: opt(trickyStringArb), reason: opt(trickyStringArb) })))
                          .map(([e, ops, rest]) => ({ [e]: ops, ...rest })),
                        { minLength: 1, maxLength: 2 },
                      ),
                    ),
                  }),
                ),
              ),
            ),
            rules: opt(
              fc.array(
                fc
                  .tuple(
                    fc.constantFrom("allow", "deny"),
                    listOrOne(trickyStringArb),
                    some(fc.record({ protocol: opt(trickyStringArb), hosts: opt(listOrOne(trickyStringArb)), ports: opt(listOrOne(portValueArb)), reason: opt(trickyStringArb) })),
                  )
                  .map(([e, ops, rest]) => ({ [e]: ops, ...rest })),
                { minLength: 1, maxLength: 2 },
              ),
            ),
          }),
        ),
      ),
    ),
    syscalls: opt(
      some(
        fc.record({
          default: opt(actionValueArb),
          "foreign-arch": opt(actionValueArb),
          rules: opt(
            fc.array(some(fc.record({ syscalls: listOrOne(trickyStringArb), action: actionValueArb, args: opt(fc.array(trickyStringArb, { maxLength: 2 })), reason: opt(trickyStringArb) })), {
              minLength: 1,
              maxLength: 2,
            }),
          ),
        }),
      ),
    ),
    commands: opt(
      some(
        fc.record({
          default: opt(trickyStringArb),
          rules: opt(
            fc.array(
              some(
                fc.record({
                  prefix: fc.oneof(trickyStringArb, fc.array(listOrOne(trickyStringArb), { maxLength: 3 })),
                  decision: fc.constantFrom("allow", "prompt", "forbidden"),
                  reason: opt(trickyStringArb),
                }),
              ),
              { minLength: 1, maxLength: 2 },
            ),
          ),
        }),
      ),
    ),
    linux: opt(some(fc.record({ namespaces: opt(trickyStringArb) }))),
    tests: opt(
      fc.array(
        fc
          .tuple(
            fc.constantFrom(...ACCESS_CLASSES, "connect", "bind", "unix", "syscall", "command"),
            listOrOne(trickyStringArb),
            actionValueArb,
            some(
              fc.record({
                protocol: opt(trickyStringArb),
                args: opt(fc.array(fc.oneof(fc.integer({ min: -3, max: 1 << 20 }), trickyStringArb), { maxLength: 3 })),
                path: opt(trickyStringArb),
                abstract: opt(trickyStringArb),
                name: opt(trickyStringArb),
              }),
            ),
          )
          .map(([q, v, expect, rest]) => ({ [q]: v, expect, ...rest })),
        { maxLength: 3 },
      ),
    ),
  }),
);
