/** The `fluidstack` connection kind: the YAML schema and the credential the registry builds. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConnectionsFileSchema } from '../../../../src/config/connections.js';
import { FluidstackCredential } from '../../../../src/providers/fluidstack/index.js';
import { credentialFor } from '../../../../src/providers/registry.js';

const PROJECT = '123e4567-e89b-12d3-a456-426614174003';

describe('fluidstack connections', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gpuflow-conn-fs-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const keyFile = join(dir, 'token');
  writeFileSync(keyFile, 'the_fluidstack_token_123\n', { mode: 0o600 });
  const conn = { kind: 'fluidstack', name: 'fs', apiKeyFile: keyFile, regions: [{ name: 'finland-1', projectId: PROJECT, country: 'FI' }], prices: { 'h100-hgx-80gb.8x': { onDemand: '23.92' } } };

  it('parses regions (country to alpha-3) and prices, and names bad fields', () => {
    const parsed = ConnectionsFileSchema.parse({ connections: [conn] });
    const c = parsed.connections[0];
    assert.equal(c.kind, 'fluidstack');
    assert.equal(c.kind === 'fluidstack' && c.regions[0].country, 'FIN');
    const bad = ConnectionsFileSchema.safeParse({ connections: [{ ...conn, regions: [{ name: 'finland-1', projectId: 'p1', country: 'FI' }], prices: { 'h100-hgx-80gb.8x': { onDemand: 23.92 } } }] });
    assert.equal(bad.success, false);
    const issues = bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    assert.match(issues, /connections\.0\.regions\.0\.projectId: regions\[\]\.projectId must be the UUID/);
    assert.match(issues, /connections\.0\.prices\.h100-hgx-80gb\.8x\.onDemand: prices\.<type>\.onDemand must be a decimal USD amount/);
    assert.equal(ConnectionsFileSchema.safeParse({ connections: [{ ...conn, regions: [] }] }).success, false, 'at least one region');
    assert.equal(ConnectionsFileSchema.safeParse({ connections: [{ ...conn, apiToken: 'inline' }] }).success, false, 'no inline tokens');
  });

  it('builds a credential that reads the token file (trimmed) and keeps it hidden', async () => {
    const parsed = ConnectionsFileSchema.parse({ connections: [conn] }).connections[0];
    assert.ok(parsed.kind === 'fluidstack');
    const c = credentialFor(parsed);
    assert.ok(c instanceof FluidstackCredential);
    assert.equal(c.apiToken, 'the_fluidstack_token_123');
    assert.equal(c.getReferenceId(), 'fs');
    assert.equal(c.getCloudProviderId(), 'fluidstack');
    assert.equal(c.getApiType(), 'locational');
    assert.equal(c.regions[0].url, 'https://finland-1.atlas.fluidstack.io/api/v1alpha1');
    assert.ok(!JSON.stringify(c).includes('the_fluidstack_token_123'));
    assert.throws(() => credentialFor({ ...parsed, testReplica: true }), /loopback/);
  });
});
