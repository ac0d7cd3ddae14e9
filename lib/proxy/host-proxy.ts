// The egress proxy where there is no loader relay (macOS): the Node relay on an ephemeral port of the host's
// 127.0.0.1 and the decision service it asks in process, with `--resolve` and `--network-log` as on Linux.
// `sbc debug seatbelt` and spawnSandboxed start it before sandbox-exec and stop it when the command ends.

import type { IR } from "../../ir/types.js";
import { resolverWith } from "./decide.js";
import { startNodeRelay } from "./node-relay.js";
import { proxyEnvironment } from "./run.js";
import { DecisionService, type NetworkEvent } from "./service.js";

export interface HostProxy {
  /** The relay's port on 127.0.0.1: the Seatbelt profile allows outbound TCP to localhost on it only. */
  readonly port: number;
  /** The proxy variables for the command (the same as on Linux, with this port). */
  readonly env: Readonly<Record<string, string>>;
  /** Stop accepting, let open connections end (0.5 s at most), then finish the log's records. */
  stop(): Promise<void>;
}

export interface HostProxyOptions {
  /** `--resolve NAME=ADDR[,ADDR]`, normalized (parseResolveEntries). */
  readonly resolve?: ReadonlyMap<string, readonly string[]>;
  readonly log?: (event: NetworkEvent) => void;
  readonly warn?: (message: string) => void;
}

/** Starts the proxy for `ir` (the bound IR the profile is compiled from); rejects when it cannot listen. */
export async function startHostProxy(ir: IR, options: HostProxyOptions = {}): Promise<HostProxy> {
  const service = new DecisionService(ir, null, {
    resolver: resolverWith(options.resolve ?? new Map()),
    ...(options.log ? { log: options.log } : {}),
    ...(options.warn ? { warn: options.warn } : {}),
  });
  const relay = await startNodeRelay(service);
  let stopped: Promise<void> | undefined;
  return {
    port: relay.port,
    env: proxyEnvironment(relay.port),
    stop() {
      stopped ??= relay.close().then(() => service.finish());
      return stopped;
    },
  };
}
