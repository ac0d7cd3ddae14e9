// network-with-secrets: egress beyond loopback while a credential is readable.

import { describe, expect, it } from "vitest";
import { networkWithSecrets } from "../../compiler/lint/rules/network-with-secrets.js";
import { SECRETS } from "../../compiler/lint/secrets.js";
import { lintWith } from "./lint-test-support.js";

const rule = networkWithSecrets;

describe("network-with-secrets", () => {
  it("reports `network: on` with the home directory readable, at the network line, naming the rule that opens the secrets", () => {
    const text = `sbc: 1
filesystem:
  - allow: read-only
    path: \${home}
network: on
`;
    const f = lintWith(rule, text);
    expect(f).toHaveLength(1);
    expect(f[0]!.code).toBe("SBC3051");
    expect(f[0]!.line).toBe(5);
    expect(f[0]!.labelLines).toEqual([3]);
    expect(f[0]!.message).toContain("`${home}/.ssh`");
  });

  it("reports in the DSL too", () => {
    const text = `sbc 1
policy {
  filesystem {
    allow read path "\${workspace}"
  }
  network {
    allow connect ports 443
  }
}
`;
    const f = lintWith(rule, text, "policy.sbc");
    expect(f.map((x) => [x.code, x.line])).toEqual([["SBC3051", 7]]);
    expect(f[0]!.message).toContain("`${workspace}/**/.env`");
  });

  it("counts a rule by domain as egress (YAML and DSL); a denied name is not", () => {
    const yaml = `sbc: 1
filesystem:
  - allow: read-only
    path: \${home}
network:
  rules:
    - allow: connect
      domains: ["*.githubusercontent.com"]
      ports: 443
`;
    const f = lintWith(rule, yaml);
    expect(f.map((x) => [x.code, x.line])).toEqual([["SBC3051", 7]]);
    expect(f[0]!.message).toContain("`x.githubusercontent.com:443`");
    const dsl = `sbc 1
policy {
  filesystem {
    allow read-only path "\${home}"
  }
  network {
    allow connect domains ["*.githubusercontent.com"] ports 443
  }
}
`;
    expect(lintWith(rule, dsl, "policy.sbc").map((x) => [x.code, x.line])).toEqual([["SBC3051", 7]]);
    const denied = `${yaml}    - deny: connect
      domains: ["**.githubusercontent.com"]
`;
    expect(lintWith(rule, denied)).toEqual([]);
  });

  it("reports at the extends entry when both halves come from a preset", () => {
    const f = lintWith(rule, "sbc: 1\nname: x\nextends: full-access\n");
    expect(f.map((x) => [x.code, x.line])).toEqual([["SBC3051", 3]]);
  });

  it("is quiet when the secrets are denied", () => {
    const deny = SECRETS.map((s) => `  - deny: read\n    ${s.kind}: "${s.path}"\n`).join("");
    const text = `sbc: 1\nfilesystem:\n  - allow: read-only\n    path: /\n${deny}network: on\n`;
    expect(lintWith(rule, text)).toEqual([]);
  });

  it("is quiet with loopback only, or when every non-loopback connection is denied", () => {
    expect(lintWith(rule, "sbc: 1\nextends: read-only\nnetwork: loopback\nlinux: {accept-widening: [udp]}\n")).toEqual([]);
    const text = `sbc: 1
extends: read-only
network:
  rules:
    - allow: connect
      ports: 443
    - deny: connect
      protocol: any
`;
    expect(lintWith(rule, text)).toEqual([]);
  });

  it("finds an allowed host past a deny of some addresses", () => {
    const text = `sbc: 1
extends: read-only
network:
  rules:
    - allow: connect
      hosts: [10.0.0.0/8]
    - deny: connect
      hosts: [10.0.0.0/32]
`;
    const f = lintWith(rule, text);
    expect(f.map((x) => x.line)).toEqual([5]);
    expect(f[0]!.message).toContain("`10.255.255.255:443`");
  });

  it("is quiet when nothing but the workspace is readable and it has no .env", () => {
    const text = `sbc: 1
filesystem:
  - allow: read
    path: \${workspace}/src
network: on
`;
    expect(lintWith(rule, text)).toEqual([]);
  });
});
