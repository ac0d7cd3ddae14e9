// The JSON Schema (draft 2020-12) of the YAML surface, written as data so that its word lists come from the
// same constants the compiler uses. `npm run gen` writes it to schema/policy.schema.json for editors; the
// loader validates against this object directly. Constraints that need a good message of their own
// ("exactly one of allow/deny") are checked by the lowering pass, not here.

import { ACCESS_CLASSES, ACCESS_GROUP_DESCRIPTIONS, ACCESS_WORDS } from "../ir/access.js";
import { WIDENINGS } from "../ir/types.js";

export const SCHEMA_ID = "https://sbc.invalid/schema/policy.schema.json";
export const FORMAT_VERSION = 1;

export const ACTION_WORDS = ["allow", "log", "trace", "trap", "errno", "user-notif", "kill-thread", "kill-process"] as const;
export const DECISION_WORDS = ["allow", "prompt", "forbidden"] as const;
export const NETWORK_MODES = ["off", "on", "unix-only", "loopback"] as const;
export const BUILTIN_PARAMS = ["workspace", "home", "tmpdir", "cwd"] as const;
export const NAMESPACES_MODES = ["auto", "require", "never"] as const;
export const UNIX_TEST_OPS = ["socketpair", "connect", "bind"] as const;

const str = (description: string, extra: Record<string, unknown> = {}) => ({ type: "string", description, ...extra });

const accessSpec = {
  description: `One access word or a list of them. Classes: ${ACCESS_CLASSES.join(", ")}. Groups: ${Object.entries(
    ACCESS_GROUP_DESCRIPTIONS,
  )
    .map(([k, v]) => `${k} (${v})`)
    .join("; ")}.`,
  anyOf: [
    { type: "string", enum: [...ACCESS_WORDS] },
    { type: "array", items: { type: "string", enum: [...ACCESS_WORDS] } },
  ],
};

const errnoAction = {
  type: "object",
  properties: {
    errno: { description: "An errno name (EPERM) or number (0–4095).", anyOf: [{ type: "string" }, { type: "integer" }] },
  },
  required: ["errno"],
  additionalProperties: false,
};

const traceAction = {
  type: "object",
  properties: {
    trace: { description: "16 bits of data for the tracer (0–65535), read with PTRACE_GETEVENTMSG.", type: "integer" },
  },
  required: ["trace"],
  additionalProperties: false,
};

const action = {
  description:
    "What the kernel does: allow, log, trace, trap, errno (EPERM), user-notif, kill-thread, kill-process, {errno: NAME|number} or {trace: number}.",
  anyOf: [{ type: "string", enum: [...ACTION_WORDS] }, errnoAction, traceAction],
};

const portSpec = {
  anyOf: [
    { type: "integer", description: "A port, 0–65535." },
    { type: "string", description: "A port or an inclusive range `lo-hi`." },
  ],
};

const fsRule = {
  type: "object",
  description: "Allow or deny access classes on a path subtree (`path`), one exact path (`exact`) or a glob (`glob`).",
  properties: {
    allow: accessSpec,
    deny: accessSpec,
    path: str("The path and everything beneath it."),
    exact: str("This path only, not what is beneath it."),
    glob: str("Paths matching a glob: `*` and `?` within a component, `**` across components, `[...]` classes."),
    protect: {
      type: "array",
      description: "Names inside `path` that stay read-only even if they do not exist yet (e.g. `.git`).",
      items: { type: "string" },
    },
    "if-missing": { type: "string", enum: ["skip", "error"], description: "What the loader does if the path does not exist at launch (default skip)." },
    reason: str("Why the rule exists; kept in the IR and shown by `sbc eval`."),
  },
  additionalProperties: false,
};

const netOps = { anyOf: [{ type: "string", enum: ["connect", "bind"] }, { type: "array", items: { type: "string", enum: ["connect", "bind"] } }] };

