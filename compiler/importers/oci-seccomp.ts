// Import a Docker / OCI seccomp profile (runtime-spec `linux.seccomp`, plus Docker's `includes`/`excludes`) as
// an sbc policy in YAML text: a `syscalls:` section whose meaning under sbc's precedence equals what runc (or
// crun) and libseccomp make of the profile, for one container: an architecture, a capability set and a kernel.
//
// What a container runtime does with a profile, and therefore what this importer reproduces:
// - Docker resolves `includes`/`excludes` before the runtime sees the profile (moby/profiles
//   seccomp/seccomp_linux.go): an entry is kept when every `includes` condition holds (the arch is listed,
//   every capability is in the bounding set, the kernel is at least `minKernel`) and no `excludes` condition
//   does. sbc has no such conditions, so they are evaluated here for `options` and only the kept entries are
//   imported; each kept conditional entry gets a YAML comment and one warning counts what was left out.
// - runc and crun skip an entry whose action (with its errno) equals the default action, and split an entry
//   with two conditions on the same argument into one rule per condition, because libseccomp refuses two
//   comparisons of one argument in a rule (runc libcontainer/seccomp/seccomp_linux.go `matchCall`; crun
//   src/libcrun/seccomp.c; libseccomp src/api.c returns -EINVAL). Both are reproduced; the split (an OR where
//   the author probably meant AND) is warned about.
// - libseccomp does not resolve overlapping rules by action precedence. Per syscall it keeps the first rule
//   without conditions and drops every other rule for that syscall, earlier or later (src/db.c `db_rule_add`);
//   conditional rules with the same action are OR-ed; conditional rules with different actions that can match
//   the same call either fail to load (-EEXIST) or resolve in the order of libseccomp's decision tree, which
//   sorts by argument and operator, not by action. So: for a syscall with an unconditional rule, every rule of
//   another action is dropped here (that is exactly what libseccomp does); overlapping conditional rules of
//   different actions are kept in one layer, where sbc applies the strictest, and a warning names them —
//   strictly narrower or equal whatever libseccomp would pick.
// - libseccomp compares only the bits of a MASKED_EQ mask: `valueTwo` is masked first, and a mask of 0 makes
//   no comparison at all (db.c `_db_node_mask_fixup`, `_db_arg_cmp_need_lo/hi`). Reproduced.
// - SCMP_ACT_TRACE becomes `trace` with runc's data: `errnoRet`, or EPERM (1) when absent (runc
//   libcontainer/seccomp/seccomp_linux.go `getAction`: `ActTrace.SetReturnCode`).
// - Syscall names sbc's tables do not know (32-bit-only calls, calls newer than the headers) are left out with
//   a warning naming them: those calls then get the default action, which is the profile's own default.
// - runc's -ENOSYS stub (patchbpf/enosys_linux.go: unless the default action is allow, log, trace or errno
//   ENOSYS, numbers above the highest syscall the profile names on the arch fail with ENOSYS instead of the
//   default, so libc falls back to older calls) is reproduced with `syscalls.newer: { errno: ENOSYS }`, whose
//   threshold is the same; see the comment where the YAML is written for the entries runc counts but skips
//   and for -1. crun has no such stub: under crun those calls get the default action.
// The profile's `architectures`, `archMap`, `flags` and listener settings are checked but not carried over.

import { closest, diag, sortDiagnostics, type Diagnostic, type DiagnosticOptions } from "../../diagnostics/diagnostic.js";
import type { CodeKey } from "../../diagnostics/codes.js";
import { span, Source, type Span } from "../../diagnostics/source.js";
import type { Action } from "../../ir/types.js";
import { hex } from "../../ir/values.js";
import { argBits, argDeclaration, narrowCondition } from "../../ir/arg-widths.js";
import { ARCH_INFO, errnoName, errnoValue, isKnownSyscall, syscallNumber, type Arch } from "../../linux-abi/index.js";
import { syscallNameAt as syscallName } from "../../ir/evaluator/syscall-numbers.js";

export interface OciImportOptions {
  /** The profile's path as shown in diagnostics; its base name also names the policy. */
  readonly path: string;
  /** Capabilities in the container's bounding set (`CAP_SYS_ADMIN` …). Default: none, an unprivileged container. */
  readonly caps?: readonly string[];
  /** The container's architecture (any supported arch). Default: x86_64. */
  readonly arch?: Arch;
  /** The host kernel, `major.minor`. Default: newer than every `minKernel` in the profile. */
  readonly minKernel?: string;
}

export interface OciImportResult {
  /** The policy, when the profile could be imported (warnings allowed). */
  readonly yaml?: string;
  readonly diagnostics: Diagnostic[];
}

/**
 * Codes for findings that the catalog has no code of its own for yet: each names the nearest existing code.
 * Replace the right-hand sides when the catalog gains the import family.
 */
const IMPORT_CODES = {
  syntax: "importSyntax",
  droppedEntries: "importEntriesLeftOut",
  unknownSyscall: "importUnknownSyscall",
  interpreted: "importInterpreted",
} as const satisfies Record<string, CodeKey>;

const U64 = (1n << 64n) - 1n;
const EPERM = 1;
const ENOSYS = errnoValue("ENOSYS") ?? 38;
const MAX_ERRNO = 4095;

// ---- JSON with spans and exact integers ------------------------------------------------------------------
// JSON.parse would round u64 values above 2^53 and forget where things were; profiles need both.

type Json =
  | { readonly t: "object"; readonly entries: readonly JsonEntry[]; readonly start: number; readonly end: number }
  | { readonly t: "array"; readonly items: readonly Json[]; readonly start: number; readonly end: number }
  | { readonly t: "string"; readonly value: string; readonly start: number; readonly end: number }
  | { readonly t: "number"; readonly text: string; readonly start: number; readonly end: number }
  | { readonly t: "boolean"; readonly value: boolean; readonly start: number; readonly end: number }
  | { readonly t: "null"; readonly start: number; readonly end: number };

interface JsonEntry {
  readonly key: string;
  readonly keyStart: number;
  readonly keyEnd: number;
  readonly value: Json;
}

class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const MAX_JSON_DEPTH = 64;

