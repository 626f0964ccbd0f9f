/**
 * The host firewall script of Brev's Shadeform provider (`v1/providers/shadeform/firewall.go`),
 * reproduced command for command so instances end up with the same policy on every cloud:
 *
 * - UFW denies all inbound traffic and allows all outbound by default; SSH (22 and 2222) stays
 *   reachable, and each ingress / egress rule opens what it names.
 * - Docker publishes container ports through its own iptables chains, which bypass UFW. The
 *   DOCKER-USER chain is consulted first, so it is rebuilt to let containers reach out and talk to
 *   each other, and to drop everything else arriving from outside: a `docker run -p 8080:8080` is
 *   not exposed to the internet unless a rule says so.
 *
 * Rules are validated first (ports 1-65535 with from <= to, IP ranges as IPv4/IPv6 addresses or
 * CIDRs) because the script runs as root: an IP range must never be able to carry shell text.
 */
import { FirewallRulesSchema, type FirewallRule, type FirewallRules } from './types.js';

/** SSH ports opened before any rule: 22 for the host, 2222 for providers' alternate sshd. */
export const DEFAULT_SSH_PORTS: readonly number[] = [22, 2222];

/** The DOCKER-USER chain, in order. Extra spaces are as in the Go constants. */
export const DOCKER_USER_CHAIN_COMMANDS: readonly string[] = [
  // Create before flushing: the script may run before Docker has set up iptables.
  'iptables -N DOCKER-USER || true',
  'iptables -F DOCKER-USER',
  // Return traffic.
  'iptables -A DOCKER-USER -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
  // Containers may initiate outbound traffic (default bridge, user bridges, CNI, Calico).
  'iptables -A DOCKER-USER -i docker0 ! -o docker0 -j ACCEPT',
  'iptables -A DOCKER-USER -i br+     ! -o br+     -j ACCEPT',
  'iptables -A DOCKER-USER -i cni+    ! -o cni+    -j ACCEPT',
  'iptables -A DOCKER-USER -i cali+   ! -o cali+   -j ACCEPT',
  // Container to container on the same bridge.
  'iptables -A DOCKER-USER -i docker0 -o docker0 -j ACCEPT',
  'iptables -A DOCKER-USER -i br+     -o br+     -j ACCEPT',
  'iptables -A DOCKER-USER -i cni+    -o cni+    -j ACCEPT',
  'iptables -A DOCKER-USER -i cali+   -o cali+   -j ACCEPT',
  // Loopback and the NetBird overlay interface.
  'iptables -A DOCKER-USER -i lo -j ACCEPT',
  'iptables -A DOCKER-USER -i wt0 -j ACCEPT',
  // SSH into containers.
  'iptables -A DOCKER-USER -p tcp --dport 22 -j ACCEPT',
  // Everything else from outside is dropped; RETURN is what Docker expects at the end.
  'iptables -A DOCKER-USER -j DROP',
  'iptables -A DOCKER-USER -j RETURN',
];

/** The script: UFW commands, then the DOCKER-USER chain, each line ending in "\n". */
export function generateFirewallScript(rules: FirewallRules): string {
  const parsed = FirewallRulesSchema.parse(rules);
  for (const r of [...parsed.ingressRules, ...parsed.egressRules]) r.ipRanges.forEach(assertIpRange);
  const commands = [...ufwCommands(parsed), ...DOCKER_USER_CHAIN_COMMANDS];
  return commands.map((c) => `${c}\n`).join('');
}

/** The script as Shadeform's `ScriptConfiguration.Base64Script` wants it. */
export function firewallScriptBase64(rules: FirewallRules): string {
  return Buffer.from(generateFirewallScript(rules), 'utf8').toString('base64');
}

function ufwCommands(rules: FirewallRules): string[] {
  return [
    'ufw --force reset',
    'ufw default deny incoming',
    'ufw default allow outgoing',
    ...DEFAULT_SSH_PORTS.map((p) => `ufw allow ${p}/tcp`),
    ...rules.ingressRules.flatMap((r) => ingressCommands(r)),
    ...rules.egressRules.flatMap((r) => egressCommands(r)),
    'ufw --force enable',
  ];
}

/** `port N`, or for a range one spec per protocol: UFW needs a protocol with a range. */
function portSpecs(r: FirewallRule): string[] {
  if (r.fromPort === r.toPort) return [`port ${r.fromPort}`];
  return [`port ${r.fromPort}:${r.toPort} proto tcp`, `port ${r.fromPort}:${r.toPort} proto udp`];
}

function ingressCommands(r: FirewallRule): string[] {
  const sources = r.ipRanges.length > 0 ? r.ipRanges : ['any'];
  return sources.flatMap((ip) => portSpecs(r).map((spec) => `ufw allow in from ${ip} to any ${spec}`));
}

function egressCommands(r: FirewallRule): string[] {
  const destinations = r.ipRanges.length > 0 ? r.ipRanges : ['any'];
  return destinations.flatMap((ip) => portSpecs(r).map((spec) => `ufw allow out to ${ip} ${spec}`));
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6_CHARS = /^[0-9A-Fa-f:.]+$/;

/** An IPv4/IPv6 address with an optional /prefix; anything else is refused. */
function assertIpRange(range: string): void {
  const [address, prefix, ...rest] = range.split('/') as [string, ...string[]];
  const isV4 = IPV4.test(address);
  const isV6 = !isV4 && IPV6_CHARS.test(address) && address.includes(':') && address.split(':').length <= 9;
  const maxPrefix = isV4 ? 32 : 128;
  const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= maxPrefix);
  if ((!isV4 && !isV6) || !prefixOk || rest.length > 0) {
    throw new RangeError(`firewall ipRange "${range}" is not an IPv4/IPv6 address or CIDR such as 203.0.113.0/24`);
  }
}
