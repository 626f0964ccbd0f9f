/** A `kind: nebius` connection in connections.yaml → its credential (the token file read, never shown). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConnectionsFileSchema } from '../../../../src/config/connections.js';
import { NebiusCredential } from '../../../../src/providers/nebius/index.js';
import { credentialFor, defaultBilling } from '../../../../src/providers/registry.js';

const dir = mkdtempSync(join(tmpdir(), 'gpuflow-nebius-connection-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const projects = { 'eu-north1': { projectId: 'project-e00abc123', subnetId: 'vpcsubnet-e00abc123' } };
const parse = (c: Record<string, unknown>) => ConnectionsFileSchema.parse({ connections: [{ kind: 'nebius', name: 'nebius-a', projects, ...c }] }).connections[0]!;
const noStore = () => {
  throw new Error('no store in this test');
};

describe('nebius connections', () => {
  it('reads the IAM token file (trailing newline trimmed); the token is never shown', () => {
    const token = 'ne1TOKENabcdefghijklmnopqrstuvwxyz0123456789';
    const file = join(dir, 'token');
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    const cred = credentialFor(parse({ apiKeyFile: file }), noStore) as NebiusCredential;
    assert.ok(cred instanceof NebiusCredential);
    assert.equal(cred.iamToken, token);
    assert.deepEqual(cred.toJSON(), { provider: 'nebius', refId: 'nebius-a', endpoint: 'compute.api.nebius.cloud:443', regions: ['eu-north1'], auth: 'iam-token' });
    assert.ok(!JSON.stringify(cred).includes(token));
  });

  it('names the bad field and the fix', () => {
    const file = join(dir, 'token2');
    writeFileSync(file, 'ne1TOKENabcdefghijklmnopqrstuvwxyz0123456789', { mode: 0o600 });
    assert.throws(() => credentialFor(parse({ apiKeyFile: file, projects: { 'eu-north1': { projectId: 'project-e00abc', subnetId: 'subnet-1' } } }), noStore), /subnetId must be a Nebius subnet ID such as vpcsubnet-/);
    assert.throws(() => credentialFor(parse({ apiKeyFile: file, endpoint: 'https://compute.api.nebius.cloud' }), noStore), /endpoint must be host:port/);
  });

  it('bills per second', () => {
    assert.deepEqual(defaultBilling('nebius'), { granularity: 'second', minimumSeconds: 0 });
  });
});
