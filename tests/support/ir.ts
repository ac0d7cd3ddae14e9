// Building IRs directly, for tests of the reference evaluator that should not depend on the YAML front end.

import { IR_VERSION, type Action, type CommandRule, type Decision, type Effect, type FsRule, type IR, type NetRule, type SyscallRule } from "../../compiler/ir/types.js";

export interface IrParts {
  readonly filesystem?: readonly FsRule[];
  readonly netRules?: readonly NetRule[];
  readonly unix?: Effect;
  readonly syscallRules?: readonly SyscallRule[];
  readonly defaultAction?: Action;
  readonly commandRules?: readonly CommandRule[];
  readonly defaultDecision?: Decision;
}

/** A bound IR (no params) with the given rules and defaults. */
export function makeIr(parts: IrParts = {}): IR {
  return {
    irVersion: IR_VERSION,
    name: "test",
    params: [],
    filesystem: parts.filesystem ?? [],
    network: { unix: parts.unix ?? "deny", rules: parts.netRules ?? [] },
    syscalls: { defaultAction: parts.defaultAction ?? { type: "allow" }, rules: parts.syscallRules ?? [] },
    commands: { defaultDecision: parts.defaultDecision ?? "prompt", rules: parts.commandRules ?? [] },
    tests: [],
  };
}
