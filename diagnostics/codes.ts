// The one catalog of diagnostic codes. Codes are stable: once published a code keeps its meaning; a retired
// code is never reused. docs/diagnostics.md and the JSON/SARIF rule lists are generated from this table.

export type Severity = "error" | "warning";

export interface CodeInfo {
  /** Stable code, `SBC` + four digits. The first two digits name the family. */
  readonly code: string;
  /** Short kebab-case name, used in JSON output and docs anchors. */
  readonly name: string;
  readonly severity: Severity;
  /** One sentence for the catalog. */
  readonly summary: string;
  /** Extra SARIF tags; `security` marks a finding GitHub code scanning lists as a security alert. */
  readonly tags?: readonly string[];
}

function def(code: string, name: string, severity: Severity, summary: string, extra: { tags?: readonly string[] } = {}): CodeInfo {
  return { code, name, severity, summary, ...(extra.tags ? { tags: extra.tags } : {}) };
}

export const CODES = {
  // 01 — reading the file
  fileUnreadable: def("SBC0101", "file-unreadable", "error", "A policy file (or a file it extends) cannot be read."),
  notUtf8: def("SBC0102", "not-utf8", "error", "A policy file is not valid UTF-8 text."),
  yamlSyntax: def("SBC0103", "yaml-syntax", "error", "The file is not well-formed YAML."),
  duplicateKey: def("SBC0104", "duplicate-key", "error", "A mapping has the same key twice; YAML readers disagree on which one wins."),
  multipleDocuments: def("SBC0105", "multiple-documents", "error", "A policy file holds more than one YAML document."),
  emptyDocument: def("SBC0106", "empty-document", "error", "A policy file holds no policy."),
  yamlUnsupported: def("SBC0107", "yaml-unsupported", "error", "The file uses a YAML feature that policies do not allow (custom tags, non-string keys)."),
  fileTooLarge: def("SBC0110", "file-too-large", "error", "An input file is larger than sbc reads (512 KiB); it is refused before it is read."),
  tooManyErrors: def("SBC0112", "too-many-errors", "error", "A file has so many errors that checking stopped after the first 100; it is likely not a policy."),
  extendsNotPolicy: def("SBC0111", "extends-not-policy", "error", "A file named in `extends:` is not a policy file; it is refused without showing any of its text."),

  // 012x — the config file of `sbc check` (sbc.config.json, sbc.config.yaml, the `sbc` key of package.json)
  configUnreadable: def("SBC0120", "config-unreadable", "error", "A config file cannot be read or parsed."),
  configInvalid: def("SBC0121", "config-invalid", "error", "A config file has an unknown key or a value of the wrong shape."),
  configUnknownRule: def("SBC0122", "config-unknown-rule", "error", "A config file sets the severity of a rule that does not exist, or of a diagnostic that is always an error."),
  configAmbiguous: def("SBC0123", "config-ambiguous", "error", "One directory holds more than one config file, so which one applies is unclear."),

  // 02 — shape (JSON Schema)
  unknownKey: def("SBC0201", "unknown-key", "error", "A key that the policy language does not define."),
  wrongType: def("SBC0202", "wrong-type", "error", "A value has the wrong type (for example a list where a string is expected)."),
  invalidValue: def("SBC0203", "invalid-value", "error", "A value is not one of the allowed words."),
  missingKey: def("SBC0204", "missing-key", "error", "A required key is missing."),
  schemaViolation: def("SBC0205", "schema-violation", "error", "A value breaks a constraint of the schema (pattern, range, length)."),
  unsupportedVersion: def("SBC0206", "unsupported-version", "error", "The `sbc:` format version is not one this compiler reads."),
  conflictingKeys: def("SBC0207", "conflicting-keys", "error", "Two keys that exclude each other are both present, or neither of a required pair is."),

  // 03 — paths
  relativePath: def("SBC0301", "relative-path", "error", "A path is relative; policies only take absolute paths or paths that start with a parameter."),
  dotDotPath: def("SBC0302", "dot-dot-path", "error", "A path contains a `..` component, whose meaning depends on symlinks."),
  controlCharPath: def("SBC0303", "control-char-path", "error", "A path contains a NUL or another control character."),
  invalidUnicodePath: def("SBC0304", "invalid-unicode-path", "error", "A path is not valid Unicode (a lone surrogate), so it cannot be encoded as UTF-8."),
  tildePath: def("SBC0305", "tilde-path", "error", "A path starts with `~`, which no kernel expands."),
  pathNormalized: def("SBC0306", "path-normalized", "warning", "A path was spelled with `//`, `/./` or a trailing `/` and was normalized."),
  invalidGlob: def("SBC0307", "invalid-glob", "error", "A glob pattern is malformed."),
  misplacedParam: def("SBC0308", "misplaced-param", "error", "A `${param}` reference is not at the start of a path, or is malformed."),
  emptyPath: def("SBC0309", "empty-path", "error", "A path is empty."),

  // 04 — params
  unknownParam: def("SBC0401", "unknown-param", "error", "A path refers to a parameter that is neither built in nor declared."),
  paramCycle: def("SBC0402", "param-cycle", "error", "Parameter defaults refer to each other in a cycle."),
  unboundParam: def("SBC0403", "unbound-param", "error", "A parameter has no value where one is needed."),
  builtinParamRedefined: def("SBC0404", "builtin-param-redefined", "error", "A policy declares a parameter with the name of a built-in one."),
  unusedParam: def("SBC0405", "unused-param", "warning", "A declared parameter is never used.", { tags: ["lint"] }),

  // 05 — extends
  extendsCycle: def("SBC0501", "extends-cycle", "error", "Policies extend each other in a cycle."),
  extendsNotFound: def("SBC0502", "extends-not-found", "error", "A file named in `extends:` does not exist."),
  unknownPreset: def("SBC0503", "unknown-preset", "error", "A name in `extends:` is not a preset (files must start with `./` or `../`)."),
  extendsAbsolute: def("SBC0504", "extends-absolute", "error", "`extends:` names a file by absolute path; use a path relative to the policy."),

  // 06 — filesystem
  emptyAccess: def("SBC0601", "empty-access", "error", "A rule grants or denies nothing (no access class, no network operation, no syscall)."),
  invalidProtect: def("SBC0602", "invalid-protect", "error", "A `protect:` entry is not a relative name inside the rule's path."),
  deadRule: def("SBC0603", "dead-rule", "warning", "A filesystem rule never decides anything: another rule always takes precedence over it."),
  protectNeedsAllow: def("SBC0604", "protect-needs-allow", "error", "`protect:` only makes sense on an `allow` rule over a `path:` subtree."),
  shadowedDenyGlob: def("SBC0605", "shadowed-deny-glob", "warning", "A deny glob does not apply beneath a more specific allow rule, so some paths it was written for stay allowed."),

  // 07 — network
  invalidPort: def("SBC0701", "invalid-port", "error", "A port or port range is malformed or out of 0–65535."),
  invalidHost: def("SBC0702", "invalid-host", "error", "A host is not `any`, `loopback`, an IP address or a CIDR block."),
  invalidEndpoint: def("SBC0703", "invalid-endpoint", "error", "A test endpoint is not of the form `host:port` or `[v6]:port`."),

  // 08 — syscalls
  unknownSyscall: def("SBC0801", "unknown-syscall", "error", "A syscall name is unknown on every supported architecture."),
  unknownSyscallGroup: def("SBC0802", "unknown-syscall-group", "error", "A `@group` name is not a known syscall group."),
  invalidCondition: def("SBC0803", "invalid-condition", "error", "An argument condition cannot be parsed."),
  unknownConstant: def("SBC0804", "unknown-constant", "error", "A symbolic constant in an argument condition is unknown."),
  valueOutOfRange: def("SBC0805", "value-out-of-range", "error", "A number does not fit in 64 bits."),
  unknownErrno: def("SBC0806", "unknown-errno", "error", "An errno name is unknown, or an errno number is out of range."),
  argIndexOutOfRange: def("SBC0807", "arg-index-out-of-range", "error", "Syscalls have arguments 0 to 5 only."),
  unsatisfiableRule: def("SBC0808", "unsatisfiable-rule", "warning", "The conditions of a syscall rule can never all hold, so it never matches."),
  duplicateSyscall: def("SBC0809", "duplicate-syscall", "warning", "A syscall is listed twice in one rule."),
  argValueTooWide: def(
    "SBC0830",
    "arg-value-too-wide",
    "error",
    "A condition's value (for `&`, its masked value) has bits above the ones the kernel reads of that argument (32 for an `int`), so only bits the kernel ignores could decide it.",
  ),
  unknownSyscallArch: def("SBC0835", "unknown-syscall-arch", "error", "A syscall named by number (`arch:number`) names an architecture sbc does not support."),
  invalidSyscallNumber: def("SBC0836", "invalid-syscall-number", "error", "A syscall named by number is not a 32-bit number (decimal, `0x` hex, or `-1`)."),
  x32SyscallNumber: def("SBC0837", "x32-syscall-number", "error", "An `x86_64:` number has bit 30 set: it is an x32 call, which x86_64 filters give the `foreign-arch` action."),
  invalidTraceData: def("SBC0838", "invalid-trace-data", "error", "The data of a `trace` action is not a number 0–65535."),
  invalidKernelVersion: def("SBC0839", "invalid-kernel-version", "error", "A kernel version (`syscalls.kernel`, `--kernel`) is not `X.Y`, or is older than 5.0."),
  kernelWithoutNewer: def("SBC0840", "kernel-without-newer", "warning", "A kernel version is set but no `syscalls.newer` action, so it changes nothing."),

  // 09 — commands
  emptyPrefix: def("SBC0901", "empty-prefix", "error", "A command rule has an empty prefix or an empty word."),

  // 11 — importing foreign profiles
  importSyntax: def("SBC1101", "import-syntax", "error", "A foreign profile is not well-formed JSON."),
  importEntriesLeftOut: def("SBC1102", "import-entries-left-out", "warning", "Profile entries whose includes/excludes do not hold for the chosen arch, capabilities and kernel were left out."),
  importUnknownSyscall: def("SBC1103", "import-unknown-syscall", "warning", "Syscall names sbc does not know were left out of the import; they get the default action."),
  importInterpreted: def("SBC1104", "import-interpreted", "warning", "Part of a profile is imported the way runtimes apply it, or narrower, rather than as written."),

  // 12 — DSL syntax
  dslUnexpectedCharacter: def("SBC1201", "dsl-unexpected-character", "error", "A character that cannot start any token of the DSL (outside strings and comments)."),
  dslUnterminatedString: def("SBC1202", "dsl-unterminated-string", "error", "A DSL string has no closing `\"` on its line."),
  dslInvalidEscape: def("SBC1203", "dsl-invalid-escape", "error", "A DSL string contains a backslash escape that JSON does not define."),
  dslControlCharacter: def("SBC1204", "dsl-control-character", "error", "A DSL string contains a raw control character; write it as an escape."),
  dslSyntax: def("SBC1205", "dsl-syntax", "error", "The DSL text does not follow the grammar (a missing brace, a misplaced or unknown word)."),
  dslTooDeep: def("SBC1206", "dsl-too-deep", "error", "Lists or blocks in a DSL file nest deeper than any policy needs."),
  dslIntegerRange: def("SBC1207", "dsl-integer-range", "error", "A DSL integer is too large to be represented exactly."),

  // 13 — `sbc build` (the `build` section of the config file)
  buildNoConfig: def("SBC1300", "build-no-config", "error", "`sbc build` found no config file with a `build` section."),
  buildInvalid: def("SBC1301", "build-invalid", "error", "The `build` section of the config file has an unknown key or a value of the wrong shape."),
  buildUnknownTarget: def("SBC1302", "build-unknown-target", "error", "A build output names a target that `sbc compile` does not have."),
  buildOptionNotForTarget: def("SBC1303", "build-option-not-for-target", "error", "A build output sets an option its target does not take (`arch` for a Landlock or SBPL target, `abi` for a seccomp one)."),
  buildDuplicateOutput: def("SBC1304", "build-duplicate-output", "error", "Two build outputs or depfiles name the same file, so one would overwrite the other."),
  buildOutputIsInput: def("SBC1305", "build-output-is-input", "error", "A build output or depfile is a file the build reads (a policy, a file it extends, the config)."),
  buildDepfilePath: def("SBC1306", "build-depfile-path", "error", "A depfile would have to name a path with a line break, which Make and Ninja cannot read."),

  // 13 — comparing two policies (`sbc diff`, lib/diff/)
  policyWidened: def("SBC1320", "policy-widened", "error", "The new policy allows something the old one denies (or gives a syscall a weaker action): `sbc diff` names the access and the rule on each side.", { tags: ["security"] }),
  policyWidenedOnTarget: def(
    "SBC1321",
    "policy-widened-on-target",
    "error",
    "Where a target enforces the two policies (`sbc diff --target`), the new one allows something the old one denies, though the IR says otherwise (or says so for another reason).",
    { tags: ["security"] },
  ),

  // 136x — the native loader of `sbc exec` and `sbc doctor`: found in the package or the per-user cache, or built on
  // first use where install scripts did not run (lib/loader.ts)
  loaderNoCompiler: def("SBC1360", "loader-no-compiler", "error", "The native loader is not built (install scripts did not run) and no C compiler (`cc`, `gcc`, `clang` or `SBC_CC`) is there to build it; nothing is run unsandboxed."),
  loaderBuildFailed: def("SBC1361", "loader-build-failed", "error", "Building the native loader on first use failed (the compiler's first line of output is shown); nothing is run unsandboxed."),
  loaderUnsafeDir: def("SBC1362", "loader-unsafe-dir", "error", "The loader's cache directory, a directory above it, or the loader in it can be changed by someone else, so no loader is run from it.", { tags: ["security"] }),
  loaderNoPlace: def("SBC1363", "loader-no-place", "error", "The native loader is not built, the package directory is not the user's alone, and no per-user cache directory is known (neither XDG_CACHE_HOME nor HOME is set)."),
  loaderUnavailable: def("SBC1364", "loader-unavailable", "error", "The native loader cannot be had on this system (not Linux, or its sources are missing from the package)."),
  explainUnsupported: def("SBC1370", "explain-unsupported", "error", "`sbc exec --explain` traces the command with ptrace, which sbc implements on x86_64 only; on another architecture nothing is run."),

  // 138x — `sbc learn`: a policy from an observed run (lib/learn.ts, the loader's `--trace-learn`)
  learnUnsupported: def("SBC1380", "learn-unsupported", "error", "`sbc learn` observes the command with ptrace, which sbc implements on x86_64 only; on another architecture nothing is run."),
  learnCommandFailed: def("SBC1381", "learn-command-failed", "warning", "The observed command did not succeed: the learned policy covers what it did until it ended, which may be less than a successful run needs."),

  // 14 — network rules by domain (ir/hosts.ts), enforced by the egress proxy (lib/proxy/, native/loader/relay.c)
  invalidDomain: def("SBC1400", "invalid-domain", "error", "A domain pattern or host name is malformed: a bad label, a wildcard outside the first label, an IP address (write it in `hosts:`) or a whole top-level domain."),
  domainRuleShape: def("SBC1401", "domain-rule-shape", "error", "A network rule with `domains:` also has `hosts:`, allows `bind`, names UDP, or has an empty list (or `http-methods`/`http-paths` without `domains:`): rules by domain are for TCP connections, by name."),
  domainsUnenforced: def("SBC1410", "domains-unenforced", "error", "A standalone target cannot enforce network rules by domain (Landlock, seccomp and Seatbelt see addresses, not names; only `sbc exec`, the `linux` target, `sbc debug seatbelt` and `-t sbpl --proxy-port` run them through the egress proxy): no artifact is emitted (unless a Linux target may widen it, SBC1411).", { tags: ["security"] }),
  domainsWidened: def("SBC1411", "domains-widened", "warning", "The policy accepts `linux: {accept-widening: [domains]}`: a Linux target enforces an allow rule by domain as an allow for every host on its ports, and drops a deny rule by domain.", { tags: ["security"] }),

  // 142x–143x — the egress proxy (docs/proxy.md)
  proxyDirectLoopback: def("SBC1420", "proxy-direct-loopback", "warning", "A policy with rules by domain runs in its own network namespace behind sbc's egress proxy: a direct connection an IP rule allows reaches only the sandbox's own loopback (through the proxy the rule applies as written)."),
  proxyUnsupported: def("SBC1421", "proxy-unsupported", "error", "Rules by domain need sbc's egress proxy. No longer emitted: `sbc debug seatbelt` and spawnSandboxed run the proxy on macOS too (the Node relay), and on Linux the loader's relay; kept so the code is never reused.", { tags: ["security"] }),
  proxyStart: def("SBC1422", "proxy-start", "error", "sbc's egress proxy could not start (its decision service or the loader's relay); the command is not run."),
  invalidHttpMatch: def("SBC1424", "invalid-http-match", "error", "An `http-methods` entry is not an HTTP method, or an `http-paths` entry is not an absolute path pattern (`/simple/**`: `*` within a segment, `**` a whole segment; no query, no `.` or `..`)."),
  proxySbpl: def("SBC1423", "proxy-sbpl", "warning", "The Seatbelt profile lets the sandbox reach the egress proxy the caller says runs on localhost: the rules by domain are enforced only by that proxy."),

  // 20 — the seccomp target
  seccompTooLarge: def("SBC2001", "seccomp-too-large", "error", "The compiled seccomp filter exceeds the kernel's limit of 4096 instructions."),
  seccompImpliedDeny: def("SBC2002", "seccomp-implied-deny", "warning", "A syscall rule allows what the network section forbids; on Linux the stricter of the two applies."),
  seccompUnixPaths: def(
    "SBC2003",
    "seccomp-unix-paths",
    "warning",
    "Linux cannot tell unix socket paths apart when a socket connects or binds, so the seccomp filter refuses more than the policy: connect(2), bind(2) or socket(AF_UNIX).",
  ),
  seccompMultiplexed: def(
    "SBC2010",
    "seccomp-multiplexed",
    "warning",
    "A rule tests arguments of a call that the `socketcall` or `ipc` multiplexer (i386, ppc64le, s390x) passes behind a pointer, so through the multiplexer the call gets the strictest action that rule can give.",
  ),
  seccompMixedByteOrder: def("SBC2011", "seccomp-mixed-byte-order", "error", "A multi-arch seccomp filter names arches of both byte orders (s390x with a little-endian arch); no kernel can load it."),

  seccompSplitArgument: def(
    "SBC2015",
    "seccomp-split-argument",
    "error",
    "On a 32-bit ABI, a condition names an argument at or after a 64-bit parameter, which that ABI passes in two registers at positions of its own.",
  ),

  // 22 — the Linux target: Landlock and the mount layer
  landlockNarrowed: def("SBC2201", "landlock-narrowed", "warning", "Landlock cannot express a rule exactly; the table enforces something strictly narrower (an error with --strict)."),
  mountNarrowed: def("SBC2202", "mount-narrowed", "warning", "In a mount namespace, `sbc exec` enforces a rule more narrowly than written: a path stays read-only where the policy allows changes without `write`, or a read-only name missing at launch cannot be created during the run (an error with --strict)."),
  linuxWidened: def(
    "SBC2210",
    "linux-widened",
    "error",
    "Linux can only enforce a rule more widely than written (UDP below Landlock ABI 10, where the seccomp filter allows all UDP once a rule allows some); an error at the rule unless the policy accepts that widening by name in `linux.accept-widening`.",
  ),

  landlockAbiWidened: def(
    "SBC2211",
    "landlock-abi-widened",
    "error",
    "The table is built for a Landlock ABI (`--abi`) that lacks a right the policy needs, so it would allow what the policy denies; an error with the compatibility level hard-requirement (the default), a warning with best-effort or soft-requirement, which accept it.",
  ),

  // 23 — SBPL: emitting profiles (the 2300s; targets/sbpl/lower.ts)
  sbplNarrowed: def("SBC2301", "sbpl-narrowed", "warning", "Seatbelt cannot express a rule exactly; the profile enforces something strictly narrower, or the warning says what stays open."),
  sbplSyscallsIgnored: def("SBC2302", "sbpl-syscalls-ignored", "warning", "Seatbelt has no syscall filter, so the policy's own syscall rules are not enforced on macOS."),
  sbplNeedsValue: def("SBC2303", "sbpl-needs-value", "error", "A path needs a parameter's value to be written into the profile (inline mode, or a glob in param mode)."),
  sbplStringTooLong: def("SBC2304", "sbpl-string-too-long", "error", "A path or regex would make a string literal longer than sandbox-exec accepts."),
  sbplParamOrder: def("SBC2305", "sbpl-param-order", "warning", "In param mode, which of two rules anchored at different parameters is more specific is unknown; the profile lets the deny win."),
  sbplResolverClosed: def("SBC2306", "sbpl-resolver-closed", "warning", "The policy reaches remote hosts but denies unix sockets, and macOS resolves host names through a unix socket: names do not resolve under the profile."),

  // 23 — SBPL: reading profiles (the 2350s; targets/sbpl/reader.ts)
  sbplSyntax: def("SBC2351", "sbpl-syntax", "error", "An SBPL profile is not well-formed (unbalanced parentheses, a bad string or escape)."),
  sbplUnsupported: def("SBC2352", "sbpl-unsupported", "error", "An SBPL profile uses a construct sbc's reader does not model (`import`, procedures, an unmodelled filter or regex feature)."),
  sbplInvalidRule: def("SBC2353", "sbpl-invalid-rule", "error", "An SBPL form is malformed: a rule without an operation, a filter with the wrong arguments, an address Seatbelt rejects."),

  // 25 — running a command under a policy (sbc exec): what this machine cannot do as the policy says
  execUnprotectable: def("SBC2501", "exec-unprotectable", "error", "A denied or protected name is a symbolic link (or a `.git` file) whose target cannot be resolved, so sbc cannot protect what it points at; the command is not run."),
  execNoNamespace: def("SBC2502", "exec-no-namespace", "error", "The policy or the run requires a mount namespace (`linux.namespaces: require`, `--namespaces require`) and none can be created on this machine; the command is not run."),
  execLandlockAbi: def("SBC2503", "exec-landlock-abi", "error", "The kernel's Landlock ABI cannot enforce the policy, and the compatibility level is hard-requirement; the command is not run."),

  // 21 — the OCI seccomp target
  ociInexpressible: def("SBC2101", "oci-inexpressible", "error", "The IR cannot be written as an OCI seccomp profile that a runtime accepts with the same meaning."),
  ociNeedsRuntime: def("SBC2102", "oci-needs-runtime", "warning", "The exported profile needs something from whoever runs it (a notify listener) or differs from the IR where OCI has no words for it."),

  // 30 — lint: security and hygiene findings on a policy that compiled (compiler/lint/, docs/lint.md). A rule's
  // severity here is its default; configuration and `sbc-disable` comments change it. 3000–3049: the lint
  // framework and the first security rules; 3050–3099: more rules.
  lintSecretAccess: def("SBC3001", "secret-access", "error", "Credentials (`~/.ssh`, `~/.aws`, `.env` files …) are writable, or readable (a warning), in the sandbox.", { tags: ["security"] }),
  lintPersistenceWrite: def("SBC3002", "persistence-write", "error", "A place that runs code later (a shell rc file, autostart, a crontab, `.git/hooks`, a directory on `PATH`) is writable.", { tags: ["security"] }),
  lintBroadWrite: def("SBC3003", "broad-write", "error", "`/`, the home directory or an ancestor of it is writable.", { tags: ["security"] }),
  lintAgentSocketAccess: def("SBC3004", "agent-socket-access", "error", "The sandbox may connect to a container engine's socket (`docker.sock`) or a key agent's (`SSH_AUTH_SOCK`).", { tags: ["security"] }),
  lintDangerousSyscall: def("SBC3005", "dangerous-syscall", "error", "Under a restrictive syscall default, a rule allows a call that escapes or weakens the sandbox (`ptrace`, `bpf`, `mount`, io_uring …).", { tags: ["security"] }),
  lintInvalidDirective: def("SBC3040", "lint-invalid-directive", "error", "An `sbc-disable` comment is malformed or has no reason after ` -- `; it suppresses nothing."),
  lintUnknownRule: def("SBC3041", "lint-unknown-rule", "error", "An `sbc-disable` comment names a lint rule that does not exist (compiler diagnostics cannot be suppressed)."),
  lintUnusedDirective: def("SBC3042", "lint-unused-directive", "warning", "An `sbc-disable` comment suppressed nothing: the rule it names reported nothing there."),

  // 10 — tests written in the policy
  testFailed: def("SBC1001", "test-failed", "error", "An expectation written in the policy's `tests:` does not hold."),
  invalidTest: def("SBC1002", "invalid-test", "error", "A test names no query, or more than one."),
  targetTestFailed: def(
    "SBC1010",
    "target-test-failed",
    "error",
    "A test written in the policy holds on the IR but not in a target's executable model (the seccomp filter run by the BPF interpreter, the Landlock launch model, the Seatbelt model): `sbc check --target` names the target.",
  ),

  // 30 — lint rules (second set)
  shadowedRule: def("SBC3050", "shadowed-rule", "warning", "A rule of the checked file never decides anything: for every query it matches, other rules win (or an earlier rule already decides the same)."),
  networkWithSecrets: def("SBC3051", "network-with-secrets", "warning", "The policy lets the sandbox reach hosts beyond loopback while credentials are readable: what it reads, it can send away.", { tags: ["security"] }),
  repoWithoutProtect: def("SBC3052", "repo-without-protect", "warning", "A write grant covers the workspace (a repository) without protecting its `.git`: hooks and config run code outside the sandbox.", { tags: ["security"] }),
  testCannotFail: def("SBC3053", "test-cannot-fail", "warning", "A policy test asks exactly what another test of the file asks, with the same expectation: it can never fail on its own."),
} as const satisfies Record<string, CodeInfo>;

export type CodeKey = keyof typeof CODES;

export function allCodes(): CodeInfo[] {
  return Object.values(CODES).sort((a, b) => a.code.localeCompare(b.code));
}
