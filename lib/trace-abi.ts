// The numbers in the tracer's records (native/loader/trace.c) that explain and learn decode: open flags,
// *at flags, socket families and types, errnos, as on x86_64 — the only arch the tracer runs on (SBC1370).
// Those the generated tables hold come from them (linux-abi/); O_DIRECTORY differs by arch and is x86_64's.

import { constantValue, errnoValue } from "../linux-abi/index.js";

const c = (name: string): number => Number(constantValue(name)!);

export const O_ACCMODE = c("O_ACCMODE");
export const O_CREAT = c("O_CREAT");
export const O_TRUNC = c("O_TRUNC");
/** x86_64's (aarch64's is 0x4000): the generated table leaves it out for that reason. */
export const O_DIRECTORY = 0x10000;
/** unlinkat(2)'s flag, from linux/fcntl.h. */
export const AT_REMOVEDIR = 0x200;
export const AF_UNIX = c("AF_UNIX");
export const AF_INET = c("AF_INET");
export const AF_INET6 = c("AF_INET6");
export const SOCK_DGRAM = c("SOCK_DGRAM");
export const ECONNREFUSED = errnoValue("ECONNREFUSED")!;
export const EINPROGRESS = errnoValue("EINPROGRESS")!;
export const ENETUNREACH = errnoValue("ENETUNREACH")!;
export const EHOSTUNREACH = errnoValue("EHOSTUNREACH")!;
