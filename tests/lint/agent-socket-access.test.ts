// agent-socket-access (SBC3004): docker.sock, containerd, podman and key agents reachable through the unix
// path rules (evaluateUnix), including the `/` rule that `network: on`, `loopback` and `unix-only` imply.

import { describe, expect, it } from "vitest";
import { expectCompiled, findingsOf, lineOf, lint } from "./support.js";

const RULE = "agent-socket-access";

describe("agent-socket-access", () => {
  it("`network: on` reaches every socket: one finding at the mode word (YAML)", () => {
    const ds = lint("sbc: 1\nfilesystem:\n  - allow: read-only\n    path: /usr\nnetwork: on\n");
    const f = findingsOf(ds, RULE);
    expect(f.map((d) => [d.code, d.severity, lineOf(d)])).toEqual([["SBC3004", "error", 5]]);
    expect(f[0]!.message).toMatch(/^container and agent sockets are reachable: `\/var\/run\/docker\.sock`, `\/run\/docker\.sock`, .* and \d+ more$/);
    expect(f[0]!.help).toContain("`/tmp/ssh-sbclint/agent.1`");
  });

  it("`network: loopback` opens unix sockets too", () => {
    expect(findingsOf(lint("sbc: 1\nnetwork: loopback\nlinux:\n  accept-widening: [udp]\n"), RULE)).toHaveLength(1);
  });

  it("a unix path rule for /var/run (DSL)", () => {
    const ds = lint(
      `sbc 1
policy p {
  network {
    unix {
      pairs allow
      allow connect path "/var/run"
    }
  }
}
`,
      { path: "policy.sbc" },
    );
    expectCompiled(ds);
    expect(findingsOf(ds, RULE).map((d) => [lineOf(d), d.message])).toEqual([
      [6, "container and agent sockets are reachable: `/var/run/docker.sock`, `/var/run/containerd/containerd.sock` and `/var/run/crio/crio.sock`"],
    ]);
  });

  it("the SSH agent through a grant of /tmp", () => {
    const f = findingsOf(lint("sbc: 1\nnetwork:\n  unix:\n    paths:\n      - allow: connect\n        path: /tmp\n"), RULE);
    expect(f.map((d) => [lineOf(d), d.message])).toEqual([[5, "a container or agent socket is reachable: `/tmp/ssh-sbclint/agent.1`"]]);
  });

  it("passes deny rules beneath a broad grant, and the presets", () => {
    const ds = lint(`sbc: 1
network:
  mode: on
  unix:
    paths:
      - deny: connect
        path: /var/run
      - deny: connect
        path: /run
      - deny: connect
        path: /tmp
      - deny: connect
        path: /private/tmp
      - deny: connect
        path: \${home}
`);
    expectCompiled(ds);
    expect(findingsOf(ds, RULE)).toEqual([]);
    expect(findingsOf(lint("sbc: 1\nextends: workspace-write\n"), RULE)).toEqual([]);
  });

  it("a socket path rule for the workspace only passes", () => {
    const ds = lint("sbc: 1\nnetwork:\n  unix:\n    paths:\n      - allow: [bind, connect]\n        path: ${workspace}/.sbt\n");
    expectCompiled(ds);
    expect(findingsOf(ds, RULE)).toEqual([]);
  });
});
