/** `lambda` and `shadeform` connection kinds: the YAML schema and the credentials the registry builds. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConnectionsFileSchema } from '../../../../src/config/connections.js';
import { LambdaCredential } from '../../../../src/providers/lambda/index.js';
import { credentialFor } from '../../../../src/providers/registry.js';
import { ShadeformCredential } from '../../../../src/providers/shadeform/index.js';

describe('lambda and shadeform connections', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gpuflow-conn-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const keyFile = join(dir, 'key');
  writeFileSync(keyFile, 'the_api_key_123\n', { mode: 0o600 });

  it('parses both kinds, with baseUrl optional', () => {
    const parsed = ConnectionsFileSchema.parse({
      connections: [
        { kind: 'lambda', name: 'lambda', apiKeyFile: keyFile },
        { kind: 'shadeform', name: 'sf', apiKeyFile: keyFile, baseUrl: 'http://127.0.0.1:9/v1', testReplica: true, provisioningTimeout: 600000 },
      ],
    });
    assert.equal(parsed.connections.length, 2);
    assert.equal(ConnectionsFileSchema.safeParse({ connections: [{ kind: 'lambda', name: 'lambda' }] }).success, false, 'apiKeyFile is required');
    assert.equal(ConnectionsFileSchema.safeParse({ connections: [{ kind: 'lambda', name: 'lambda', apiKeyFile: keyFile, apiKey: 'inline' }] }).success, false, 'no inline keys');
  });

  it('builds credentials that read the key file (trimmed) and keep it hidden', async () => {
    const l = credentialFor({ kind: 'lambda', name: 'lambda', apiKeyFile: keyFile });
    assert.ok(l instanceof LambdaCredential);
    assert.equal(l.apiKey, 'the_api_key_123');
    assert.equal(l.baseUrl, 'https://cloud.lambda.ai');
    assert.equal(l.getReferenceId(), 'lambda');
    assert.equal(l.getCloudProviderId(), 'lambda-labs');
    assert.ok(!JSON.stringify(l).includes('the_api_key_123'));
    const s = credentialFor({ kind: 'shadeform', name: 'sf', apiKeyFile: keyFile, baseUrl: 'http://127.0.0.1:9/v1', testReplica: true });
    assert.ok(s instanceof ShadeformCredential);
    assert.equal(s.baseUrl, 'http://127.0.0.1:9/v1');
    assert.equal(s.testReplica, true);
    assert.throws(() => credentialFor({ kind: 'shadeform', name: 'sf', apiKeyFile: keyFile, baseUrl: 'https://api.shadeform.ai/v1', testReplica: true }), /loopback/);
  });
});