const netRule = {
  type: "object",
  properties: {
    allow: netOps,
    deny: netOps,
    protocol: { type: "string", enum: ["tcp", "udp", "any"], description: "Default tcp." },
    hosts: {
      description: "`any` (default), `loopback`, or a list of IP addresses and CIDR blocks.",
      anyOf: [{ type: "string", enum: ["any", "loopback"] }, { type: "array", items: { type: "string" } }],
    },
    domains: {
      description: "Instead of `hosts`: domain names to connect to, by pattern: `example.com`, `*.example.com` (exactly one more label), `**.example.com` (any depth). Enforced only by the egress proxy.",
      type: "array",
      items: { type: "string" },
    },
    ports: {
      description: "Ports and ranges (`8000-8999`); default every port.",
      anyOf: [portSpec.anyOf[0], portSpec.anyOf[1], { type: "array", items: portSpec }],
    },
    "http-methods": {
      description: "With `domains`: plain-HTTP requests with these methods only (`GET`, `HEAD` …). The proxy cannot see inside HTTPS or SOCKS5: an allow with it never allows those, a deny with it denies them.",
      type: "array",
      items: { type: "string" },
    },
    "http-paths": {
      description: "With `domains`: plain-HTTP requests for these paths only, as globs over the normalized path (`/simple/**`: `*` within a segment, `**` across). Same tunnel rule as `http-methods`.",
      type: "array",
      items: { type: "string" },
    },
    reason: str("Why the rule exists."),
  },
  additionalProperties: false,
};

const unixPathRule = {
  type: "object",
  description: "Allow or deny binding (creating the socket file) and connecting to pathname sockets beneath a path.",
  properties: {
    allow: netOps,
    deny: netOps,
    path: str("The path and everything beneath it."),
    reason: str("Why the rule exists."),
  },
  required: ["path"],
  additionalProperties: false,
};

const unixSpec = {
  description: "AF_UNIX sockets: `allow` or `deny` (pairs, abstract names and every path), or the detailed form.",
  anyOf: [
    { type: "string", enum: ["allow", "deny"] },
    {
      type: "object",
      properties: {
        pairs: { type: "string", enum: ["allow", "deny"], description: "socketpair(2): pairs whose both ends the sandbox holds." },
        abstract: { type: "string", enum: ["allow", "deny"], description: "Connecting or sending to abstract-namespace sockets bound outside the sandbox." },
        paths: { type: "array", description: "Pathname sockets; the deepest path wins, then the later file, then deny. No rule: deny.", items: unixPathRule },
      },
      additionalProperties: false,
    },
  ],
};

const syscallRule = {
  type: "object",
  properties: {
    syscalls: {
      description: "Syscall names, `@group` names, and `arch:number` (`x86_64:335`, `x86_64:-1`) for a number on one architecture.",
      anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }],
    },
    action,
    args: {
      type: "array",
      description: "Conditions that must all hold, e.g. `arg0 == AF_UNIX`, `arg1 & CLONE_NEWUSER == 0`.",
      items: { type: "string" },
    },
    reason: str("Why the rule exists."),
  },
  required: ["syscalls", "action"],
  additionalProperties: false,
};

const commandRule = {
  type: "object",
  properties: {
    prefix: {
      description: "Words the argv must start with; a word may be a list of alternatives. A string is split on spaces.",
      anyOf: [
        { type: "string" },
        { type: "array", items: { anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] } },
      ],
    },
    decision: { type: "string", enum: [...DECISION_WORDS] },
    reason: str("Why the rule exists."),
  },
  required: ["prefix", "decision"],
  additionalProperties: false,
};

const fsTestProps = Object.fromEntries(
  ACCESS_CLASSES.map((a) => [a, str(`Ask whether \`${a}\` on this path is allowed.`)]),
);

const testCase = {
  type: "object",
  description: "One expectation: a query and its expected answer.",
  properties: {
    name: str("A label for the test."),
    ...fsTestProps,
    connect: str("`host:port` (IPv6 as `[addr]:port`)."),
    bind: str("`host:port` (IPv6 as `[addr]:port`)."),
    protocol: { type: "string", enum: ["tcp", "udp"] },
    unix: {
      type: "string",
      enum: [...UNIX_TEST_OPS],
      description: "Ask about AF_UNIX sockets: `socketpair`, or `connect`/`bind` with `path:` (or `connect` with `abstract:`).",
    },
    path: str("With `unix: connect` or `unix: bind`: the socket's path."),
    abstract: str("With `unix: connect`: an abstract socket name."),
    syscall: str("A syscall name (asked on every architecture that has it), or `arch:number` for one number on one architecture."),
    args: { type: "array", description: "Up to six argument values: numbers or constant expressions.", items: { anyOf: [{ type: "integer" }, { type: "string" }] } },
    command: { anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] },
    expect: {
      description: "allow/deny for files and network; an action for syscalls; allow/prompt/forbidden for commands.",
      anyOf: [{ type: "string" }, errnoAction, traceAction],
    },
  },
  required: ["expect"],
  additionalProperties: false,
};

