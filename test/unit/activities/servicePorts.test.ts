import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateFirewallScript } from '../../../src/providers/sdk/firewall.js';
import {
  endpointsFor,
  firewallRulesFor,
  healthCheckPort,
  hostPortOf,
  needsPortMapping,
  publishedPortAcceptCommands,
} from '../../../src/activities/servicePorts.js';

const PORTS = [
  { port: 8000, public: true, hostPort: 18000 },
  { port: 9090, public: false, hostPort: 19090 },
  { port: 22, public: false },
  { port: 443, public: true },
];

describe('service ports', () => {
  it('defaults the host port to the port', () => {
    assert.deepEqual(PORTS.map(hostPortOf), [18000, 19090, 22, 443]);
    assert.equal(needsPortMapping(PORTS), true);
    assert.equal(needsPortMapping([{ port: 80, public: true }, { port: 81, public: false, hostPort: 81 }]), false);
  });

  it('opens the host ports of public ports only, deduplicated', () => {
    const rules = firewallRulesFor([...PORTS, { port: 8001, public: true, hostPort: 443 }]);
    assert.deepEqual(rules.ingressRules, [
      { fromPort: 443, toPort: 443, ipRanges: [] },
      { fromPort: 18000, toPort: 18000, ipRanges: [] },
    ]);
    const script = generateFirewallScript(rules);
    assert.match(script, /^ufw allow in from any to any port 18000$/m);
    assert.doesNotMatch(script, /port (8000|9090|19090)\b/);
  });

  it('lets published public ports through DOCKER-USER, by the port the client dialled', () => {
    assert.deepEqual(publishedPortAcceptCommands(PORTS), [
      'iptables -I DOCKER-USER 1 -p tcp -m conntrack --ctorigdstport 443 -j ACCEPT',
      'iptables -I DOCKER-USER 1 -p tcp -m conntrack --ctorigdstport 18000 -j ACCEPT',
    ]);
    assert.deepEqual(publishedPortAcceptCommands([{ port: 80, public: true }]), [], 'host networking does not pass DOCKER-USER');
  });

  it('gives public endpoints a URL on the public address and internal ones the private address', () => {
    const inst = { publicIp: '203.0.113.7', privateIp: '10.0.0.5', publicDns: '' };
    assert.deepEqual(endpointsFor(PORTS.slice(0, 2), inst), [
      { port: 8000, hostPort: 18000, public: true, host: '203.0.113.7', url: 'http://203.0.113.7:18000' },
      { port: 9090, hostPort: 19090, public: false, host: '10.0.0.5' },
    ]);
    assert.deepEqual(endpointsFor([{ port: 9090, public: false }], { publicIp: '', privateIp: '', publicDns: 'node.example' }), [
      { port: 9090, hostPort: 9090, public: false, host: 'node.example' },
    ]);
  });

  it('checks a declared port where the node exposes it; an undeclared one on the node itself', () => {
    assert.deepEqual(healthCheckPort(PORTS, 8000), { hostPort: 18000, public: true });
    assert.deepEqual(healthCheckPort(PORTS, 9090), { hostPort: 19090, public: false });
    assert.deepEqual(healthCheckPort(PORTS, 7000), { hostPort: 7000, public: false });
  });
});
