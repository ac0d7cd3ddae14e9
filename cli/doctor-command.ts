// `sbc doctor`: what this machine offers `sbc exec` and which mechanism it will use (lib/doctor.ts probes and
// judges); this module prints the report, as text or JSON, and exits 1 when something stops or weakens `exec`.

import { doctorReport, renderDoctorReport } from "../lib/doctor.js";

export interface DoctorOptions {
  format: "human" | "json";
}

export async function runDoctor(opts: DoctorOptions): Promise<number> {
  // Like `sbc exec`, doctor builds the loader when install scripts did not (and says so on stderr).
  const report = doctorReport((notice) => process.stderr.write(`sbc: ${notice}\n`));
  process.stdout.write(opts.format === "json" ? JSON.stringify(report, null, 2) + "\n" : renderDoctorReport(report));
  return report.exec.problems.length ? 1 : 0;
}