export const POLICY_SCHEMA = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: SCHEMA_ID,
  $comment: "Generated from language/schema.ts by `npm run gen`; do not edit.",
  title: "sbc policy",
  description: "A sandbox policy for sbc, the sandbox policy compiler. See docs/language.md.",
  type: "object",
  properties: {
    sbc: { type: "integer", description: "Format version of the policy language; this compiler reads 1." },
    name: str("Policy name: letters, digits, `.`, `_` and `-`, at most 64 characters.", { pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$" }),
    description: str("What the policy is for."),
    extends: {
      description: "Presets (`workspace-write`) or files relative to this one (`./base.yaml`), merged in order before this file.",
      anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }],
    },
    params: {
      type: "object",
      description: "Named paths. Built in: workspace, home, tmpdir, cwd. Bind with `--param name=value`.",
      propertyNames: { pattern: "^[A-Za-z_][A-Za-z0-9_]*$" },
      additionalProperties: {
        anyOf: [
          str("The default value."),
          {
            type: "object",
            properties: { default: str("The default value."), description: str("What the parameter is.") },
            additionalProperties: false,
          },
        ],
      },
    },
    filesystem: { type: "array", description: "Filesystem rules. Anything no rule allows is denied.", items: fsRule },
    network: {
      description: "`off`, `on`, `unix-only`, `loopback`, or a detailed object.",
      anyOf: [
        { type: "string", enum: [...NETWORK_MODES] },
        {
          type: "object",
          properties: {
            mode: {
              type: "string",
              enum: [...NETWORK_MODES],
              description: "Start over from this mode, dropping what extended files said, then apply `unix` and `rules`.",
            },
            unix: unixSpec,
            rules: { type: "array", items: netRule },
          },
          additionalProperties: false,
        },
      ],
    },
    syscalls: {
      type: "object",
      properties: {
        default: action,
        "foreign-arch": {
          ...action,
          description: "What a seccomp filter does to a process of an architecture it does not serve (and to x32 calls when it serves x86_64 alone, or x86_64 calls when it serves x32 alone): kill-process by default.",
        },
        newer: {
          ...action,
          description:
            "The action for calls newer than the policy, instead of `default`: numbers above the highest one the rules name on each architecture (runc's convention), or with `kernel:` the calls added after that kernel. `{ errno: ENOSYS }` lets libc fall back.",
        },
        kernel: { type: "string", description: "`X.Y`: the newest kernel whose calls the policy knows; with `newer:`, the calls added after it are the newer ones." },
        rules: { type: "array", items: syscallRule },
      },
      additionalProperties: false,
    },
    commands: {
      type: "object",
      properties: {
        default: { type: "string", enum: [...DECISION_WORDS], description: "Decision for a command no rule matches (default prompt)." },
        rules: { type: "array", items: commandRule },
      },
      additionalProperties: false,
    },
    linux: {
      type: "object",
      description: "How the Linux launcher (`sbc exec`) may enforce the policy.",
      properties: {
        namespaces: {
          type: "string",
          enum: [...NAMESPACES_MODES],
          description: "auto (default): a private mount namespace when one can be created; require: refuse to run without one; never: Landlock and seccomp alone.",
        },
        "accept-widening": {
          type: "array",
          items: { type: "string", enum: [...WIDENINGS] },
          uniqueItems: true,
          description:
            "Widenings the policy accepts on Linux, where a rule can only be enforced more widely than written (otherwise an error, SBC2210): udp (below Landlock ABI 10 UDP is allowed or refused as a whole), hosts (an allow for some hosts opens its ports for every host), domains (until the egress proxy exists, an allow by domain opens its ports for every host).",
        },
      },
      additionalProperties: false,
    },
    tests: { type: "array", items: testCase },
  },
  required: ["sbc"],
  additionalProperties: false,
} as const;