function parseJson(text: string): Json {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const describe = (): string => (i >= text.length ? "the end of the file" : `\`${text[i] === "`" ? "'`'" : text[i]}\``);
  const value = (depth: number): Json => {
    if (depth > MAX_JSON_DEPTH) throw new JsonSyntaxError(`nested more than ${MAX_JSON_DEPTH} levels deep`, i);
    ws();
    const start = i;
    const c = text[i];
    if (c === "{") {
      i++;
      const entries: JsonEntry[] = [];
      ws();
      if (text[i] === "}") return { t: "object", entries, start, end: ++i };
      for (;;) {
        ws();
        if (text[i] !== '"') throw new JsonSyntaxError(`expected a key in double quotes, found ${describe()}`, i);
        const keyStart = i;
        const key = str();
        const keyEnd = i;
        ws();
        if (text[i] !== ":") throw new JsonSyntaxError(`expected \`:\` after a key, found ${describe()}`, i);
        i++;
        entries.push({ key, keyStart, keyEnd, value: value(depth + 1) });
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") return { t: "object", entries, start, end: ++i };
        throw new JsonSyntaxError(`expected \`,\` or \`}\`, found ${describe()}`, i);
      }
    }
    if (c === "[") {
      i++;
      const items: Json[] = [];
      ws();
      if (text[i] === "]") return { t: "array", items, start, end: ++i };
      for (;;) {
        items.push(value(depth + 1));
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") return { t: "array", items, start, end: ++i };
        throw new JsonSyntaxError(`expected \`,\` or \`]\`, found ${describe()}`, i);
      }
    }
    if (c === '"') return { t: "string", value: str(), start, end: i };
    const num = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (num) {
      i += num[0].length;
      return { t: "number", text: num[0], start, end: i };
    }
    for (const [word, v] of [["true", true], ["false", false], ["null", null]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v === null ? { t: "null", start, end: i } : { t: "boolean", value: v, start, end: i };
      }
    }
    throw new JsonSyntaxError(`expected a value, found ${describe()}`, i);
  };
  const str = (): string => {
    i++;
    let out = "";
    for (;;) {
      if (i >= text.length) throw new JsonSyntaxError("unterminated string", i);
      const c = text[i]!;
      if (c === '"') {
        i++;
        return out;
      }
      if (c.charCodeAt(0) < 0x20) throw new JsonSyntaxError("control character in a string", i);
      if (c !== "\\") {
        out += c;
        i++;
        continue;
      }
      const e = text[i + 1];
      const simple: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
      if (e !== undefined && Object.hasOwn(simple, e)) {
        out += simple[e];
        i += 2;
      } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
        out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
        i += 6;
      } else throw new JsonSyntaxError("invalid escape in a string", i);
    }
  };
  const root = value(0);
  ws();
  if (i < text.length) throw new JsonSyntaxError(`unexpected ${describe()} after the profile`, i);
  return root;
}

// ---- the profile, validated ------------------------------------------------------------------------------

type OciOp = "SCMP_CMP_NE" | "SCMP_CMP_LT" | "SCMP_CMP_LE" | "SCMP_CMP_EQ" | "SCMP_CMP_GE" | "SCMP_CMP_GT" | "SCMP_CMP_MASKED_EQ";
const OPS: readonly OciOp[] = ["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"];

const ACTIONS = [
  "SCMP_ACT_KILL",
  "SCMP_ACT_KILL_PROCESS",
  "SCMP_ACT_KILL_THREAD",
  "SCMP_ACT_TRAP",
  "SCMP_ACT_ERRNO",
  "SCMP_ACT_TRACE",
  "SCMP_ACT_ALLOW",
  "SCMP_ACT_LOG",
  "SCMP_ACT_NOTIFY",
] as const;
type OciAction = (typeof ACTIONS)[number];

/** The names profiles use in `includes.arches` / `excludes.arches` (moby's `nativeToSeccomp` keys): ARCH_INFO's `profileArch`. */
const NATIVE_ARCH = (arch: Arch): string => ARCH_INFO[arch].profileArch;

interface KernelVersion {
  readonly major: number;
  readonly minor: number;
  readonly text: string;
}

interface Conditions {
  readonly arches?: readonly string[];
  readonly caps?: readonly string[];
  readonly minKernel?: KernelVersion;
}

interface OciArg {
  readonly index: number;
  readonly op: OciOp;
  readonly value: bigint;
  readonly valueTwo: bigint;
  readonly span: Span;
}

interface OciEntry {
  /** Position in `syscalls`, 0-based, as in `syscalls[17]`. */
  readonly pos: number;
  readonly names: readonly { readonly name: string; readonly span: Span }[];
  readonly action: OciAction;
  readonly errnoRet?: bigint;
  readonly args: readonly OciArg[];
  readonly comment?: string;
  readonly includes?: Conditions;
  readonly excludes?: Conditions;
  readonly span: Span;
}

interface OciProfile {
  readonly defaultAction: OciAction;
  readonly defaultErrnoRet?: bigint;
  readonly syscalls: readonly OciEntry[];
  readonly syscallsSpan?: Span;
  /** `architectures`, or the `archMap` entries as `architecture` → itself and its `subArchitectures`. */
  readonly architectures?: readonly string[];
  readonly archMap?: ReadonlyMap<string, readonly string[]>;
  readonly flags: readonly string[];
  readonly flagsSpan?: Span;
  readonly listenerSpan?: Span;
}

class Reader {
  readonly diagnostics: Diagnostic[] = [];
  constructor(readonly source: Source) {}

  at(j: { start: number; end: number }): Span {
    return span(this.source, j.start, j.end);
  }
  error(key: CodeKey, message: string, at: { start: number; end: number }, help?: string): void {
    this.diagnostics.push(diag(key, message, { span: this.at(at), ...(help ? { help } : {}) }));
  }

  /** The entries of an object, reporting unknown and repeated keys. */
  object(j: Json, what: string, known: readonly string[]): Map<string, JsonEntry> | undefined {
    if (j.t !== "object") {
      this.error("wrongType", `${what} must be an object`, j);
      return undefined;
    }
    const out = new Map<string, JsonEntry>();
    for (const e of j.entries) {
      const where = { start: e.keyStart, end: e.keyEnd };
      if (out.has(e.key)) {
        this.error("duplicateKey", `\`${e.key}\` appears twice in ${what}`, where, "JSON readers disagree on which one wins");
        continue;
      }
      if (!known.includes(e.key)) {
        const guess = closest(e.key, known);
        this.error("unknownKey", `unknown key \`${e.key}\` in ${what}`, where, guess ? `did you mean \`${guess}\`?` : `known keys: ${known.join(", ")}`);
        continue;
      }
      out.set(e.key, e);
    }
    return out;
  }

