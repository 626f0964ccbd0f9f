import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, describe, it } from 'node:test';
import { ConnectionsFileSchema } from '../../../../src/config/connections.js';
import { AzureCredential } from '../../../../src/providers/azure/index.js';
import { credentialFor, defaultBilling } from '../../../../src/providers/registry.js';
import { testServicePrincipal } from '../../../replicas/azure/servicePrincipal.js';

const dir = mkdtempSync(join(tmpdir(), 'gpuflow-azure-connection-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const parse = (c: Record<string, unknown>) => ConnectionsFileSchema.parse({ connections: [{ kind: 'azure', name: 'azure-a', regions: ['eastus'], resourceGroup: 'gpuflow', ...c }] }).connections[0]!;
const noStore = () => {
  throw new Error('no store in this test');
};
const secretFile = (name: string, body: unknown) => {
  const file = join(dir, name);
  writeFileSync(file, typeof body === 'string' ? body : JSON.stringify(body, null, 2), { mode: 0o600 });
  return file;
};

describe('azure connections', () => {
  it('reads a service principal file; the secret is never shown', () => {
    const sp = testServicePrincipal();
    const cred = credentialFor(parse({ apiKeyFile: secretFile('sp.json', sp) }), noStore) as AzureCredential;
    assert.ok(cred instanceof AzureCredential);
    assert.deepEqual(cred.toJSON(), { provider: 'azure', refId: 'azure-a', tenantId: sp.tenantId, clientId: sp.clientId, subscriptionId: sp.subscriptionId, resourceGroup: 'gpuflow', regions: ['eastus'] });
    assert.ok(!JSON.stringify(cred).includes(sp.clientSecret) && !inspect(cred, { depth: 5, showHidden: false }).includes(sp.clientSecret));
  });

  it('takes `az ad sp create-for-rbac` output with the subscription in the connection', () => {
    const sp = testServicePrincipal();
    const file = secretFile('rbac.json', { appId: sp.clientId, displayName: 'gpuflow', password: sp.clientSecret, tenant: sp.tenantId });
    assert.equal((credentialFor(parse({ apiKeyFile: file, subscriptionId: sp.subscriptionId }), noStore) as AzureCredential).subscriptionId, sp.subscriptionId);
    assert.throws(() => credentialFor(parse({ apiKeyFile: file }), noStore), (e: Error) => /subscriptionId must be the Azure subscription ID/.test(e.message) && !e.message.includes(sp.clientSecret));
  });

  it('requires a secret source and a resource group, naming the fix', () => {
    assert.throws(() => credentialFor(parse({}), noStore));
    assert.throws(() => ConnectionsFileSchema.parse({ connections: [{ kind: 'azure', name: 'a', regions: ['eastus'], apiKeyFile: '/k' }] }), /resourceGroup/);
  });

  it('refuses a region outside the region → country table', () => {
    const sp = testServicePrincipal();
    assert.throws(() => new AzureCredential({ refId: 'x', servicePrincipal: sp, regions: ['marscentral'], resourceGroup: 'g' }), /regions\.0: region is not in the adapter's region → country table/);
  });

  it('bills per second', () => {
    assert.deepEqual(defaultBilling('azure'), { granularity: 'second', minimumSeconds: 0 });
  });
});
