// `sbc doctor`'s findings: what this machine offers `sbc exec` — the kernel's Landlock ABI, seccomp, whether a
// mount namespace can be had (and if not, why: the sysctls that usually decide it), io_uring, the plan cache —
// and which mechanism `exec` will therefore use. Everything comes from the native loader's probe, which tries
// the real sequence in a throwaway child, so the answer is what `exec` meets, not a guess from version numbers.

import { existsSync, readFileSync } from "node:fs";
import { release } from "node:os";
import { packageVersion } from "../compiler/package-root.js";
import { CODES } from "../diagnostics/codes.js";
import { findLoader } from "./loader.js";
import { loaderPath, probeKernel } from "./loader-probe.js";
import { planCacheDir, unsafeCacheDir } from "./plan-cache.js";

function sysctl(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** What a `namespaces=none:STEP:ERRNO` answer usually means, with the sysctls that decide it. */
function namespaceReason(step: string, errno: string): string {
  const max = sysctl("/proc/sys/user/max_user_namespaces");
  const apparmor = sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
  const debian = sysctl("/proc/sys/kernel/unprivileged_userns_clone");
  if (step === "unshare" && errno === "ENOSPC" && max === "0") return "user namespaces are disabled: /proc/sys/user/max_user_namespaces is 0";
  if (step === "unshare" && errno === "EPERM" && debian === "0") return "unprivileged user namespaces are disabled: kernel.unprivileged_userns_clone is 0";
  if (apparmor === "1") return `AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1): ${step} failed with ${errno}`;
  if (step === "unshare" && errno === "EPERM") return "creating a namespace is refused (a container's seccomp profile, or a security module)";
  if (errno === "ENOSYS") return `the kernel lacks a call sbc needs (${step})`;
  return `${step} failed with ${errno}`;
}

export interface DoctorReport {
  readonly sbc: string;
  readonly platform: string;
  readonly kernel: string;
  readonly arch: string;
  /** `where`: the package's own loader, or one built into the per-user cache (lib/loader.ts). */
  readonly loader: { readonly path: string; readonly built: boolean; readonly where?: "package" | "cache" };
  readonly probe: string | null;
  readonly landlockAbi: number | null;
  readonly seccomp: boolean | null;
  readonly namespaces: { readonly available: boolean; readonly kind?: string; readonly reason?: string };
  readonly ioUring: string;
  readonly planCache: { readonly dir: string | null; readonly usable: boolean; readonly problem?: string };
  /**
   * Whether a policy with rules by domain can run here: its egress proxy needs a network namespace, which the
   * loader creates with the same unshare as the mount namespace (docs/proxy.md).
   */
  readonly egressProxy: { readonly available: boolean; readonly reason?: string };
  /** What `sbc exec` uses here, and what stops or weakens it (none: it runs with everything). */
  readonly exec: { readonly uses: readonly string[]; readonly problems: readonly string[] };
}

/**
 * Probe this machine (through the loader) and say what `sbc exec` will use. Like `exec`, it builds the loader
 * when install scripts did not; `onNotice` hears the one line that says so.
 */
export function doctorReport(onNotice?: (notice: string) => void): DoctorReport {
  const found = process.platform === "linux" ? findLoader({ build: true }) : undefined;
  if (found?.ok && found.notice) onNotice?.(found.notice);
  const loader = found?.ok ? found.path : loaderPath();
  const built = found?.ok === true;
  const probe = built && process.platform === "linux" ? probeKernel(loader) : undefined;
  const cacheDir = planCacheDir();
  const cacheProblem = cacheDir && existsSync(cacheDir) ? unsafeCacheDir(cacheDir) : undefined;

  const mechanism: string[] = [];
  const problems: string[] = [];
  let ns: { available: boolean; kind?: string; reason?: string } = { available: false };
  if (process.platform !== "linux") problems.push(`sbc exec runs on Linux; this is ${process.platform} (use \`sbc debug seatbelt\` on macOS)`);
  else if (found && !found.ok) problems.push(`${CODES[found.code].code}: ${found.message}${found.help ? ` (${found.help})` : ""}`);
  else if (probe && "error" in probe) problems.push(`the loader could not probe the kernel: ${probe.error}`);
  if (probe && !("error" in probe)) {
    const m = /^(user|admin)$|^none:([^:]*):(.*)$/.exec(probe.namespaces);
    if (m?.[1]) ns = { available: true, kind: m[1] === "user" ? "an unprivileged user namespace" : "CAP_SYS_ADMIN" };
    else ns = { available: false, reason: m ? namespaceReason(m[2]!, m[3]!) : `the probe said \`${probe.namespaces}\`` };
    if (ns.available) mechanism.push(`a private mount namespace (${ns.kind})`);
    else problems.push(`no mount namespace: ${ns.reason}; \`sbc exec\` falls back to Landlock alone and says what that loses in one line (\`--namespaces require\` refuses instead)`);
    if (probe.landlockAbi > 0) mechanism.push(`Landlock ABI ${probe.landlockAbi}`);
    else problems.push("no Landlock: policies that need it are refused unless run with `--compat soft-requirement`");
    if (probe.seccomp) mechanism.push("seccomp");
    else problems.push("no seccomp filters: `sbc exec` cannot run");
  }
  if (cacheProblem) problems.push(`the plan cache ${cacheDir} is not used: ${cacheProblem}`);

  const ioUring = probe && !("error" in probe) ? probe.ioUring : "unknown";
  return {
    sbc: packageVersion(),
    platform: process.platform,
    kernel: release(),
    arch: process.arch,
    loader: { path: loader, built, ...(found?.ok ? { where: found.where } : {}) },
    probe: probe && !("error" in probe) ? probe.line : null,
    landlockAbi: probe && !("error" in probe) ? probe.landlockAbi : null,
    seccomp: probe && !("error" in probe) ? probe.seccomp : null,
    namespaces: ns,
    ioUring,
    planCache: { dir: cacheDir ?? null, usable: !cacheProblem, ...(cacheProblem ? { problem: cacheProblem } : {}) },
    egressProxy: ns.available ? { available: true } : { available: false, reason: process.platform !== "linux" ? "the relay runs on Linux only" : `no namespace can be created${ns.reason ? `: ${ns.reason}` : ""}` },
    exec: { uses: mechanism, problems },
  };
}

/** The report as `sbc doctor` prints it (human format), one line per finding. */
export function renderDoctorReport(report: DoctorReport): string {
  const ns = report.namespaces;
  const ioUring = report.ioUring;
  const built = report.loader.built;
  const loader = report.loader.path;
  const cacheDir = report.planCache.dir;
  const cacheProblem = report.planCache.problem;
  const mechanism = report.exec.uses;
  const problems = report.exec.problems;
  const uring = ioUring === "0" ? "enabled in the kernel (sbc's presets refuse it: it bypasses syscall filters)" : ioUring === "1" ? "restricted to a group" : ioUring === "2" ? "disabled" : ioUring === "absent" ? "not in this kernel" : ioUring;
  const lines = [
    `sbc ${report.sbc} on ${report.platform} ${report.kernel} (${report.arch})`,
    `loader       ${built ? loader : "not built"}`,
    `landlock     ${report.landlockAbi === null ? "unknown" : report.landlockAbi > 0 ? `ABI ${report.landlockAbi}` : "absent"}`,
    `seccomp      ${report.seccomp === null ? "unknown" : report.seccomp ? "filters available" : "absent"}`,
    `namespaces   ${ns.available ? `available (${ns.kind})` : `unavailable${ns.reason ? `: ${ns.reason}` : ""}`}`,
    `io_uring     ${uring}`,
    `plan cache   ${cacheDir ?? "none ($HOME is not set)"}${cacheProblem ? ` (not used: ${cacheProblem})` : ""}`,
    `domains      ${report.egressProxy.available ? "rules by domain run behind the egress proxy (a network namespace)" : `rules by domain cannot run: ${report.egressProxy.reason}`}`,
    `sbc exec     ${mechanism.length ? mechanism.join(" + ") : "cannot run"}`,
    ...problems.map((p) => `  ! ${p}`),
  ];
  return lines.join("\n") + "\n";
}