  string(j: Json, what: string): string | undefined {
    if (j.t === "string") return j.value;
    this.error("wrongType", `${what} must be a string`, j);
    return undefined;
  }

  strings(j: Json, what: string): { value: string; span: Span }[] | undefined {
    if (j.t === "null") return [];
    if (j.t !== "array") {
      this.error("wrongType", `${what} must be a list of strings`, j);
      return undefined;
    }
    const out: { value: string; span: Span }[] = [];
    let good = true;
    for (const item of j.items) {
      const s = this.string(item, `each of ${what}`);
      if (s === undefined) good = false;
      else out.push({ value: s, span: this.at(item) });
    }
    return good ? out : undefined;
  }

  /** A JSON integer in 0 … max. */
  uint(j: Json, what: string, max: bigint, tooLarge: CodeKey = "valueOutOfRange"): bigint | undefined {
    if (j.t !== "number" || !/^(?:0|[1-9]\d*)$/.test(j.text)) {
      this.error("wrongType", `${what} must be an unsigned integer`, j);
      return undefined;
    }
    const v = BigInt(j.text);
    if (v > max) {
      this.error(tooLarge, `${what} \`${j.text}\` is larger than ${max}`, j);
      return undefined;
    }
    return v;
  }

  action(j: Json, what: string): OciAction | undefined {
    const s = this.string(j, what);
    if (s === undefined) return undefined;
    if ((ACTIONS as readonly string[]).includes(s)) return s as OciAction;
    const guess = closest(s, ACTIONS);
    this.error("invalidValue", `\`${s}\` is not a seccomp action`, j, guess ? `did you mean \`${guess}\`?` : `actions: ${ACTIONS.join(", ")}`);
    return undefined;
  }

  kernel(j: Json, what: string): KernelVersion | undefined {
    const s = this.string(j, what);
    if (s === undefined) return undefined;
    const m = /^(\d{1,6})\.(\d{1,6})$/.exec(s);
    if (!m) {
      this.error("schemaViolation", `${what} \`${s}\` is not a kernel version such as \`5.4\``, j);
      return undefined;
    }
    return { major: Number(m[1]), minor: Number(m[2]), text: s };
  }

  conditions(j: Json, what: string): Conditions | undefined {
    if (j.t === "null") return {};
    const o = this.object(j, what, ["arches", "caps", "minKernel"]);
    if (!o) return undefined;
    const arches = o.has("arches") ? this.strings(o.get("arches")!.value, `${what}.arches`) : [];
    const caps = o.has("caps") ? this.strings(o.get("caps")!.value, `${what}.caps`) : [];
    const mk = o.get("minKernel");
    const minKernel = mk && mk.value.t !== "null" ? this.kernel(mk.value, `${what}.minKernel`) : undefined;
    if (!arches || !caps || (mk && mk.value.t !== "null" && !minKernel)) return undefined;
    return {
      ...(arches.length ? { arches: arches.map((a) => a.value) } : {}),
      ...(caps.length ? { caps: caps.map((c) => c.value) } : {}),
      ...(minKernel ? { minKernel } : {}),
    };
  }

  arg(j: Json, what: string): OciArg | undefined {
    const o = this.object(j, what, ["index", "value", "valueTwo", "op"]);
    if (!o) return undefined;
    for (const k of ["index", "value", "op"]) {
      if (!o.has(k)) {
        this.error("missingKey", `${what} has no \`${k}\``, j);
        return undefined;
      }
    }
    const indexJ = o.get("index")!.value;
    const index = this.uint(indexJ, `${what}.index`, 5n, "argIndexOutOfRange");
    const value = this.uint(o.get("value")!.value, `${what}.value`, U64);
    const valueTwo = o.has("valueTwo") ? this.uint(o.get("valueTwo")!.value, `${what}.valueTwo`, U64) : 0n;
    const opJ = o.get("op")!.value;
    const opS = this.string(opJ, `${what}.op`);
    let op: OciOp | undefined;
    if (opS !== undefined) {
      if ((OPS as readonly string[]).includes(opS)) op = opS as OciOp;
      else {
        const guess = closest(opS, OPS);
        this.error("invalidValue", `\`${opS}\` is not a seccomp comparison`, opJ, guess ? `did you mean \`${guess}\`?` : `comparisons: ${OPS.join(", ")}`);
      }
    }
    if (index === undefined || value === undefined || valueTwo === undefined || op === undefined) return undefined;
    return { index: Number(index), op, value, valueTwo, span: this.at(j) };
  }

  entry(j: Json, pos: number): OciEntry | undefined {
    const what = `syscalls[${pos}]`;
    const o = this.object(j, what, ["names", "name", "action", "errnoRet", "args", "comment", "includes", "excludes"]);
    if (!o) return undefined;
    let good = true;
    let names: { value: string; span: Span }[] | undefined;
    if (o.has("names") && o.has("name")) {
      this.error("conflictingKeys", `${what} has both \`names\` and \`name\``, j, "use `names`");
      good = false;
    } else if (o.has("name")) {
      const n = o.get("name")!.value;
      const s = this.string(n, `${what}.name`);
      names = s === undefined ? undefined : [{ value: s, span: this.at(n) }];
    } else if (o.has("names")) {
      names = this.strings(o.get("names")!.value, `${what}.names`);
      if (names && names.length === 0) {
        this.error("missingKey", `${what}.names is empty`, o.get("names")!.value, "the runtime spec requires at least one name");
        good = false;
      }
    } else {
      this.error("missingKey", `${what} has no \`names\``, j);
      good = false;
    }
    if (!o.has("action")) {
      this.error("missingKey", `${what} has no \`action\``, j);
      return undefined;
    }
    const actionJ = o.get("action")!.value;
    const action = this.action(actionJ, `${what}.action`);
    let errnoRet: bigint | undefined;
    const er = o.get("errnoRet");
    if (er && er.value.t !== "null") {
      errnoRet = this.uint(er.value, `${what}.errnoRet`, BigInt(MAX_ERRNO), "unknownErrno");
      if (errnoRet === undefined) good = false;
      else if (action && action !== "SCMP_ACT_ERRNO" && action !== "SCMP_ACT_TRACE") {
        this.error("conflictingKeys", `${what} sets \`errnoRet\` on \`${action}\`, which returns no errno`, er.value, "the runtime spec requires runtimes to refuse this");
        good = false;
      }
    }
    const args: OciArg[] = [];
    const argsJ = o.get("args")?.value;
    if (argsJ && argsJ.t !== "null") {
      if (argsJ.t !== "array") {
        this.error("wrongType", `${what}.args must be a list`, argsJ);
        good = false;
      } else {
        argsJ.items.forEach((a, k) => {
          const arg = this.arg(a, `${what}.args[${k}]`);
          if (arg) args.push(arg);
          else good = false;
        });
      }
    }
    const commentJ = o.get("comment")?.value;
    const comment = commentJ && commentJ.t !== "null" ? this.string(commentJ, `${what}.comment`) : undefined;
    if (commentJ && commentJ.t !== "null" && comment === undefined) good = false;
    const includes = o.has("includes") ? this.conditions(o.get("includes")!.value, `${what}.includes`) : {};
    const excludes = o.has("excludes") ? this.conditions(o.get("excludes")!.value, `${what}.excludes`) : {};
    if (!good || !names || !action || !includes || !excludes) return undefined;
    return {
      pos,
      names: names.map((n) => ({ name: n.value, span: n.span })),
      action,
      ...(errnoRet !== undefined ? { errnoRet } : {}),
      args,
      ...(comment !== undefined && comment !== "" ? { comment } : {}),
      ...(Object.keys(includes).length ? { includes } : {}),
      ...(Object.keys(excludes).length ? { excludes } : {}),
      span: this.at(j),
    };
  }

