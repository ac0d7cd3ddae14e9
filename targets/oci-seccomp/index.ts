// The OCI seccomp backend: the IR's syscalls section as a Docker/OCI runtime seccomp profile (JSON text),
// for containers that take a profile instead of a BPF filter. See docs/targets/oci-seccomp.md.

import { withDomainRules, type BackendResult } from "../../ir/backend.js";
import type { IR } from "../../ir/types.js";
import { emitOciSeccomp, type OciEmitOptions } from "./emit.js";

export type { OciEmitOptions as OciSeccompOptions } from "./emit.js";

/** The backend's entry point (ir/backend.ts): the profile, pretty-printed, with a final newline. */
export function compile(ir: IR, options: OciEmitOptions): BackendResult<string> {
  return withDomainRules(ir, "oci-seccomp", true, (lowered) => {
    const r = emitOciSeccomp(lowered, options);
    return { ...(r.json !== undefined ? { artifact: r.json } : {}), diagnostics: r.diagnostics };
  });
}
