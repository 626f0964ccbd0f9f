/**
 * What the Azure replica offers: GPU sizes as the Resource SKUs API describes them (name, family,
 * vCPUs, MemoryGB, GPUs capabilities; regions), and the price file the tests give the adapter.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ReplicaSku {
  name: string;
  family: string;
  vCPUs: number;
  memoryGB: number;
  gpus: number;
  regions: string[];
  /** Regions where the subscription may not use the size (restriction NotAvailableForSubscription). */
  restricted?: string[];
}

export const AZURE_REPLICA_REGIONS = ['eastus', 'westeurope'] as const;

export const AZURE_REPLICA_SKUS: readonly ReplicaSku[] = [
  { name: 'Standard_ND96isr_H100_v5', family: 'standardNDSH100v5Family', vCPUs: 96, memoryGB: 1900, gpus: 8, regions: ['eastus'] },
  { name: 'Standard_NC24ads_A100_v4', family: 'StandardNCADSA100v4Family', vCPUs: 24, memoryGB: 220, gpus: 1, regions: ['eastus', 'westeurope'] },
  { name: 'Standard_NV36ads_A10_v5', family: 'StandardNVADSA10v5Family', vCPUs: 36, memoryGB: 440, gpus: 1, regions: ['eastus', 'westeurope'] },
  { name: 'Standard_NC4as_T4_v3', family: 'standardNCASv3_T4Family', vCPUs: 4, memoryGB: 28, gpus: 1, regions: ['eastus', 'westeurope'] },
  { name: 'Standard_ND96isr_MI300X_v5', family: 'standardNDISRMI300Xv5Family', vCPUs: 96, memoryGB: 1850, gpus: 8, regions: ['eastus'], restricted: ['eastus'] },
  // No GPU: listed by the SKU API, left out by the adapter.
  { name: 'Standard_D4s_v5', family: 'standardDSv5Family', vCPUs: 4, memoryGB: 16, gpus: 0, regions: ['eastus', 'westeurope'] },
];

/** Writes the price file the replica's tests use (SkyPilot's Azure layout) and returns its path. */
export function writeAzureReplicaCatalog(dir: string): string {
  const file = join(dir, 'azure-vms.csv');
  writeFileSync(
    file,
    [
      'InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,Generation',
      'Standard_ND96isr_H100_v5,H100,8,96,1900,H100,98.32,,eastus,V2',
      'Standard_NC24ads_A100_v4,A100-80GB,1,24,220,A100-80GB,3.673,0.7346,eastus,V2',
      'Standard_NC24ads_A100_v4,A100-80GB,1,24,220,A100-80GB,4.04,0.808,westeurope,V2',
      'Standard_NV36ads_A10_v5,A10,1,36,440,A10,3.2,0.64,eastus,V2',
      'Standard_NC4as_T4_v3,T4,1,4,28,T4,0.526,0.0526,eastus,V1',
      'Standard_NC4as_T4_v3,T4,1,4,28,T4,0.578,0.0578,westeurope,V1',
      'Standard_ND96isr_MI300X_v5,MI300X,8,96,1850,MI300X,48.0,,eastus,V2',
    ].join('\n') + '\n',
  );
  return file;
}