  profile(j: Json): OciProfile | undefined {
    const o = this.object(j, "the profile", ["defaultAction", "defaultErrnoRet", "architectures", "archMap", "syscalls", "flags", "listenerPath", "listenerMetadata"]);
    if (!o) return undefined;
    let good = true;
    if (!o.has("defaultAction")) {
      this.error("missingKey", "the profile has no `defaultAction`", j);
      return undefined;
    }
    const defaultAction = this.action(o.get("defaultAction")!.value, "`defaultAction`");
    let defaultErrnoRet: bigint | undefined;
    const der = o.get("defaultErrnoRet");
    if (der && der.value.t !== "null") {
      defaultErrnoRet = this.uint(der.value, "`defaultErrnoRet`", BigInt(MAX_ERRNO), "unknownErrno");
      if (defaultErrnoRet === undefined) good = false;
      else if (defaultAction && defaultAction !== "SCMP_ACT_ERRNO" && defaultAction !== "SCMP_ACT_TRACE") {
        this.error("conflictingKeys", `\`defaultErrnoRet\` is set but \`${defaultAction}\` returns no errno`, der.value, "the runtime spec requires runtimes to refuse this");
        good = false;
      }
    }
    if (o.has("architectures") && o.has("archMap")) {
      this.error("conflictingKeys", "the profile has both `architectures` and `archMap`", j, "Docker refuses this; use one of them");
      good = false;
    }
    let architectures: string[] | undefined;
    if (o.has("architectures") && o.get("architectures")!.value.t !== "null") {
      const a = this.strings(o.get("architectures")!.value, "`architectures`");
      if (!a) good = false;
      else architectures = a.map((x) => x.value);
    }
    const archMap = new Map<string, string[]>();
    const am = o.get("archMap")?.value;
    if (am && am.t !== "null") {
      if (am.t !== "array") {
        this.error("wrongType", "`archMap` must be a list", am);
        good = false;
      } else {
        am.items.forEach((item, k) => {
          const m = this.object(item, `archMap[${k}]`, ["architecture", "subArchitectures"]);
          if (!m) good = false;
          else {
            const arch = m.has("architecture") ? this.string(m.get("architecture")!.value, `archMap[${k}].architecture`) : undefined;
            if (m.has("architecture") && arch === undefined) good = false;
            const sub = m.has("subArchitectures") ? this.strings(m.get("subArchitectures")!.value, `archMap[${k}].subArchitectures`) : [];
            if (!sub) good = false;
            if (arch !== undefined && sub) archMap.set(arch, [arch, ...sub.map((x) => x.value)]);
          }
        });
      }
    }
    let flags: { value: string; span: Span }[] = [];
    if (o.has("flags")) {
      const f = this.strings(o.get("flags")!.value, "`flags`");
      if (f) flags = f;
      else good = false;
    }
    for (const k of ["listenerPath", "listenerMetadata"]) {
      const v = o.get(k)?.value;
      if (v && v.t !== "null" && this.string(v, `\`${k}\``) === undefined) good = false;
    }
    const entries: OciEntry[] = [];
    const sj = o.get("syscalls")?.value;
    if (sj && sj.t !== "null") {
      if (sj.t !== "array") {
        this.error("wrongType", "`syscalls` must be a list", sj);
        good = false;
      } else {
        sj.items.forEach((item, pos) => {
          const e = this.entry(item, pos);
          if (e) entries.push(e);
          else good = false;
        });
      }
    }
    if (!good || !defaultAction) return undefined;
    const listener = o.get("listenerPath")?.value;
    return {
      defaultAction,
      ...(defaultErrnoRet !== undefined ? { defaultErrnoRet } : {}),
      ...(architectures ? { architectures } : {}),
      ...(archMap.size ? { archMap } : {}),
      syscalls: entries,
      ...(o.has("syscalls") ? { syscallsSpan: span(this.source, o.get("syscalls")!.keyStart, o.get("syscalls")!.keyEnd) } : {}),
      flags: flags.map((f) => f.value),
      ...(o.has("flags") ? { flagsSpan: this.at(o.get("flags")!.value) } : {}),
      ...(listener && listener.t === "string" ? { listenerSpan: this.at(listener) } : {}),
    };
  }
}

// ---- semantics ---------------------------------------------------------------------------------------------

/** runc's and crun's identity of an action: SCMP_ACT_KILL is KILL_THREAD; ERRNO and TRACE default to EPERM. */
function actionKey(action: OciAction, errnoRet: bigint | undefined): string {
  const a = action === "SCMP_ACT_KILL" ? "SCMP_ACT_KILL_THREAD" : action;
  return a === "SCMP_ACT_ERRNO" || a === "SCMP_ACT_TRACE" ? `${a}(${errnoRet ?? BigInt(EPERM)})` : a;
}

