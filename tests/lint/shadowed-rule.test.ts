// shadowed-rule: rules of the checked file that never decide anything, per section, pointing at the rule that
// hides them; and the cases the compiler already reports are left to it.

import { describe, expect, it } from "vitest";
import { lintPolicyText } from "../../compiler/lint/index.js";
import { shadowedRule } from "../../compiler/lint/rules/shadowed-rule.js";
import { lintWith } from "./lint-test-support.js";

const rule = shadowedRule;
const lines = (text: string, path?: string) => lintWith(rule, text, path).map((f) => [f.code, f.line, f.labelLines]);

describe("shadowed-rule: filesystem", () => {
  it("reports a subtree under `glob: D/**`, and a duplicate rule (the later one)", () => {
    const text = `sbc: 1
filesystem:
  - allow: read
    path: /srv
  - deny: read
    glob: /srv/**
  - allow: read-only
    path: /opt
  - allow: read-only
    path: /opt
`;
    expect(lines(text)).toEqual([
      ["SBC3050", 3, [5]],
      ["SBC3050", 9, [7]],
    ]);
  });

  it("reports an allow glob hidden by a deny `prefix/**` of the same file", () => {
    const text = `sbc: 1
filesystem:
  - allow: read
    glob: /srv/**/*.txt
  - deny: read
    glob: /srv/**
`;
    expect(lines(text)).toEqual([["SBC3050", 3, [5]]]);
  });

  it("leaves the same-pattern dead allow to the compiler (SBC0603) and reports nothing for overrides of a base", () => {
    const dead = `sbc: 1
filesystem:
  - allow: write
    path: /srv
  - deny: write
    path: /srv
`;
    const all = lintPolicyText(dead, { ruleSet: [rule] });
    expect(all.map((d) => d.code)).toEqual(["SBC0603"]);
    const override = `sbc: 1
extends: workspace-write
filesystem:
  - allow: read-write
    path: \${workspace}/.git
`;
    expect(lines(override)).toEqual([]);
  });

  it("is quiet for a deeper rule, which always decides beneath it", () => {
    const text = `sbc: 1
filesystem:
  - allow: read
    path: /srv
  - deny: read
    path: /srv/secret
  - allow: read
    path: /srv/secret/public
`;
    expect(lines(text)).toEqual([]);
  });
});

describe("shadowed-rule: network", () => {
  it("reports an allow that a deny covers, and an allow an earlier allow covers", () => {
    const text = `sbc: 1
network:
  rules:
    - deny: connect
      hosts: [10.0.0.0/8]
    - allow: connect
      hosts: [10.1.0.0/16]
      ports: 443
    - allow: [connect, bind]
      protocol: any
    - allow: connect
      ports: 80
`;
    expect(lines(text)).toEqual([
      ["SBC3050", 6, [4]],
      ["SBC3050", 11, [9]],
    ]);
  });

  it("is quiet when part of the rule stays reachable", () => {
    const text = `sbc: 1
network:
  rules:
    - deny: connect
      hosts: [10.0.0.0/8]
      ports: 443
    - allow: connect
      hosts: [10.1.0.0/16]
`;
    expect(lines(text)).toEqual([]);
  });
});

