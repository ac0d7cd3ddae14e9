// Exit codes shared by every command, the error type for bad command lines, and how a command that runs
// another program ends the way that program did.

import { constants as osConstants } from "node:os";

export const EXIT_OK = 0;
/** The policy has errors (or more warnings than --max-warnings allows). */
export const EXIT_FINDINGS = 1;
/** Bad command line, unreadable input named on the command line, or an internal error. */
export const EXIT_USAGE = 2;

/** The command could not be run under the policy (like env(1)'s 125): nothing of the command ran. */
export const EXIT_CANNOT_RUN = 125;

export { UsageError } from "../lib/errors.js";

/** Signals a command runner passes on to its child while it waits. */
export const FORWARDED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** Pass the forwarded signals on to `child` while it runs. */
export function forwardSignals(child: { kill(signal: NodeJS.Signals): boolean }): void {
  for (const sig of FORWARDED_SIGNALS) process.on(sig, () => child.kill(sig));
}

/**
 * The status to exit with after a child ended, so that sbc ends the way the command did (as `exec` does, and
 * as bin/sbc's fast path does by exec'ing it): its exit code; or, when a signal killed it, the same signal
 * raised on this process (our forwarding handlers removed first), with 128 + its number only if that signal
 * cannot end us.
 */
export function exitLikeChild(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  if (signal) {
    for (const sig of FORWARDED_SIGNALS) process.removeAllListeners(sig);
    process.kill(process.pid, signal);
  }
  return 128 + (signal ? (osConstants.signals[signal] ?? 1) : 1);
}