function toSbcAction(action: OciAction, errnoRet: bigint | undefined): Action {
  switch (action) {
    case "SCMP_ACT_ALLOW":
      return { type: "allow" };
    case "SCMP_ACT_LOG":
      return { type: "log" };
    case "SCMP_ACT_NOTIFY":
      return { type: "user-notif" };
    case "SCMP_ACT_TRAP":
      return { type: "trap" };
    case "SCMP_ACT_KILL":
    case "SCMP_ACT_KILL_THREAD":
      return { type: "kill-thread" };
    case "SCMP_ACT_KILL_PROCESS":
      return { type: "kill-process" };
    case "SCMP_ACT_ERRNO":
      return { type: "errno", errno: Number(errnoRet ?? BigInt(EPERM)) };
    case "SCMP_ACT_TRACE":
      // runc passes errnoRet to libseccomp as the trace data (ActTrace.SetReturnCode), EPERM when absent.
      return { type: "trace", data: Number(errnoRet ?? BigInt(EPERM)) };
  }
}

/** A comparison as libseccomp applies it: masked values reduced to the mask's bits. */
interface Cond {
  readonly arg: number;
  readonly op: "==" | "!=" | "<" | "<=" | ">" | ">=" | "&==";
  readonly value: bigint;
  readonly mask?: bigint;
}

const OP_SYMBOL: Readonly<Record<Exclude<OciOp, "SCMP_CMP_MASKED_EQ">, Cond["op"]>> = {
  SCMP_CMP_EQ: "==",
  SCMP_CMP_NE: "!=",
  SCMP_CMP_LT: "<",
  SCMP_CMP_LE: "<=",
  SCMP_CMP_GT: ">",
  SCMP_CMP_GE: ">=",
};

/** The comparison libseccomp makes, or null when it makes none (a MASKED_EQ with mask 0). */
function toCond(a: OciArg): Cond | null {
  if (a.op !== "SCMP_CMP_MASKED_EQ") return { arg: a.index, op: OP_SYMBOL[a.op], value: a.value };
  if (a.value === 0n) return null;
  return { arg: a.index, op: "&==", mask: a.value, value: a.valueTwo & a.value };
}

/** The smallest x' >= x with (x' & m) == v (v within m), if any. */
function nextWithBits(x: bigint, m: bigint, v: bigint): bigint | undefined {
  if ((x & m) === v) return x;
  for (let i = 0n; i < 64n; i++) {
    const bit = 1n << i;
    if (x & bit || (m & bit && !(v & bit))) continue;
    const high = U64 ^ ((bit << 1n) - 1n);
    if ((x & m & high) !== (v & high)) continue;
    return (x & high) | bit | (v & (bit - 1n));
  }
  return undefined;
}

/** Whether some call satisfies every condition (used to find rules of different actions that overlap). */
function satisfiable(conds: readonly Cond[]): boolean {
  for (let arg = 0; arg < 6; arg++) {
    let lo = 0n;
    let hi = U64;
    let m = 0n;
    let v = 0n;
    const ne: bigint[] = [];
    for (const c of conds) {
      if (c.arg !== arg) continue;
      switch (c.op) {
        case "==":
          lo = lo > c.value ? lo : c.value;
          hi = hi < c.value ? hi : c.value;
          break;
        case "!=":
          ne.push(c.value);
          break;
        case "<":
          if (c.value === 0n) return false;
          hi = hi < c.value - 1n ? hi : c.value - 1n;
          break;
        case "<=":
          hi = hi < c.value ? hi : c.value;
          break;
        case ">":
          if (c.value === U64) return false;
          lo = lo > c.value + 1n ? lo : c.value + 1n;
          break;
        case ">=":
          lo = lo > c.value ? lo : c.value;
          break;
        case "&==":
          if ((v ^ c.value) & m & c.mask!) return false;
          m |= c.mask!;
          v |= c.value;
          break;
      }
    }
    let x = lo;
    let found = false;
    for (let k = 0; k <= ne.length && !found; k++) {
      const a = nextWithBits(x, m, v);
      if (a === undefined || a > hi) return false;
      if (!ne.includes(a)) found = true;
      else if (a === U64) return false;
      else x = a + 1n;
    }
    if (!found) return false;
  }
  return true;
}

function kernelAtLeast(host: KernelVersion | undefined, min: KernelVersion): boolean {
  if (!host) return true;
  return host.major > min.major || (host.major === min.major && host.minor >= min.minor);
}

type DropReason = "arch" | "caps" | "kernel";

/** Docker's filter (moby/profiles seccomp_linux.go `setupSeccomp`): why an entry is left out, or null. */
function dropReason(e: OciEntry, arch: string, caps: ReadonlySet<string>, kernel: KernelVersion | undefined): { reason: DropReason; detail: string } | null {
  const ex = e.excludes;
  if (ex?.arches?.includes(arch)) return { reason: "arch", detail: `excludes.arches lists ${arch}` };
  const exCap = ex?.caps?.find((c) => caps.has(c));
  if (exCap !== undefined) return { reason: "caps", detail: `excludes.caps lists ${word(exCap)}, which the container has` };
  if (ex?.minKernel && kernelAtLeast(kernel, ex.minKernel)) return { reason: "kernel", detail: `excludes.minKernel is ${ex.minKernel.text}` };
  const inc = e.includes;
  if (inc?.arches && !inc.arches.includes(arch)) return { reason: "arch", detail: `includes.arches does not list ${arch}` };
  const missing = inc?.caps?.filter((c) => !caps.has(c)) ?? [];
  if (missing.length) return { reason: "caps", detail: `needs ${missing.map(word).join(", ")}` };
  if (inc?.minKernel && !kernelAtLeast(kernel, inc.minKernel)) return { reason: "kernel", detail: `needs kernel ${inc.minKernel.text}` };
  return null;
}

// ---- YAML output ---------------------------------------------------------------------------------------------

/** A word from the profile shown in a comment or message: bare when harmless, quoted and escaped otherwise. */
function word(s: string): string {
  return /^[A-Za-z0-9_.+-]+$/.test(s) ? s : yamlString(s);
}

/** A YAML double-quoted scalar that any YAML 1.2 reader reads back as `s`. */
function yamlString(s: string): string {
  let out = '"';
  for (let k = 0; k < s.length; k++) {
    const ch = s[k]!;
    const c = ch.charCodeAt(0);
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029 || c === 0xfeff) out += "\\u" + c.toString(16).padStart(4, "0");
    else if (c >= 0xd800 && c <= 0xdbff && k + 1 < s.length && s.charCodeAt(k + 1) >= 0xdc00 && s.charCodeAt(k + 1) <= 0xdfff) {
      out += ch + s[k + 1];
      k++;
    } else if (c >= 0xd800 && c <= 0xdfff) out += "\\ufffd";
    else out += ch;
  }
  return out + '"';
}