describe("shadowed-rule: network rules by domain", () => {
  it("reports a rule by domain under `network: on`, and one another rule by domain covers (YAML and DSL)", () => {
    const yaml = `sbc: 1
network:
  mode: on
  rules:
    - allow: connect
      domains: [registry.npmjs.org]
      ports: 443
    - deny: connect
      domains: ["**.example.com"]
    - deny: connect
      domains: ["*.example.com", a.b.example.com]
`;
    expect(lines(yaml)).toEqual([
      ["SBC3050", 5, [3]],
      ["SBC3050", 10, [8]],
    ]);
    const dsl = `sbc 1
policy {
  network {
    mode on
    allow connect domains [registry.npmjs.org] ports 443
  }
}
`;
    expect(lines(dsl, "policy.sbc")).toEqual([["SBC3050", 5, [3]]]); // the mode's rule points at the network section
  });

  it("is quiet where the rule decides something: no any-host allow, a narrower pattern before a wider one", () => {
    const text = `sbc: 1
network:
  mode: loopback
  rules:
    - deny: connect
      domains: ["*.example.com"]
    - deny: connect
      domains: ["**.example.com"]
    - allow: connect
      domains: [registry.npmjs.org]
`;
    expect(lines(text)).toEqual([]);
  });

  it("a rule with HTTP conditions decides only some requests: it hides nothing, and is hidden by one without (YAML and DSL)", () => {
    const yaml = `sbc: 1
network:
  rules:
    - deny: connect
      domains: ["*.example.com"]
      http-methods: [POST]
    - deny: connect
      domains: [a.example.com]
    - allow: connect
      domains: [b.example.com]
    - allow: connect
      domains: [b.example.com]
      http-paths: ["/simple/**"]
`;
    expect(lines(yaml)).toEqual([["SBC3050", 11, [9]]]);
    const dsl = `sbc 1
policy {
  network {
    deny connect domains ["*.example.com"] http-methods [POST]
    deny connect domains [a.example.com]
  }
}
`;
    expect(lines(dsl, "policy.sbc")).toEqual([]);
  });
});

describe("shadowed-rule: unix socket paths", () => {
  it("reports an allow that a deny on the same path in the same file hides; not a deeper one", () => {
    const text = `sbc: 1
network:
  unix:
    paths:
      - allow: connect
        path: /run/app
      - deny: [connect, bind]
        path: /run/app
      - allow: connect
        path: /run/app/public
`;
    expect(lines(text)).toEqual([["SBC3050", 5, [7]]]);
  });
});

describe("shadowed-rule: syscalls", () => {
  it("reports an allow for a call that a stricter rule of the same file matches (YAML and DSL)", () => {
    const yaml = `sbc: 1
syscalls:
  rules:
    - syscalls: ptrace
      action: allow
    - syscalls: "@debug"
      action: errno
`;
    expect(lines(yaml)).toEqual([["SBC3050", 4, [6]]]);
    const dsl = `sbc 1
policy {
  syscalls {
    rule ptrace allow
    rule "@debug" errno
  }
}
`;
    expect(lines(dsl, "policy.sbc")).toEqual([["SBC3050", 4, [5]]]);
  });

  it("is quiet when the other rule has conditions this one lacks, or sits in a base", () => {
    const conditioned = `sbc: 1
syscalls:
  rules:
    - syscalls: socket
      action: allow
    - syscalls: socket
      action: errno
      args: ["arg0 == AF_INET"]
`;
    expect(lines(conditioned)).toEqual([]);
    const overBase = `sbc: 1
extends: read-only
syscalls:
  rules:
    - syscalls: ptrace
      action: allow
`;
    expect(lines(overBase)).toEqual([]);
  });
});

describe("shadowed-rule: commands", () => {
  it("reports an allow under a base's forbidden prefix", () => {
    const text = `sbc: 1
extends: safe-commands
commands:
  rules:
    - prefix: [sudo, [apt, apt-get]]
      decision: allow
`;
    const f = lintWith(rule, text);
    expect(f.map((x) => [x.code, x.line])).toEqual([["SBC3050", 5]]);
    expect(f[0]!.diagnostic.labels[0]!.span.source.path).toMatch(/safe-commands\.yaml$/);
  });

  it("reports a rule whose alternatives are each decided by a stricter rule", () => {
    const text = `sbc: 1
commands:
  rules:
    - prefix: [git, [push, fetch]]
      decision: allow
    - prefix: git push
      decision: prompt
    - prefix: git fetch
      decision: forbidden
`;
    expect(lines(text)).toEqual([["SBC3050", 4, [6, 8]]]);
  });

  it("is quiet for a more specific stricter rule (it decides its own lines)", () => {
    const text = `sbc: 1
commands:
  rules:
    - prefix: git
      decision: allow
    - prefix: git push
      decision: prompt
`;
    expect(lines(text)).toEqual([]);
  });
});
