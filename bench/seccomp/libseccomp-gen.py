#!/usr/bin/python3
# Build the libseccomp filter for one benchmark input, as a baseline for sbc's (bench/seccomp.ts runs this).
# Runs under Debian's /usr/bin/python3 with python3-seccomp (libseccomp 2.5.4): the point is to measure the
# library as a distribution ships it, not a build of our own.
#
#   libseccomp-gen.py RULES_JSON OUT_BPF --optimize 1|2
#   libseccomp-gen.py --profile PROFILE_JSON TARGET_JSON OUT_BPF --optimize 1|2
#
# The second form builds what Docker builds from an OCI profile, without sbc's importer (see `profile` below).
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
# The first form's filter is x86_64 only (the reference baselines, shared/reference/seccomp-generators.md, measured the
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


# ---- an OCI profile, the way moby and runc read it ----------------------------------------------------------
#
# TARGET_JSON names the container and the arches of the filter:
#
#   {"caps": ["CAP_CHOWN", ...], "profileArch": "amd64",
#    "arches": [{"scmp": "SCMP_ARCH_X86_64", "numbers": {"read": 0, ...}}, ...]}
#
# Which entries apply is moby's profiles/seccomp/seccomp_linux.go (setupSeccomp): an entry is skipped when
# `excludes.arches` lists the native arch `profileArch`, `excludes.caps` lists a capability the container has, or
# the kernel is at least `excludes.minKernel`; and when `includes.arches` does not list the native arch,
# `includes.caps` names one the container lacks, or the kernel is older than `includes.minKernel`. The kernel is
# taken to be newer than every `minKernel` (Linux 7.1, the tables' version). As in moby, the native arch decides
# for every arch of a multi-arch filter. How each entry becomes rules is runc's
# libcontainer/seccomp/seccomp_linux.go (matchCall): no args, one rule; args on distinct indexes, one rule
# with all of them (AND); two args on one index, one rule per arg (OR). A name the arch lacks in sbc's
# tables is skipped, as runc skips names libseccomp cannot resolve; an entry whose action is the default
# action is skipped too (libseccomp refuses it). Names libseccomp 2.5.4 lacks are added by their number in
# `numbers` (sbc's Linux 7.1 tables, without x32's bit, which libseccomp adds itself), so that its older name
# table does not decide (add_rule below). Each arch is built alone, the native arch removed first, and the
# filters are merged (seccomp_merge). The bad-arch action is KILL_PROCESS, sbc's (runc leaves libseccomp's
# KILL_THREAD).

PROFILE_OPS = {
    "SCMP_CMP_NE": seccomp.NE,
    "SCMP_CMP_LT": seccomp.LT,
    "SCMP_CMP_LE": seccomp.LE,
    "SCMP_CMP_EQ": seccomp.EQ,
    "SCMP_CMP_GE": seccomp.GE,
    "SCMP_CMP_GT": seccomp.GT,
    "SCMP_CMP_MASKED_EQ": seccomp.MASKED_EQ,
}

EPERM = 1
X32_SYSCALL_BIT = 0x40000000


def profile_action(name, errno_ret):
    if name == "SCMP_ACT_ALLOW":
        return seccomp.ALLOW
    if name == "SCMP_ACT_ERRNO":
        return seccomp.ERRNO(EPERM if errno_ret is None else errno_ret)
    if name == "SCMP_ACT_LOG":
        return seccomp.LOG
    if name == "SCMP_ACT_TRAP":
        return seccomp.TRAP
    if name in ("SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD"):
        return seccomp.KILL
    if name == "SCMP_ACT_KILL_PROCESS":
        return seccomp.KILL_PROCESS
    raise SystemExit(f"libseccomp-gen: action `{name}` is not handled")


def applies(entry, arch, caps):
    ex = entry.get("excludes") or {}
    inc = entry.get("includes") or {}
    if arch in (ex.get("arches") or []):
        return False
    if any(c in caps for c in (ex.get("caps") or [])):
        return False
    if ex.get("minKernel"):
        return False  # the kernel is newer than every minKernel
    if inc.get("arches") and arch not in inc["arches"]:
        return False
    if any(c not in caps for c in (inc.get("caps") or [])):
        return False
    return True  # includes.minKernel: the kernel is newer


def profile_rules(entry):
    """The argument lists of the rules one entry becomes (runc's matchCall)."""
    conds = entry.get("args") or []
    if not conds:
        return [[]]
    args = [seccomp.Arg(c["index"], PROFILE_OPS[c["op"]], c["value"], c.get("valueTwo", 0)) for c in conds]
    indexes = [c["index"] for c in conds]
    if len(set(indexes)) < len(indexes):
        return [[a] for a in args]
    return [args]


class Unaddable(Exception):
    pass