function condText(c: Cond): string {
  return c.op === "&==" ? `arg${c.arg} & ${hex(c.mask!)} == ${hex(c.value)}` : `arg${c.arg} ${c.op} ${hex(c.value)}`;
}

function actionYaml(a: Action): string {
  if (a.type === "trace") return a.data === 0 ? "trace" : `{ trace: ${a.data} }`;
  if (a.type !== "errno") return a.type;
  const name = errnoName(a.errno);
  return `{ errno: ${name ?? a.errno} }`;
}

const WIDTH = 110;

/** `words` joined by `sep`, wrapped at WIDTH columns: the first line starts at column `first`, the others with `indent`. */
function wrap(words: readonly string[], first: number, indent: string, sep = ", "): string[] {
  const lines: string[] = [];
  const joiner = sep.trimEnd();
  let line = "";
  let startCol = first;
  words.forEach((w, k) => {
    const piece = w + (k < words.length - 1 ? joiner : "");
    if (line === "") line = piece;
    else if (startCol + line.length + 1 + piece.length > WIDTH) {
      lines.push(line);
      line = piece;
      startCol = indent.length;
    } else line += " " + piece;
  });
  lines.push(line);
  return lines.map((l, k) => (k === 0 ? l : indent + l));
}

function comment(indent: string, text: string): string[] {
  const words = text.split(" ");
  return wrap(words, indent.length + 2, indent + "# ", " ").map((l, k) => (k === 0 ? indent + "# " + l : l));
}

function policyName(path: string): string {
  const base = path.split(/[\\/]/).pop() ?? "";
  const stem = base.replace(/\.json$/i, "");
  const cleaned = stem.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 64);
  return cleaned || "imported-oci-seccomp";
}

// ---- the import ------------------------------------------------------------------------------------------------

/** One rule as libseccomp receives it: an entry, or one condition of an entry that runc splits. */
interface Piece {
  readonly entry: OciEntry;
  readonly key: string;
  readonly action: Action;
  readonly conds: readonly Cond[];
  /** Syscalls this piece keeps (known names, not dropped because of another rule). */
  readonly names: string[];
}

