import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConnectionsFileSchema } from '../../../../src/config/connections.js';
import { GcpCredential } from '../../../../src/providers/gcp/index.js';
import { credentialFor, defaultBilling } from '../../../../src/providers/registry.js';
import { testServiceAccount } from '../../../replicas/gcp/serviceAccount.js';

const dir = mkdtempSync(join(tmpdir(), 'gpuflow-gcp-connection-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const parse = (c: Record<string, unknown>) => ConnectionsFileSchema.parse({ connections: [{ kind: 'gcp', name: 'gcp-a', regions: ['us-central1'], ...c }] }).connections[0]!;
const noStore = () => {
  throw new Error('no store in this test');
};

describe('gcp connections', () => {
  it('reads a service-account key file; the project comes from it; the key is never shown', () => {
    const sa = testServiceAccount('my-gpu-project');
    const file = join(dir, 'sa.json');
    writeFileSync(file, JSON.stringify(sa.key, null, 2), { mode: 0o600 });
    const cred = credentialFor(parse({ apiKeyFile: file }), noStore) as GcpCredential;
    assert.ok(cred instanceof GcpCredential);
    assert.deepEqual(cred.toJSON(), { provider: 'gcp', refId: 'gcp-a', project: 'my-gpu-project', regions: ['us-central1'], auth: 'service-account-key' });
    const line = sa.key.private_key.split('\n')[2]!;
    assert.ok(!JSON.stringify(cred).includes(line));
  });

  it('without a key file uses Application Default Credentials, which need the project', () => {
    assert.equal((credentialFor(parse({ project: 'my-gpu-project' }), noStore) as GcpCredential).toJSON().auth, 'application-default');
    assert.throws(() => credentialFor(parse({}), noStore), /project is required with Application Default Credentials/);
  });

  it('says how to fix a bad key file without showing it', () => {
    const sa = testServiceAccount();
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...sa.key, private_key: 'not-a-pem-but-secret-looking' }), { mode: 0o600 });
    assert.throws(
      () => credentialFor(parse({ apiKeyFile: bad }), noStore),
      (e: Error) => /private_key: private_key must be the PEM private key/.test(e.message) && !e.message.includes('not-a-pem-but-secret-looking'),
    );
  });

  it('refuses a region outside the region → country table, naming the fix', () => {
    const sa = testServiceAccount();
    assert.throws(() => new GcpCredential({ refId: 'x', regions: ['mars-north1'], key: sa.key }), /regions\.0: region is not in the adapter's region → country table/);
  });

  it('bills per second with a one-minute minimum', () => {
    assert.deepEqual(defaultBilling('gcp'), { granularity: 'second', minimumSeconds: 60 });
  });
});
