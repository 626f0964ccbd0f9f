import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConnectionsFileSchema } from '../../../../src/config/connections.js';
import { AwsCredential } from '../../../../src/providers/aws/index.js';
import { credentialFor, defaultBilling } from '../../../../src/providers/registry.js';

const dir = mkdtempSync(join(tmpdir(), 'gpuflow-aws-connection-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const parse = (c: Record<string, unknown>) => ConnectionsFileSchema.parse({ connections: [{ kind: 'aws', name: 'aws-a', regions: ['us-east-1'], ...c }] }).connections[0]!;
const noStore = () => {
  throw new Error('no store in this test');
};

describe('aws connections', () => {
  it('needs no secret source: the SDK default chain (or a profile) finds the credentials', () => {
    const cred = credentialFor(parse({ profile: 'gpu-team' }), noStore) as AwsCredential;
    assert.ok(cred instanceof AwsCredential);
    assert.deepEqual(cred.toJSON(), { provider: 'aws', refId: 'aws-a', regions: ['us-east-1'], auth: 'profile:gpu-team' });
    assert.equal((credentialFor(parse({}), noStore) as AwsCredential).toJSON().auth, 'default-chain');
  });

  it('reads static keys as JSON from apiKeyFile, and says how to fix a bad file without showing it', () => {
    const good = join(dir, 'keys.json');
    writeFileSync(good, JSON.stringify({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }), { mode: 0o600 });
    const cred = credentialFor(parse({ apiKeyFile: good }), noStore) as AwsCredential;
    assert.equal(cred.toJSON().auth, 'static-keys');
    assert.ok(!JSON.stringify(cred).includes('wJalrXUtnFEMI'));
    const bad = join(dir, 'bad.key');
    writeFileSync(bad, 'AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG', { mode: 0o600 });
    assert.throws(() => credentialFor(parse({ apiKeyFile: bad }), noStore), (e: Error) => /must be JSON \{"accessKeyId"/.test(e.message) && !e.message.includes('wJalrXUtnFEMI'));
  });

  it('refuses two secret sources, naming the field', () => {
    const r = ConnectionsFileSchema.safeParse({ connections: [{ kind: 'aws', name: 'aws-a', regions: ['us-east-1'], apiKeyFile: '/k', credentialRef: 'aws-a' }] });
    assert.ok(!r.success);
    assert.deepEqual(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`), ['connections.0.credentialRef: set only one of apiKeyFile and credentialRef']);
  });

  it('refuses a connection without regions, naming the field', () => {
    const r = ConnectionsFileSchema.safeParse({ connections: [{ kind: 'aws', name: 'aws-a' }] });
    assert.ok(!r.success);
    assert.match(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'), /connections\.0\.regions/);
  });

  it('bills per second with a one-minute minimum', () => {
    assert.deepEqual(defaultBilling('aws'), { granularity: 'second', minimumSeconds: 60 });
  });
});
