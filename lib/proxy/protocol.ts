// The control protocol between the loader's relay and `sbc exec` (native/README.md, docs/proxy.md): ASCII
// lines over the `--proxy-fd` socket. The relay asks (`Q`), reports the upstream connect (`R`) and the bytes
// of a finished connection (`X`); Node answers each `Q` by its id (`A`). Parsing is strict: a line that is not
// one of these is a broken channel, and the service fails closed.

import type { Decision, ProxyRequest } from "./decide.js";

export type RelayLine =
  | { readonly type: "Q"; readonly id: string; readonly request: ProxyRequest }
  | { readonly type: "R"; readonly id: string; readonly ok: true }
  | { readonly type: "R"; readonly id: string; readonly ok: false; readonly errno: string }
  | { readonly type: "X"; readonly id: string; readonly up: number; readonly down: number };

const ID = /^[0-9]{1,20}$/;
const NUM = /^[0-9]{1,20}$/;
const HOST = /^[\x21-\x7e]{1,255}$/;

/** One line from the relay (without its newline), or why it is not one. */
export function parseRelayLine(line: string): RelayLine | { readonly type: "error"; readonly id?: string; readonly message: string } {
  const w = line.split(" ");
  const id = w[1] !== undefined && ID.test(w[1]) ? w[1] : undefined;
  const bad = (message: string) => ({ type: "error" as const, ...(id !== undefined ? { id } : {}), message });
  if (id === undefined) return bad(`no request id in \`${line.slice(0, 80)}\``);
  switch (w[0]) {
    case "Q": {
      if (w.length !== 5 && w.length !== 7) return bad(`a request has 5 or 7 fields: \`${line.slice(0, 80)}\``);
      const kind = w[2]!;
      if (kind !== "connect" && kind !== "socks5" && kind !== "http") return bad(`unknown request kind \`${kind.slice(0, 20)}\``);
      if (!HOST.test(w[3]!)) return bad("a request's host is empty, too long or not printable ASCII");
      if (!/^[0-9]{1,5}$/.test(w[4]!)) return bad(`\`${w[4]!.slice(0, 20)}\` is not a port`);
      if (w.length === 7 && kind !== "http") return bad("only a plain-HTTP request has a method and a path");
      const request: ProxyRequest = { kind, host: w[3]!, port: Number(w[4]), ...(w.length === 7 ? { method: w[5]!, path: w[6]! } : {}) };
      return { type: "Q", id, request };
    }
    case "R":
      if (w.length === 3 && w[2] === "ok") return { type: "R", id, ok: true };
      if (w.length === 4 && w[2] === "fail" && /^[A-Z0-9_]{1,32}$/.test(w[3]!)) return { type: "R", id, ok: false, errno: w[3]! };
      return bad(`\`${line.slice(0, 80)}\` is not \`R ID ok\` or \`R ID fail ERRNO\``);
    case "X":
      if (w.length === 4 && NUM.test(w[2]!) && NUM.test(w[3]!)) return { type: "X", id, up: Number(w[2]), down: Number(w[3]) };
      return bad(`\`${line.slice(0, 80)}\` is not \`X ID UP DOWN\``);
    default:
      return bad(`unknown message \`${w[0]!.slice(0, 20)}\``);
  }
}

/** The answer line (with its newline) for one request. */
export function answerLine(id: string, d: Decision): string {
  return d.decision === "allow" ? `A ${id} allow ${d.address} ${d.port}\n` : `A ${id} deny ${d.status} ${d.text}\n`;
}