def resolve(arch, name):
    try:
        return seccomp.resolve_syscall(arch, name)
    except Exception:
        return None


def add_rule(f, arch, act, name, nr, args, how):
    """Add one rule as runc does, by name with seccomp_rule_add (so libseccomp rewrites socket and ipc calls
    for the socketcall/ipc multiplexers on i386 and s390x, as it does under Docker), when libseccomp 2.5.4
    knows the name at sbc's number (or at the multiplexer's). Otherwise exactly by sbc's number: libseccomp
    2.5.4's table lacks the call. Its i386 and x32 take only numbers their table has (others fail with
    -EFAULT or -EDOM); such a call is reported as unaddable, and runc would skip it the same way."""
    # Negative numbers are libseccomp's pseudo-syscalls or __NR_SCMP_ERROR (riscv_hwprobe resolves to -1).
    resolved = resolve(arch, name)
    resolved = resolved if resolved is not None and resolved >= 0 else None
    multiplexers = {m for m in (resolve(arch, "socketcall"), resolve(arch, "ipc")) if m is not None and m >= 0}
    if resolved is not None and ((resolved & ~X32_SYSCALL_BIT) == nr or resolved in multiplexers):
        f.add_rule(act, name, *args)
        how["byName"] += 1
        return
    if resolved is not None:
        how["numberMismatch"].append(f"{name}: libseccomp {resolved}, sbc {nr}")
    try:
        f.add_rule_exactly(act, nr, *args)
    except RuntimeError:
        raise Unaddable()
    how["byNumber"] += 1
    # A number libseccomp cannot name may still be added wrongly: on riscv64, 2.5.4 adds 258 (riscv_hwprobe)
    # as 34 (mkdirat). Such calls are reported with the unaddable ones.
    if resolve(arch, nr) is None:
        how["unknownNumbers"].setdefault(str(arch), []).append(name)


def build_profile(profile, target, optimize):
    default = profile_action(profile["defaultAction"], profile.get("defaultErrnoRet"))
    caps = set(target["caps"])
    merged = None
    counts = {"entries": 0, "rules": 0, "skippedNames": 0, "byName": 0, "byNumber": 0, "numberMismatch": [], "unknownNumbers": {}}
    unaddable = {}
    for a in target["arches"]:
        f = seccomp.SyscallFilter(defaction=default)
        arch = getattr(seccomp.Arch, a["scmp"].removeprefix("SCMP_ARCH_"))
        if not f.exist_arch(arch):
            # The native arch goes first: libseccomp refuses (-EDOM) to mix byte orders, so s390x cannot join x86_64.
            f.remove_arch(seccomp.Arch.NATIVE)
            f.add_arch(arch)
        f.set_attr(seccomp.Attr.ACT_BADARCH, seccomp.KILL_PROCESS)
        f.set_attr(seccomp.Attr.CTL_OPTIMIZE, optimize)
        for n, entry in enumerate(profile["syscalls"]):
            if not applies(entry, target["profileArch"], caps):
                continue
            act = profile_action(entry["action"], entry.get("errnoRet"))
            if act == default:
                continue
            counts["entries"] += 1
            names = list(entry.get("names") or []) + ([entry["name"]] if entry.get("name") else [])
            for name in names:
                if name not in a["numbers"]:
                    counts["skippedNames"] += 1
                    continue
                nr = a["numbers"][name]
                for args in profile_rules(entry):
                    try:
                        add_rule(f, arch, act, name, nr, args, counts)
                    except Unaddable:
                        unaddable.setdefault(a["scmp"], set()).add(name)
                        continue
                    except Exception as e:
                        raise SystemExit(f"libseccomp-gen: syscalls[{n}] `{name}` ({nr}) on {a['scmp']}: {e}")
                    if name in counts["unknownNumbers"].get(str(arch), []):
                        unaddable.setdefault(a["scmp"], set()).add(name)
                    counts["rules"] += 1
        if merged is None:
            merged = f
        else:
            merged.merge(f)
    counts["unaddable"] = {k: sorted(v) for k, v in unaddable.items()}
    return merged, counts


def main_profile(argv):
    if len(argv) != 7 or argv[5] != "--optimize" or argv[6] not in ("1", "2"):
        print("usage: libseccomp-gen.py --profile PROFILE_JSON TARGET_JSON OUT_BPF --optimize 1|2", file=sys.stderr)
        return 2
    with open(argv[2]) as fh:
        profile = json.load(fh)
    with open(argv[3]) as fh:
        target = json.load(fh)
    f, counts = build_profile(profile, target, int(argv[6]))
    with open(argv[4], "wb") as out:
        f.export_bpf(out)
    print(json.dumps({"api": seccomp.get_api(), **counts}))
    return 0


def main(argv):
    if len(argv) > 1 and argv[1] == "--profile":
        return main_profile(argv)
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
