/** The `ssh` connection kind: the YAML schema, its messages, and the credential the registry builds. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, describe, it } from 'node:test';
import { ConnectionsFileSchema } from '../../../../src/config/connections.js';
import { credentialFor, defaultBilling } from '../../../../src/providers/registry.js';
import { SshFleetCredential } from '../../../../src/providers/ssh/index.js';
import { generateSshKeyPair } from '../../../../src/ssh/sshClient.js';

describe('ssh fleet connections', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gpuflow-conn-ssh-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const key = generateSshKeyPair('t').privateKey;
  const keyFile = join(dir, 'id');
  writeFileSync(keyFile, key, { mode: 0o600 });
  const base = { kind: 'ssh', name: 'lab', country: 'DEU', pricePerGpuHour: '1.20' };

  it('parses hosts with defaults, no secret source needed', () => {
    const c = ConnectionsFileSchema.parse({ connections: [{ ...base, identityFile: keyFile, hosts: [{ host: 'gpu1.lab', user: 'ml' }, { host: 'gpu2.lab', user: 'ml', port: 2222, gpus: { name: 'H100 80GB', count: 8 } }] }] }).connections[0]!;
    assert.equal(c.kind, 'ssh');
    if (c.kind !== 'ssh') return;
    assert.equal(c.region, 'on-prem');
    assert.deepEqual([c.hosts[0]!.port, c.hosts[0]!.leasePorts, c.hosts[0]!.listenAddress], [22, '22000-22099', '0.0.0.0']);
    assert.equal(defaultBilling('ssh').granularity, 'second');
  });

  it('refuses what it cannot use, naming the field and the fix', () => {
    const issues = (conn: Record<string, unknown>) => {
      const r = ConnectionsFileSchema.safeParse({ connections: [conn] });
      assert.equal(r.success, false, JSON.stringify(conn));
      return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    };
    assert.match(issues({ ...base, hosts: [{ host: 'a', user: 'u' }] }), /hosts\.0\.identityFile: set identityFile on the host or the connection/);
    assert.match(issues({ ...base, identityFile: keyFile, hosts: [] }), /hosts: hosts must list at least one machine/);
    assert.match(issues({ ...base, identityFile: keyFile, hosts: [{ host: 'a', user: 'u' }, { host: 'a', user: 'v' }] }), /two hosts are named "a"/);
    assert.match(issues({ ...base, identityFile: keyFile, pricePerGpuHour: '1,20', hosts: [{ host: 'a', user: 'u' }] }), /pricePerGpuHour must be a decimal amount/);
    assert.match(issues({ ...base, identityFile: keyFile, country: 'DE', hosts: [{ host: 'a', user: 'u' }] }), /country: country must be an upper-case ISO 3166-1 alpha-3/);
    assert.match(issues({ ...base, identityFile: keyFile, hosts: [{ host: 'a', user: 'u', leasePorts: '80-90' }] }), /leasePorts must lie within 1024-65535/);
    assert.match(issues({ ...base, identityFile: keyFile, hosts: [{ host: 'a', user: 'u', listenAddress: '0.0.0.0; rm -rf ~' }] }), /listenAddress must be an IP address or hostname/);
    assert.match(issues({ ...base, identityFile: keyFile, hosts: [{ host: 'a', user: 'u', proxyJump: 'bastion' }] }), /proxyJump/);
  });

  it('builds a credential that reads each identity file and keeps the keys out of JSON and inspection', () => {
    const conn = ConnectionsFileSchema.parse({ connections: [{ ...base, identityFile: keyFile, hosts: [{ host: 'gpu1.lab', user: 'ml' }] }] }).connections[0]!;
    const c = credentialFor(conn);
    assert.ok(c instanceof SshFleetCredential);
    assert.equal(c.privateKeys.get('gpu1.lab'), key);
    assert.equal(c.getCloudProviderId(), 'ssh-fleet');
    assert.ok(!JSON.stringify(c).includes(key.split('\n')[1]!));
    assert.ok(!inspect(c, { depth: 5 }).includes(key.split('\n')[1]!));
    const missing = ConnectionsFileSchema.parse({ connections: [{ ...base, identityFile: join(dir, 'nope'), hosts: [{ host: 'gpu1.lab', user: 'ml' }] }] }).connections[0]!;
    assert.throws(() => credentialFor(missing), /identityFile: cannot read .*nope \(ENOENT\)/);
  });
});
