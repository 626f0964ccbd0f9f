/** The `vastai` connection kind: the YAML schema, the credential the registry builds, and its billing. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConnectionsFileSchema } from '../../../../src/config/connections.js';
import { credentialFor, defaultBilling } from '../../../../src/providers/registry.js';
import { VastaiCredential } from '../../../../src/providers/vastai/index.js';

describe('vastai connections', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gpuflow-conn-vast-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const keyFile = join(dir, 'key');
  const key = '0123456789abcdef'.repeat(4);
  writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });

  it('parses the kind with baseUrl optional, and refuses inline keys and bad URLs, naming the field', () => {
    const parsed = ConnectionsFileSchema.parse({ connections: [{ kind: 'vastai', name: 'vast', apiKeyFile: keyFile, baseUrl: 'http://127.0.0.1:9', testReplica: true }] });
    assert.equal(parsed.connections[0].kind, 'vastai');
    assert.equal(ConnectionsFileSchema.safeParse({ connections: [{ kind: 'vastai', name: 'vast', apiKeyFile: keyFile, apiKey: key }] }).success, false, 'no inline keys');
    const bad = ConnectionsFileSchema.safeParse({ connections: [{ kind: 'vastai', name: 'vast', apiKeyFile: keyFile, baseUrl: 'console.vast.ai' }] });
    assert.equal(bad.success, false);
    assert.match(JSON.stringify(bad.error?.issues), /baseUrl must be a URL such as https:\/\/console.vast.ai/);
  });

  it('builds a credential that reads the key file (trimmed) and keeps it hidden', () => {
    const c = credentialFor({ kind: 'vastai', name: 'vast', apiKeyFile: keyFile });
    assert.ok(c instanceof VastaiCredential);
    assert.equal(c.apiKey, key);
    assert.equal(c.baseUrl, 'https://console.vast.ai');
    assert.equal(c.getReferenceId(), 'vast');
    assert.equal(c.getCloudProviderId(), 'vastai');
    assert.ok(!JSON.stringify(c).includes(key));
    const r = credentialFor({ kind: 'vastai', name: 'vast', apiKeyFile: keyFile, baseUrl: 'http://127.0.0.1:9', testReplica: true });
    assert.ok(r instanceof VastaiCredential && r.testReplica);
    assert.throws(() => credentialFor({ kind: 'vastai', name: 'vast', apiKeyFile: keyFile, baseUrl: 'https://console.vast.ai', testReplica: true }), /loopback/);
  });

  it('bills per second by default (vast.ai/pricing: "Per-second billing")', () => {
    assert.deepEqual(defaultBilling('vastai'), defaultBilling('local'));
  });
});
