// The policy of issue 13: `/` writable, `~/.ssh` writable, `/var/run/docker.sock` allowed, `~/.bashrc` writable
// and `network: on` passed `sbc check` without a finding. It must now get at least four distinct findings.

import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../compiler/passes/index.js";
import { lintPolicy } from "../../compiler/lint/index.js";
import { lineOf, lint } from "./support.js";

const YAML = `sbc: 1
name: dangerous
filesystem:
  - allow: read-write
    path: /
  - allow: read-write
    path: \${home}/.ssh
  - allow: read-write
    path: \${home}/.bashrc
network:
  mode: on
  unix:
    paths:
      - allow: connect
        path: /var/run/docker.sock
`;

const DSL = `sbc 1
policy dangerous {
  filesystem {
    allow read-write path "/"
    allow read-write path "\${home}/.ssh"
    allow read-write path "\${home}/.bashrc"
  }
  network {
    mode on
    unix {
      allow connect path "/var/run/docker.sock"
    }
  }
}
`;

describe("the dangerous policy of issue 13", () => {
  for (const [syntax, path, text, lines] of [
    ["YAML", "policy.yaml", YAML, { root: 4, ssh: 6, bashrc: 8, docker: 14 }],
    ["DSL", "policy.sbc", DSL, { root: 4, ssh: 5, bashrc: 6, docker: 11 }],
  ] as const) {
    it(`gets at least four distinct findings (${syntax})`, () => {
      const ds = lint(text, { path });
      const ids = new Set(ds.filter((d) => d.code.startsWith("SBC30")).map((d) => d.name));
      // At least these four (other rules may add their own findings on top).
      expect([...ids]).toEqual(expect.arrayContaining(["agent-socket-access", "broad-write", "persistence-write", "secret-access"]));
      const at = (name: string, line: number) => ds.filter((d) => d.name === name && lineOf(d) === line && d.severity === "error");
      expect(at("broad-write", lines.root)).toHaveLength(1);
      expect(at("secret-access", lines.ssh).map((d) => d.message)).toEqual(["a secret is writable: `${home}/.ssh`"]);
      expect(at("persistence-write", lines.bashrc).map((d) => d.message)).toEqual(["a place that runs code later is writable: `${home}/.bashrc`"]);
      expect(at("agent-socket-access", lines.docker).map((d) => d.message)).toEqual(["a container or agent socket is reachable: `/var/run/docker.sock`"]);
    });
  }

  it("linting stays cheap: the presets and the dangerous policy, well under a millisecond per rule", () => {
    const compiled = ["sbc: 1\nextends: read-only\n", "sbc: 1\nextends: workspace-write\n", "sbc: 1\nextends: full-access\n", YAML].map((text) =>
      compilePolicy({ kind: "text", path: "p.yaml", text }),
    );
    for (const r of compiled) lintPolicy(r.ir!, r.files!); // warm up
    const runs = 50;
    const start = performance.now();
    for (let i = 0; i < runs; i++) for (const r of compiled) lintPolicy(r.ir!, r.files!);
    const perPolicy = (performance.now() - start) / runs / compiled.length;
    // A generous bound that only catches a blow-up (the measured figure is in docs/lint.md).
    expect(perPolicy).toBeLessThan(20);
  });
});
