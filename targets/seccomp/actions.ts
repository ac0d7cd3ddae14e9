// IR actions as seccomp return values (and back), in one place.

import type { Action } from "../../ir/types.js";
import {
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_LOG,
  SECCOMP_RET_TRACE,
  SECCOMP_RET_TRAP,
  SECCOMP_RET_USER_NOTIF,
} from "./bpf.js";

export function actionValue(a: Action): number {
  switch (a.type) {
    case "allow":
      return SECCOMP_RET_ALLOW;
    case "log":
      return SECCOMP_RET_LOG;
    case "trap":
      return SECCOMP_RET_TRAP;
    case "errno":
      return (SECCOMP_RET_ERRNO | (a.errno & 0xffff)) >>> 0;
    case "user-notif":
      return SECCOMP_RET_USER_NOTIF;
    case "trace":
      return (SECCOMP_RET_TRACE | (a.data & 0xffff)) >>> 0;
    case "kill-thread":
      return SECCOMP_RET_KILL_THREAD;
    case "kill-process":
      return SECCOMP_RET_KILL_PROCESS >>> 0;
  }
}
