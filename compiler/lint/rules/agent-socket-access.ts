// agent-socket-access: unix sockets that hand out power over the host. Whoever can connect to Docker's socket
// is root on the machine (`docker run -v /:/host`); whoever can connect to the SSH or GPG agent signs as the
// user without ever reading a key. Connecting is decided by the unix path rules alone (docs/language.md §9),
// which `network: on`, `loopback` and `unix-only` open at `/`.

import { evaluateUnix } from "../../../ir/evaluator/evaluate.js";
import type { UnixPathRule } from "../../../ir/types.js";
import { ByRule, nameList, resolveProbe, ruleSpan } from "../probe.js";
import type { LintRule } from "../rule.js";

/**
 * The sockets asked about. `<uid>` directories use 1000 and SSH_AUTH_SOCK's random parts a made-up name:
 * path rules are subtrees, so a rule for `/run/user` or `/tmp` answers for every uid and every name alike.
 * The list is documented in docs/lint.md#agent-socket-access.
 */
export const AGENT_SOCKETS: readonly string[] = [
  // Container engines.
  "/var/run/docker.sock",
  "/run/docker.sock",
  "/run/user/1000/docker.sock",
  "${home}/.docker/run/docker.sock",
  "${home}/.docker/desktop/docker.sock",
  "${home}/.colima/default/docker.sock",
  "${home}/.rd/docker.sock",
  "/run/containerd/containerd.sock",
  "/var/run/containerd/containerd.sock",
  "/run/podman/podman.sock",
  "/run/user/1000/podman/podman.sock",
  "/var/run/crio/crio.sock",
  // Key agents: SSH_AUTH_SOCK's usual places, GPG's agent, 1Password's.
  "/tmp/ssh-sbclint/agent.1",
  "/run/user/1000/keyring/ssh",
  "/run/user/1000/gnupg/S.gpg-agent.ssh",
  "/run/user/1000/gnupg/S.gpg-agent",
  "${home}/.gnupg/S.gpg-agent",
  "/private/tmp/com.apple.launchd.sbclint/Listeners",
  "${home}/.1password/agent.sock",
];

export const agentSocketAccess: LintRule = {
  id: "agent-socket-access",
  code: "lintAgentSocketAccess",
  defaultSeverity: "error",
  description: "The sandbox may connect to a container engine's socket (docker.sock, containerd, podman) or a key agent's (SSH_AUTH_SOCK, gpg-agent).",
  fixable: false,
  run(ctx) {
    const ir = ctx.boundIr;
    if (!ir) return;
    const byRule = new ByRule<UnixPathRule, string>();
    for (const p of AGENT_SOCKETS) {
      const v = evaluateUnix(ir, { op: "connect", path: resolveProbe(ir, p) });
      if (v.decision === "allow" && v.by.kind === "path-rule" && v.by.rule) byRule.add(v.by.rule, p);
    }
    for (const [rule, sockets] of byRule.groups) {
      const s = ruleSpan(rule) ?? ir.network.unix.span ?? ir.network.span;
      const everywhere = rule.path === "/";
      ctx.report({
        message: `${sockets.length === 1 ? "a container or agent socket is" : "container and agent sockets are"} reachable: ${nameList(sockets)}`,
        ...(s ? { span: s, spanLabel: everywhere ? "this allows connecting to every unix socket path" : "this rule allows connecting to them" } : {}),
        help: (sockets.length > 3 ? `all of them: ${sockets.map((n) => `\`${n}\``).join(", ")}; ` : "") + (everywhere
          ? "connecting to docker.sock is root on the host, and to an SSH agent is signing as the user; allow unix sockets only where needed (`unix: {pairs: allow, paths: [...]}`) or add `deny: connect` path rules for them"
          : "connecting to docker.sock is root on the host, and to an SSH agent is signing as the user; narrow this path rule or add `deny: connect` path rules for them"),
      });
    }
  },
};