export function importOciSeccomp(json: string, options: OciImportOptions): OciImportResult {
  const text = json.charCodeAt(0) === 0xfeff ? json.slice(1) : json;
  const source = new Source(options.path, text);
  let root: Json;
  try {
    root = parseJson(text);
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    return { diagnostics: [diag(IMPORT_CODES.syntax, `the profile is not valid JSON: ${e.message}`, { span: span(source, e.offset, e.offset + 1) })] };
  }
  const reader = new Reader(source);
  const profile = reader.profile(root);
  const diagnostics = reader.diagnostics;
  if (!profile || diagnostics.some((d) => d.severity === "error")) return { diagnostics: sortDiagnostics(diagnostics) };

  const arch = options.arch ?? "x86_64";
  const nativeArch = NATIVE_ARCH(arch);
  const caps = new Set(options.caps ?? []);
  let kernel: KernelVersion | undefined;
  if (options.minKernel !== undefined) {
    const m = /^(\d{1,6})\.(\d{1,6})/.exec(options.minKernel);
    if (!m) {
      diagnostics.push(diag("schemaViolation", `the kernel version \`${options.minKernel}\` is not of the form \`5.4\``));
      return { diagnostics: sortDiagnostics(diagnostics) };
    }
    kernel = { major: Number(m[1]), minor: Number(m[2]), text: `${m[1]}.${m[2]}` };
  }
  const warn = (key: CodeKey, message: string, o: DiagnosticOptions = {}) => diagnostics.push(diag(key, message, { ...o, severity: "warning" }));
  const assumptions = `${arch} with ${caps.size ? [...caps].sort().map(word).join(", ") : "no capabilities"}${kernel ? ` on kernel ${kernel.text}` : ""}`;

  const defaultKey = actionKey(profile.defaultAction, profile.defaultErrnoRet);
  const defaultAction = toSbcAction(profile.defaultAction, profile.defaultErrnoRet);
  if (profile.flags.length) {
    warn(IMPORT_CODES.interpreted, `the filter flags ${profile.flags.map((f) => `\`${f}\``).join(", ")} are not imported`, {
      ...(profile.flagsSpan ? { span: profile.flagsSpan } : {}),
      help: "flags change logging and speculation mitigations, not which calls are allowed",
    });
  }

  // Per entry: kept or dropped, comments for the YAML, and the pieces libseccomp receives.
  const notes = new Map<number, string[]>();
  const note = (pos: number, s: string) => notes.set(pos, [...(notes.get(pos) ?? []), s]);
  const dropped: { entry: OciEntry; reason: DropReason; detail: string }[] = [];
  const unknown = new Map<string, Span>();
  const pieces: Piece[] = [];
  /** The highest number on `arch` that an entry runc receives names (runc counts skipped entries too). */
  let runcHighest = { nr: -1, pos: -1 };
  for (const e of profile.syscalls) {
    const why = dropReason(e, nativeArch, caps, kernel);
    if (why) {
      dropped.push({ entry: e, ...why });
      note(e.pos, `syscalls[${e.pos}]: left out, ${why.detail}`);
      continue;
    }
    if (e.includes || e.excludes) note(e.pos, `syscalls[${e.pos}]: conditional (${describeConditions(e)}); applies to ${assumptions}`);
    for (const n of e.names) {
      const nr = syscallNumber(arch, n.name);
      if (nr !== undefined && nr > runcHighest.nr) runcHighest = { nr, pos: e.pos };
    }
    const key = actionKey(e.action, e.errnoRet);
    if (key === defaultKey) {
      note(e.pos, `syscalls[${e.pos}]: left out, its action is the default action and runc and crun skip such entries`);
      continue;
    }
    const seen = new Set<string>();
    const known: string[] = [];
    const unknownHere: string[] = [];
    for (const n of e.names) {
      if (seen.has(n.name)) continue;
      seen.add(n.name);
      if (isKnownSyscall(n.name)) known.push(n.name);
      else {
        unknownHere.push(n.name);
        if (!unknown.has(n.name)) unknown.set(n.name, n.span);
      }
    }
    if (unknownHere.length) note(e.pos, `syscalls[${e.pos}]: not imported, unknown to sbc on every supported architecture: ${unknownHere.map(word).join(", ")}`);
    for (const a of e.args) {
      if (a.op === "SCMP_CMP_MASKED_EQ" && (a.valueTwo & ~a.value & U64) !== 0n) {
        warn(IMPORT_CODES.interpreted, `in syscalls[${e.pos}], \`valueTwo\` ${hex(a.valueTwo)} has bits outside the mask ${hex(a.value)}; libseccomp ignores them, and so does this import`, {
          span: a.span,
        });
      }
    }
    // libseccomp compares all 64 bits of an argument; sbc, like the kernel, the bits of its declared type. For a
    // value that fits those bits the two differ only on calls that set bits the kernel drops — calls it runs
    // exactly as without them — and sbc's answer is the one the kernel's reading gives (narrower than the
    // profile where it let such a call through an `!=` or a range). A value beyond them is kept as written:
    // it cannot mean anything to the kernel, and sbc refuses it (SBC0830) until someone says what was meant.
    for (const a of e.args) {
      const c = toCond(a);
      if (!c) continue;
      const cond = { arg: c.arg, op: c.op, value: hex(c.value), ...(c.mask !== undefined ? { mask: hex(c.mask) } : {}) };
      const narrow = known.filter((n) => narrowCondition(cond, argBits("x86_64", n, c.arg)).highOnly);
      if (!narrow.length) continue;
      const decl = argDeclaration("x86_64", narrow[0]!, c.arg);
      warn(
        IMPORT_CODES.interpreted,
        `in syscalls[${e.pos}], ${hex(c.value)} does not fit arg${c.arg} of ${narrow.map((n) => `\`${n}\``).join(", ")}${decl ? ` (\`${decl}\`)` : ""}, of which the kernel reads ${argBits("x86_64", narrow[0]!, c.arg)} bits; kept as written, and sbc refuses it (SBC0830)`,
        { span: a.span, help: "libseccomp matched it only when a caller set bits the kernel drops; rewrite it on the low bits, or remove it" },
      );
      note(e.pos, `syscalls[${e.pos}]: compares arg${c.arg} with a value wider than the kernel reads; kept as written (SBC0830)`);
    }
    const action = toSbcAction(e.action, e.errnoRet);
    const counts = new Map<number, number>();
    for (const a of e.args) counts.set(a.index, (counts.get(a.index) ?? 0) + 1);
    const split = [...counts.values()].some((n) => n > 1);
    if (split) {
      const arg = [...counts.entries()].find(([, n]) => n > 1)![0];
      warn(IMPORT_CODES.interpreted, `syscalls[${e.pos}] compares arg${arg} more than once; runc and crun make each comparison a rule of its own (OR), and so does this import`, {
        span: e.span,
        help: "libseccomp cannot AND two comparisons of one argument; if AND was meant, the profile does not say what it means",
      });
      note(e.pos, `syscalls[${e.pos}]: compares one argument twice, so runc and crun split it into one rule per condition (OR)`);
      for (const a of e.args) {
        const c = toCond(a);
        pieces.push({ entry: e, key, action, conds: c ? [c] : [], names: [...known] });
      }
    } else {
      const conds = e.args.map(toCond).filter((c): c is Cond => c !== null);
      pieces.push({ entry: e, key, action, conds, names: [...known] });
    }
  }

  // libseccomp: the first unconditional rule of a syscall decides it; rules of other actions are dropped.
  const bySyscall = new Map<string, Piece[]>();
  for (const p of pieces) for (const n of p.names) bySyscall.set(n, [...(bySyscall.get(n) ?? []), p]);
  const ambiguous = new Map<string, { a: Piece; b: Piece; names: string[] }>();
  for (const [name, ps] of bySyscall) {
    const first = ps.find((p) => p.conds.length === 0);
    if (first) {
      for (const p of ps) {
        if (p === first || p.key === first.key) continue;
        p.names.splice(p.names.indexOf(name), 1);
        note(p.entry.pos, `syscalls[${p.entry.pos}]: \`${name}\` left out, syscalls[${first.entry.pos}] names it without conditions and libseccomp then ignores every other rule for it`);
      }
      continue;
    }
    for (let x = 0; x < ps.length; x++) {
      for (let y = x + 1; y < ps.length; y++) {
        const a = ps[x]!;
        const b = ps[y]!;
        if (a.key === b.key || a.entry === b.entry || !satisfiable([...a.conds, ...b.conds])) continue;
        const k = `${a.entry.pos}/${b.entry.pos}`;
        const cur = ambiguous.get(k) ?? { a, b, names: [] };
        if (!cur.names.includes(name)) cur.names.push(name);
        ambiguous.set(k, cur);
      }
    }
  }
  for (const { a, b, names } of [...ambiguous.values()].sort((p, q) => p.a.entry.pos - q.a.entry.pos || p.b.entry.pos - q.b.entry.pos)) {
    warn(
      IMPORT_CODES.interpreted,
      `syscalls[${a.entry.pos}] and syscalls[${b.entry.pos}] can both match ${names.map((n) => `\`${n}\``).join(", ")} with different actions; sbc applies its own precedence, the stricter action (between two errno values, the later entry)`,
      {
        span: b.entry.span,
        labels: [{ span: a.entry.span, message: "overlaps this entry" }],
        help: "libseccomp resolves such overlaps by the shape of its decision tree, not by action, or refuses to load the filter",
      },
    );
  }

  if (dropped.length) {
    const count = (r: DropReason) => dropped.filter((d) => d.reason === r).length;
    const parts = [
      count("arch") ? `${count("arch")} for other architectures` : "",
      count("caps") ? `${count("caps")} for other capabilities` : "",
      count("kernel") ? `${count("kernel")} for other kernels` : "",
    ].filter(Boolean);
    const wanted = [...new Set(dropped.flatMap((d) => d.entry.includes?.caps ?? []))].filter((c) => !caps.has(c)).sort();
    warn(IMPORT_CODES.droppedEntries, `${dropped.length} of ${profile.syscalls.length} entries do not apply to ${assumptions} and were left out (${parts.join(", ")})`, {
      ...(profile.syscallsSpan ? { span: profile.syscallsSpan } : {}),
      help: wanted.length
        ? `import with the container's capabilities and architecture; granting ${wanted.map(word).join(", ")} would add entries`
        : "import with the container's capabilities, architecture and kernel",
    });
  }
  const stub =
    !["SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"].includes(profile.defaultAction) && !(profile.defaultAction === "SCMP_ACT_ERRNO" && profile.defaultErrnoRet === BigInt(ENOSYS));
  if (unknown.size) {
    const names = [...unknown.keys()];
    warn(IMPORT_CODES.unknownSyscall, `${names.length} syscall ${names.length === 1 ? "name is" : "names are"} unknown to sbc and left out: ${names.map((n) => `\`${n}\``).join(", ")}`, {
      span: unknown.get(names[0]!)!,
      help: stub
        ? "they are 32-bit-only calls or newer than sbc's syscall tables; the policy gives them its default action, or ENOSYS where their numbers are newer than the policy (runc's stub)"
        : "they are 32-bit-only calls or newer than sbc's syscall tables; the policy gives them its default action",
    });
  }

  // ---- write the YAML ----
  const lines: string[] = [];
  const base = options.path.split(/[\\/]/).pop() ?? options.path;
  lines.push(...comment("", `Imported by sbc from the OCI seccomp profile ${word(base)} for ${assumptions}.`));
  lines.push(...comment("", "Only the syscall filter is imported; the profile's architectures and flags are not."));
  lines.push(...comment("", "A seccomp profile restricts syscalls only, so files and the network are left open here: extend this"));
  lines.push(...comment("", "policy, or narrow those sections, to fence them too."));
  lines.push("sbc: 1");
  lines.push(`name: ${policyName(options.path)}`);
  lines.push(`description: ${yamlString(`Syscall filter imported from the OCI seccomp profile ${base} (${assumptions})`)}`);
  lines.push("filesystem:");
  lines.push("  - allow: read-write");
  lines.push("    path: /");
  lines.push("    reason: the profile does not restrict files");
  lines.push("network: on");
  lines.push("syscalls:");
  lines.push(`  default: ${actionYaml(defaultAction)}`);
  const ruleLines: string[] = [];
  // runc's -ENOSYS stub (patchbpf/enosys_linux.go): unless the default is allow, log, trace or ENOSYS, the
  // numbers above the highest call the profile names on the arch fail with ENOSYS. That is `newer`, whose
  // threshold is the highest call the policy's rules name, so the entries runc counts but skips (those with
  // the default action) are represented by a numbered rule with the default action where they name the
  // highest call. On aarch64 the stub's `jgt` catches -1 too; on x86_64 it skips numbers with bit 30 set
  // (x32, and -1), except when the profile also filters SCMP_ARCH_X32, whose own `jgt` catches -1.
  const stubRules: string[] = [];
  if (stub && runcHighest.nr >= 0) {
    lines.push(`  newer: { errno: ENOSYS }`);
    const policyHighest = Math.max(-1, ...pieces.flatMap((p) => p.names.map((n) => syscallNumber(arch, n) ?? -1)));
    if (runcHighest.nr > policyHighest) {
      stubRules.push(
        ...comment("    ", `runc's ENOSYS stub starts above ${syscallName(arch, runcHighest.nr)} (${runcHighest.nr}), which syscalls[${runcHighest.pos}] names with the default action`),
        `    - syscalls: [${arch}:${runcHighest.nr}]`,
        `      action: ${actionYaml(defaultAction)}`,
        `      reason: ${yamlString(`where runc's ENOSYS stub starts: the highest call the profile names on ${arch}`)}`,
      );
    }
    const runtimeArches = profile.architectures ?? profile.archMap?.get(arch === "x86_64" ? "SCMP_ARCH_X86_64" : "SCMP_ARCH_AARCH64") ?? [];
    if (arch === "aarch64" || runtimeArches.includes("SCMP_ARCH_X32")) {
      stubRules.push(
        `    - syscalls: [${arch}:-1]`,
        `      action: { errno: ENOSYS }`,
        `      reason: ${yamlString(arch === "aarch64" ? "runc's ENOSYS stub catches -1 (a tracer's skip) as a number above every call" : "runc's ENOSYS stub for SCMP_ARCH_X32 catches -1 (a tracer's skip) as a number above every x32 call")}`,
      );
    }
  }
  const emitted = new Set<number>();
  const piecesByEntry = new Map<number, Piece[]>();
  for (const p of pieces) piecesByEntry.set(p.entry.pos, [...(piecesByEntry.get(p.entry.pos) ?? []), p]);
  for (const e of profile.syscalls) {
    for (const n of notes.get(e.pos) ?? []) ruleLines.push(...comment("    ", n));
    for (const p of piecesByEntry.get(e.pos) ?? []) {
      if (!p.names.length) {
        if (!emitted.has(e.pos)) ruleLines.push(...comment("    ", `syscalls[${e.pos}]: no syscall left to import`));
        emitted.add(e.pos);
        continue;
      }
      emitted.add(e.pos);
      const head = "    - syscalls: [";
      const names = wrap(p.names, head.length, "        ");
      names[names.length - 1] += "]";
      ruleLines.push(head + names[0]!, ...names.slice(1));
      ruleLines.push(`      action: ${actionYaml(p.action)}`);
      if (p.conds.length) ruleLines.push(`      args: [${p.conds.map((c) => `"${condText(c)}"`).join(", ")}]`);
      if (e.comment !== undefined) ruleLines.push(`      reason: ${yamlString(e.comment)}`);
    }
  }
  ruleLines.push(...stubRules);
  if (ruleLines.some((l) => l.startsWith("    -"))) lines.push("  rules:", ...ruleLines);
  else lines.push("  rules: []", ...ruleLines);
  return { yaml: lines.join("\n") + "\n", diagnostics: sortDiagnostics(diagnostics) };
}

function describeConditions(e: OciEntry): string {
  const part = (label: string, c: Conditions | undefined): string[] =>
    c
      ? [
          ...(c.arches ? [`${label}.arches ${c.arches.map(word).join(", ")}`] : []),
          ...(c.caps ? [`${label}.caps ${c.caps.map(word).join(", ")}`] : []),
          ...(c.minKernel ? [`${label}.minKernel ${c.minKernel.text}`] : []),
        ]
      : [];
  return [...part("includes", e.includes), ...part("excludes", e.excludes)].join("; ");
}
