/** Azure GPU normalization, the price file and the catalog built from Resource SKUs + prices. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { azureGpu, azureInstanceTypes, azureRegionCountry, azureStatus, DEFAULT_AZURE_CATALOG_FILE, parseAzurePriceCsv, vmNameFor } from '../../../../src/providers/azure/index.js';

it('GPU sizes normalize to model, count, memory and maker', () => {
  const g = (s: string) => {
    const x = azureGpu(s);
    return x ? `${x.count}x${x.name} ${x.memory.value}${x.memory.unit} ${x.manufacturer} ${x.type}` : undefined;
  };
  assert.equal(g('Standard_ND96isr_H100_v5'), '8xH100 80GiB NVIDIA H100.SXM5');
  assert.equal(g('Standard_NC24ads_A100_v4'), '1xA100 80GiB NVIDIA A100.PCIe');
  assert.equal(g('Standard_NC96ads_A100_v4'), '4xA100 80GiB NVIDIA A100.PCIe');
  assert.equal(g('Standard_ND96asr_v4'), '8xA100 40GiB NVIDIA A100.SXM4');
  assert.equal(g('Standard_NV36ads_A10_v5'), '1xA10 24GiB NVIDIA A10');
  assert.equal(g('Standard_NV72ads_A10_v5'), '2xA10 24GiB NVIDIA A10');
  assert.equal(g('Standard_NC32ads_A10_v4'), '1xA10 24GiB NVIDIA A10');
  assert.equal(g('Standard_ND96isr_MI300X_v5'), '8xMI300X 192GiB AMD MI300X.OAM');
  assert.equal(g('Standard_NC4as_T4_v3'), '1xT4 16GiB NVIDIA T4');
  assert.equal(g('Standard_NC64as_T4_v3'), '4xT4 16GiB NVIDIA T4');
  assert.equal(g('Standard_NC12s_v3'), '2xV100 16GiB NVIDIA V100.PCIe');
  // Partitions of a GPU and CPU sizes are not offered.
  assert.equal(g('Standard_NV6ads_A10_v5'), undefined);
  assert.equal(g('Standard_NC8ads_A10_v4'), undefined);
  assert.equal(g('Standard_D4s_v5'), undefined);
});

it('the price file parses to exact money; the shipped data/azure/vms.csv is readable', () => {
  const rows = parseAzurePriceCsv('InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,Generation\nStandard_NC4as_T4_v3,T4,1,4,28,T4,0.526,0.0526,eastus,V1\nStandard_ND96isr_H100_v5,H100,8,96,1900,H100,98.32,,eastus,V2\n');
  assert.deepEqual(rows[0], { instanceType: 'Standard_NC4as_T4_v3', region: 'eastus', price: { amount: 526, currency: 'USD', scale: 3 }, spotPrice: { amount: 526, currency: 'USD', scale: 4 } });
  assert.equal(rows[1]!.spotPrice, undefined);
  assert.throws(() => parseAzurePriceCsv('Size,Cost\nx,1\n'), /header must name InstanceType, Region, Price, SpotPrice/);
  assert.ok(parseAzurePriceCsv(readFileSync(DEFAULT_AZURE_CATALOG_FILE, 'utf8')).length >= 5);
});

it('instance types: GPU sizes the SKU API lists and the file prices; restricted ones unavailable; spot only when priced', () => {
  const prices = parseAzurePriceCsv('InstanceType,Region,Price,SpotPrice\nStandard_NC4as_T4_v3,eastus,0.526,0.0526\nStandard_ND96isr_H100_v5,eastus,98.32,\nStandard_ND96isr_MI300X_v5,eastus,48,\nStandard_D4s_v5,eastus,0.192,0.02\n');
  const sku = (name: string, vcpu: number, mem: number, restricted = false) => ({ resourceType: 'virtualMachines', name, locations: ['eastus'], capabilities: [{ name: 'vCPUs', value: String(vcpu) }, { name: 'MemoryGB', value: String(mem) }], restrictions: restricted ? [{ type: 'Location', values: ['eastus'], reasonCode: 'NotAvailableForSubscription' }] : [] });
  const types = azureInstanceTypes({ region: 'eastus', prices, skus: [sku('Standard_NC4as_T4_v3', 4, 28), sku('Standard_ND96isr_H100_v5', 96, 1900), sku('Standard_ND96isr_MI300X_v5', 96, 1850, true), sku('Standard_D4s_v5', 4, 16), sku('Standard_NC24ads_A100_v4', 24, 220)] });
  assert.deepEqual(types.map((t) => t.id), ['eastus-noSub-Standard_NC4as_T4_v3', 'eastus-noSub-Standard_ND96isr_H100_v5', 'eastus-noSub-Standard_ND96isr_MI300X_v5']);
  const [t4, h100, mi300x] = types as [(typeof types)[0], (typeof types)[0], (typeof types)[0]];
  assert.deepEqual(t4.supportedUsageClasses, ['on-demand', 'spot']);
  assert.deepEqual(h100.supportedUsageClasses, ['on-demand']);
  assert.equal(h100.vcpu, 96);
  assert.equal(mi300x.isAvailable, false);
  assert.equal(mi300x.supportedGpus[0]!.manufacturer, 'AMD');
});

it('regions carry ISO alpha-3 countries; VM names are stable per refId and region', () => {
  assert.equal(azureRegionCountry('eastus'), 'USA');
  assert.equal(azureRegionCountry('westeurope'), 'NLD');
  assert.equal(azureRegionCountry('uksouth'), 'GBR');
  assert.equal(azureRegionCountry('nowhere'), undefined);
  assert.equal(vmNameFor('r1', 'eastus', 'My Job'), vmNameFor('r1', 'eastus', 'My Job'));
  assert.notEqual(vmNameFor('r1', 'eastus'), vmNameFor('r1', 'westeurope'));
  assert.match(vmNameFor('r1', 'eastus', 'My Job!'), /^gpuflow-my-job-[0-9a-f]{16}$/);
});

it('power states from instanceView map to contract statuses; eviction is preemption', () => {
  const s = (codes: string[], o = {}) => azureStatus({ instanceView: { statuses: codes.map((code) => ({ code })) } }, o);
  assert.equal(s(['ProvisioningState/creating']).lifecycleStatus, 'pending');
  assert.equal(s(['ProvisioningState/succeeded', 'PowerState/starting']).lifecycleStatus, 'pending');
  assert.equal(s(['ProvisioningState/succeeded', 'PowerState/running']).lifecycleStatus, 'running');
  assert.equal(s(['ProvisioningState/succeeded', 'PowerState/stopping']).lifecycleStatus, 'stopping');
  assert.equal(s(['ProvisioningState/succeeded', 'PowerState/deallocated']).lifecycleStatus, 'stopped');
  assert.equal(s(['ProvisioningState/deleting', 'PowerState/running']).lifecycleStatus, 'terminating');
  assert.equal(s(['ProvisioningState/failed']).lifecycleStatus, 'failed');
  assert.deepEqual(s(['ProvisioningState/succeeded', 'PowerState/deallocating'], { preempted: true }), { lifecycleStatus: 'stopping', messages: [], interruption: 'preempted' });
});
