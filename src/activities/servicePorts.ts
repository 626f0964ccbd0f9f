/**
 * A workload's ports on the node: where each is exposed (`hostPort`, default = its own port), what
 * the firewall opens for it, and the connection details a caller gets. Pure, so bootstrap, the job
 * script and the service activities agree.
 */
import type { FirewallRules } from '../providers/sdk/types.js';
import type { Instance } from '../providers/sdk/types.js';
import type { ServiceEndpoint, ServicePort } from './types.js';

export function hostPortOf(p: ServicePort): number {
  return p.hostPort ?? p.port;
}

/** True when some port is exposed on another host port, so Docker must publish instead of sharing the host network. */
export function needsPortMapping(ports: readonly ServicePort[]): boolean {
  return ports.some((p) => hostPortOf(p) !== p.port);
}

/** Public ports open their host port; internal-only ports stay closed to the outside. */
export function firewallRulesFor(ports: readonly ServicePort[]): FirewallRules {
  const open = [...new Set(ports.filter((p) => p.public).map(hostPortOf))].sort((a, b) => a - b);
  return { ingressRules: open.map((port) => ({ fromPort: port, toPort: port, ipRanges: [] })), egressRules: [] };
}

/**
 * Published container ports (`docker run -p`) bypass UFW and meet the DOCKER-USER chain, which the
 * firewall script ends with a DROP: a public port needs its own ACCEPT there, matched on the port
 * the client dialled (before Docker's DNAT rewrote it to the container port). Inserted at the top,
 * after the script has rebuilt the chain.
 */
export function publishedPortAcceptCommands(ports: readonly ServicePort[]): string[] {
  if (!needsPortMapping(ports)) return [];
  return firewallRulesFor(ports).ingressRules.map((r) => `iptables -I DOCKER-USER 1 -p tcp -m conntrack --ctorigdstport ${r.fromPort} -j ACCEPT`);
}

/**
 * Connection details: public ports at the instance's public address (with a URL), internal-only
 * ports at its private address (reachable from its network only), falling back to the public one.
 */
export function endpointsFor(ports: readonly ServicePort[], inst: Pick<Instance, 'publicIp' | 'privateIp' | 'publicDns'>): ServiceEndpoint[] {
  const publicHost = inst.publicIp || inst.publicDns;
  return ports.map((p) => {
    const hostPort = hostPortOf(p);
    const host = p.public ? publicHost : inst.privateIp || publicHost;
    return { port: p.port, hostPort, public: p.public, host, ...(p.public && host ? { url: `http://${host}:${hostPort}` } : {}) };
  });
}

/** The port a health check targets, as the node exposes it; a port not declared counts as internal-only. */
export function healthCheckPort(ports: readonly ServicePort[], port: number): { hostPort: number; public: boolean } {
  const declared = ports.find((p) => p.port === port);
  return declared ? { hostPort: hostPortOf(declared), public: declared.public } : { hostPort: port, public: false };
}
