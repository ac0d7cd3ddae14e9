#!/usr/bin/python3
# Build the libseccomp filter for one benchmark input, as a baseline for sbc's (bench/seccomp.ts runs this).
# Runs under Debian's /usr/bin/python3 with python3-seccomp (libseccomp 2.5.4): the point is to measure the
# library as a distribution ships it, not a build of our own.
#
#   libseccomp-gen.py RULES_JSON OUT_BPF --optimize 1|2
#
# RULES_JSON is the `syscalls` section of the sbc IR, with the x86_64 number of every syscall added by the
# caller (sbc's tables are the authority on names; libseccomp 2.5.4's own table may lack newer names):
#
#   {"defaultAction": {"type": "errno", "errno": 1}, "foreignArchAction": {"type": "kill-process"},
#    "rules": [{"syscalls": [{"name": "socket", "nr": 41}], "action": {...},
#               "conditions": [{"arg": 0, "op": "!=", "value": "0x1"}]}]}
#
# Precedence. Rules are added in order with libseccomp's own rules for overlaps (an unconditional rule on a
# syscall absorbs its conditional ones; overlapping conditional rules resolve by libseccomp's decision tree).
# A rule whose action equals the default is skipped, as libseccomp refuses it (-EACCES). The caller checks
# afterwards that both filters give the same verdicts; this script does not try to emulate sbc's precedence.
#
# The filter is x86_64 only (the reference baselines, shared/reference/seccomp-generators.md, measured the
# same). Its bad-arch action is the IR's `foreignArchAction` (KILL_PROCESS when absent), so that foreign
# arches and x32 numbers get what sbc gives them. The BPF written is exactly what `seccomp_load` would hand to the kernel.

import json
import sys

import seccomp

OPS = {
    "==": seccomp.EQ,
    "!=": seccomp.NE,
    "<": seccomp.LT,
    "<=": seccomp.LE,
    ">": seccomp.GT,
    ">=": seccomp.GE,
}


def action(a):
    kind = a["type"]
    if kind == "allow":
        return seccomp.ALLOW
    if kind == "log":
        return seccomp.LOG
    if kind == "errno":
        return seccomp.ERRNO(a["errno"])
    if kind == "trap":
        return seccomp.TRAP
    if kind == "user-notif":
        return seccomp.NOTIFY
    if kind == "kill-thread":
        return seccomp.KILL
    if kind == "kill-process":
        return seccomp.KILL_PROCESS
    raise SystemExit(f"libseccomp-gen: unknown action `{kind}`")


def condition(c):
    value = int(c["value"], 16)
    if c["op"] == "&==":
        return seccomp.Arg(c["arg"], seccomp.MASKED_EQ, int(c["mask"], 16), value)
    if c["op"] not in OPS:
        raise SystemExit(f"libseccomp-gen: unknown operator `{c['op']}`")
    return seccomp.Arg(c["arg"], OPS[c["op"]], value)


def build(rules, optimize):
    default = action(rules["defaultAction"])
    f = seccomp.SyscallFilter(defaction=default)
    if not f.exist_arch(seccomp.Arch.X86_64):
        f.add_arch(seccomp.Arch.X86_64)
        f.remove_arch(seccomp.Arch.NATIVE)
    f.set_attr(seccomp.Attr.ACT_BADARCH, action(rules.get("foreignArchAction", {"type": "kill-process"})))
    f.set_attr(seccomp.Attr.CTL_OPTIMIZE, optimize)
    skipped = 0
    for n, rule in enumerate(rules["rules"]):
        act = action(rule["action"])
        if act == default:
            skipped += 1
            continue
        args = [condition(c) for c in rule["conditions"]]
        for sc in rule["syscalls"]:
            try:
                f.add_rule_exactly(act, sc["nr"], *args)
            except Exception as e:  # the bindings raise RuntimeError/ValueError with the errno's text
                raise SystemExit(f"libseccomp-gen: rule {n} on `{sc['name']}` ({sc['nr']}): {e}")
    return f, skipped


def main(argv):
    if len(argv) != 5 or argv[3] != "--optimize" or argv[4] not in ("1", "2"):
        print("usage: libseccomp-gen.py RULES_JSON OUT_BPF --optimize 1|2", file=sys.stderr)
        return 2
    with open(argv[1]) as fh:
        rules = json.load(fh)
    f, skipped = build(rules, int(argv[4]))
    with open(argv[2], "wb") as out:
        f.export_bpf(out)
    print(json.dumps({"api": seccomp.get_api(), "skippedDefaultRules": skipped}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
