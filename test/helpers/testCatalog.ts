import type { LocalCatalogInput } from '../../src/providers/local/daemon/catalog.js';

/** A small, fast catalog: two L4 regions (cheapest first) and an H100 with a spot market. */
export const TEST_CATALOG: LocalCatalogInput = {
  regions: [
    { name: 'us-east', description: 'Virginia, USA', country: 'USA', priority: 1 },
    { name: 'eu-central', description: 'Frankfurt, Germany', country: 'DEU' },
    { name: 'eu-north', description: 'Helsinki, Finland', country: 'FIN' },
  ],
  instanceTypes: [
    { type: 'gpu_1x_l4', gpuDescription: '1x L4 (24 GB PCIe)', vcpu: 8, memoryGiB: 32, diskGiB: 100, pricePerHour: '0.80', capacity: { 'us-east': 200, 'eu-central': 200 } },
    { type: 'gpu_1x_l4_eu', gpuDescription: '1x L4 (24 GB PCIe)', vcpu: 8, memoryGiB: 32, diskGiB: 100, pricePerHour: '0.90', capacity: { 'eu-north': 200 } },
    { type: 'gpu_1x_h100_sxm5', gpuDescription: '1x H100 (80 GB SXM5)', vcpu: 26, memoryGiB: 200, diskGiB: 1000, pricePerHour: '2.49', spotPricePerHour: '1.25', capacity: { 'us-east': 4, 'eu-central': 4 } },
  ],
  bootDelayMs: 300,
  instancePollMs: 300,
  instanceTypePollMs: 60_000,
  maxCreateRequestsPerMinute: 6000,
};
