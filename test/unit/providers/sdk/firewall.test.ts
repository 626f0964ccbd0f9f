import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_SSH_PORTS,
  DOCKER_USER_CHAIN_COMMANDS,
  firewallScriptBase64,
  generateFirewallScript,
} from '../../../../src/providers/sdk/firewall.js';
import type { FirewallRules } from '../../../../src/providers/sdk/types.js';

const DOCKER_USER = `iptables -N DOCKER-USER || true
iptables -F DOCKER-USER
iptables -A DOCKER-USER -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
iptables -A DOCKER-USER -i docker0 ! -o docker0 -j ACCEPT
iptables -A DOCKER-USER -i br+     ! -o br+     -j ACCEPT
iptables -A DOCKER-USER -i cni+    ! -o cni+    -j ACCEPT
iptables -A DOCKER-USER -i cali+   ! -o cali+   -j ACCEPT
iptables -A DOCKER-USER -i docker0 -o docker0 -j ACCEPT
iptables -A DOCKER-USER -i br+     -o br+     -j ACCEPT
iptables -A DOCKER-USER -i cni+    -o cni+    -j ACCEPT
iptables -A DOCKER-USER -i cali+   -o cali+   -j ACCEPT
iptables -A DOCKER-USER -i lo -j ACCEPT
iptables -A DOCKER-USER -i wt0 -j ACCEPT
iptables -A DOCKER-USER -p tcp --dport 22 -j ACCEPT
iptables -A DOCKER-USER -j DROP
iptables -A DOCKER-USER -j RETURN
`;

const UFW_HEAD = `ufw --force reset
ufw default deny incoming
ufw default allow outgoing
ufw allow 22/tcp
ufw allow 2222/tcp
`;

const RULES: FirewallRules = {
  ingressRules: [
    { fromPort: 8080, toPort: 8080, ipRanges: [] },
    { fromPort: 6000, toPort: 6010, ipRanges: ['10.0.0.0/8', '192.168.1.7'] },
    { fromPort: 443, toPort: 443, ipRanges: ['2001:db8::/32'] },
  ],
  egressRules: [
    { fromPort: 53, toPort: 53, ipRanges: ['1.1.1.1/32'] },
    { fromPort: 3000, toPort: 3001, ipRanges: [] },
  ],
};

describe('generateFirewallScript', () => {
  test('reproduces the Shadeform script for a representative rule set', () => {
    const expected =
      UFW_HEAD +
      `ufw allow in from any to any port 8080
ufw allow in from 10.0.0.0/8 to any port 6000:6010 proto tcp
ufw allow in from 10.0.0.0/8 to any port 6000:6010 proto udp
ufw allow in from 192.168.1.7 to any port 6000:6010 proto tcp
ufw allow in from 192.168.1.7 to any port 6000:6010 proto udp
ufw allow in from 2001:db8::/32 to any port 443
ufw allow out to 1.1.1.1/32 port 53
ufw allow out to any port 3000:3001 proto tcp
ufw allow out to any port 3000:3001 proto udp
ufw --force enable
` +
      DOCKER_USER;
    assert.equal(generateFirewallScript(RULES), expected);
  });

  test('no rules: deny inbound, allow outbound, SSH only', () => {
    assert.equal(generateFirewallScript({ ingressRules: [], egressRules: [] }), `${UFW_HEAD}ufw --force enable\n${DOCKER_USER}`);
  });

  test('missing rule arrays are treated as empty', () => {
    assert.equal(generateFirewallScript({} as FirewallRules), `${UFW_HEAD}ufw --force enable\n${DOCKER_USER}`);
  });

  test('every line is newline-terminated, none is empty', () => {
    const script = generateFirewallScript(RULES);
    assert.ok(script.endsWith('\n'));
    assert.ok(!script.includes('\n\n'));
    assert.equal(script.split('\n').length - 1, 5 + 9 + 1 + 16);
  });

  test('-N DOCKER-USER comes before -F DOCKER-USER, and ufw is enabled before iptables runs', () => {
    const lines = generateFirewallScript(RULES).split('\n');
    const create = lines.indexOf('iptables -N DOCKER-USER || true');
    const flush = lines.indexOf('iptables -F DOCKER-USER');
    assert.ok(create >= 0 && flush >= 0);
    assert.equal(flush, create + 1);
    assert.ok(lines.indexOf('ufw --force enable') < create);
  });

  test('DROP is the second-to-last rule and RETURN the last', () => {
    assert.deepEqual(DOCKER_USER_CHAIN_COMMANDS.slice(-2), ['iptables -A DOCKER-USER -j DROP', 'iptables -A DOCKER-USER -j RETURN']);
  });

  test('ingress rules come before egress rules, in the given order', () => {
    const script = generateFirewallScript({
      ingressRules: [{ fromPort: 2, toPort: 2, ipRanges: [] }],
      egressRules: [{ fromPort: 1, toPort: 1, ipRanges: [] }],
    });
    assert.ok(script.indexOf('ufw allow in from any to any port 2\n') < script.indexOf('ufw allow out to any port 1\n'));
  });

  test('DEFAULT_SSH_PORTS are the ports opened before any rule', () => {
    assert.deepEqual([...DEFAULT_SSH_PORTS], [22, 2222]);
  });

  test('rejects IP ranges that are not addresses or CIDRs (the script runs as root)', () => {
    for (const bad of ['10.0.0.0/8; rm -rf /', '$(reboot)', 'any', '10.0.0.0/33', '300.1.1.1', '10.0.0.0/8/8', 'example.com', '']) {
      assert.throws(
        () => generateFirewallScript({ ingressRules: [{ fromPort: 22, toPort: 22, ipRanges: [bad] }], egressRules: [] }),
        (e: unknown) => e instanceof RangeError && e.message.includes('ipRange'),
        bad,
      );
    }
    assert.throws(() => generateFirewallScript({ ingressRules: [], egressRules: [{ fromPort: 22, toPort: 22, ipRanges: ['a b'] }] }), RangeError);
  });

  test('accepts IPv6 forms', () => {
    for (const ok of ['::1', '::/0', 'fe80::1/64', '2001:db8:0:0:0:0:0:1', '::ffff:192.0.2.1']) {
      assert.doesNotThrow(() => generateFirewallScript({ ingressRules: [{ fromPort: 22, toPort: 22, ipRanges: [ok] }], egressRules: [] }), ok);
    }
  });

  test('rejects an inverted or out-of-range port range', () => {
    assert.throws(() => generateFirewallScript({ ingressRules: [{ fromPort: 10, toPort: 5, ipRanges: [] }], egressRules: [] }), /fromPort must be <= toPort/);
    assert.throws(() => generateFirewallScript({ ingressRules: [{ fromPort: 0, toPort: 5, ipRanges: [] }], egressRules: [] }));
    assert.throws(() => generateFirewallScript({ ingressRules: [{ fromPort: 1, toPort: 70000, ipRanges: [] }], egressRules: [] }));
  });
});

describe('firewallScriptBase64', () => {
  test('is the base64 of the script', () => {
    const b64 = firewallScriptBase64(RULES);
    assert.match(b64, /^[A-Za-z0-9+/]+=*$/);
    assert.equal(Buffer.from(b64, 'base64').toString('utf8'), generateFirewallScript(RULES));
  });

  test('known value for the empty rule set starts with "ufw --force reset\\n"', () => {
    assert.ok(firewallScriptBase64({ ingressRules: [], egressRules: [] }).startsWith(Buffer.from('ufw --force reset\n').toString('base64').slice(0, 20)));
  });
});
