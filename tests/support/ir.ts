// Building IRs directly, for tests of the reference evaluator that should not depend on the YAML front end.

import { IR_VERSION, type Action, type CommandRule, type Decision, type Effect, type FsRule, type IR, type NetRule, type SyscallRule, type UnixSockets } from "../../ir/types.js";

export interface IrParts {
  readonly filesystem?: readonly FsRule[];
  readonly netRules?: readonly NetRule[];
  /** A word as `unix: allow|deny` means it (pairs, abstract names and every path), or the unix section itself. */
  readonly unix?: Effect | UnixSockets;
  readonly syscallRules?: readonly SyscallRule[];
  readonly defaultAction?: Action;
  readonly commandRules?: readonly CommandRule[];
  readonly defaultDecision?: Decision;
}

/** The unix section `unix: allow|deny` gives (layer 0). */
export function unixWord(e: Effect): UnixSockets {
  return { pairs: e, abstract: e, paths: e === "allow" ? [{ effect: "allow", ops: ["bind", "connect"], path: "/", layer: 0 }] : [] };
}

/** A bound IR (no params) with the given rules and defaults. */
export function makeIr(parts: IrParts = {}): IR {
  const unix = parts.unix ?? "deny";
  return {
    irVersion: IR_VERSION,
    name: "test",
    params: [],
    filesystem: parts.filesystem ?? [],
    network: { unix: typeof unix === "string" ? unixWord(unix) : unix, rules: parts.netRules ?? [] },
    syscalls: { defaultAction: parts.defaultAction ?? { type: "allow" }, rules: parts.syscallRules ?? [] },
    commands: { defaultDecision: parts.defaultDecision ?? "prompt", rules: parts.commandRules ?? [] },
    linux: { namespaces: "auto" },
    tests: [],
  };
}
