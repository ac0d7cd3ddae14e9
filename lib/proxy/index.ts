// The egress proxy's Node side, as `sbc exec` loads it (only for a policy with rules by domain): the decision
// service on the relay's control channel, the resolver with `--resolve`, the command's proxy environment and
// the network log; on macOS the relay itself, in Node (node-relay.ts, host-proxy.ts). docs/proxy.md is the
// user's account; native/README.md the C relay's.

export { decide, decideLearning, parseResolveEntries, resolverWith, systemResolver, type Decision, type ProxyRequest, type Resolver } from "./decide.js";
export { DecisionService, type NetworkEvent } from "./service.js";
export { NetworkLog, proxyEnvironment } from "./run.js";
export { startNodeRelay, type NodeRelay, type RelayAnswer, type RelayDecider } from "./node-relay.js";
export { startHostProxy, type HostProxy, type HostProxyOptions } from "./host-proxy.js";
