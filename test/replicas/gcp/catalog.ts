/**
 * What the Compute replica offers: regions with their zones, machine types as `machineTypes.list`
 * describes them (`guestCpus`, `memoryMb`, `accelerators` with Compute's accelerator type names),
 * and the host-VM and accelerator prices of a SkyPilot-format GCP catalog file for the adapter.
 * Shapes follow Google's GPU machine types page; host prices of a2-highgpu-1g and a3-highgpu-1g
 * are the us-central1 rows of SkyPilot's catalog (catalogs/v8/gcp/vms.csv, commit 006059e0);
 * the others, and every accelerator price, are illustrative, not a price source.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ReplicaGcpRegion {
  name: string;
  zones: string[];
}

export interface ReplicaMachineType {
  name: string;
  guestCpus: number;
  memoryMb: number;
  accelerator?: { type: string; count: number; catalogName: string };
  /** Host VM $/h (on demand, spot). */
  host: [string, string];
  /** The accelerators' $/h for the whole count (on demand, spot). */
  gpus?: [string, string];
}

export const GCP_REPLICA_REGIONS: readonly ReplicaGcpRegion[] = [
  { name: 'us-central1', zones: ['us-central1-a', 'us-central1-b', 'us-central1-c'] },
  { name: 'europe-west4', zones: ['europe-west4-a', 'europe-west4-b'] },
];

export const GCP_REPLICA_MACHINE_TYPES: readonly ReplicaMachineType[] = [
  { name: 'a3-highgpu-8g', guestCpus: 208, memoryMb: 1_916_928, accelerator: { type: 'nvidia-h100-80gb', count: 8, catalogName: 'H100' }, host: ['9.46', '2.89'], gpus: ['78.59', '19.60'] },
  { name: 'a3-highgpu-1g', guestCpus: 26, memoryMb: 239_616, accelerator: { type: 'nvidia-h100-80gb', count: 1, catalogName: 'H100' }, host: ['1.18251', '0.36117'], gpus: ['9.82', '2.45'] },
  { name: 'a2-highgpu-1g', guestCpus: 12, memoryMb: 87_040, accelerator: { type: 'nvidia-tesla-a100', count: 1, catalogName: 'A100' }, host: ['0.73948', '0.36975'], gpus: ['2.93', '1.17'] },
  { name: 'a2-ultragpu-1g', guestCpus: 12, memoryMb: 174_080, accelerator: { type: 'nvidia-a100-80gb', count: 1, catalogName: 'A100-80GB' }, host: ['1.09962', '0.54978'], gpus: ['3.93', '1.57'] },
  { name: 'g2-standard-4', guestCpus: 4, memoryMb: 16_384, accelerator: { type: 'nvidia-l4', count: 1, catalogName: 'L4' }, host: ['0.15', '0.06'], gpus: ['0.56', '0.22'] },
  { name: 'g2-standard-24', guestCpus: 24, memoryMb: 98_304, accelerator: { type: 'nvidia-l4', count: 2, catalogName: 'L4' }, host: ['0.88', '0.35'], gpus: ['1.12', '0.44'] },
  // A CPU type: machineTypes.list answers for it, the adapter leaves it out (no GPU).
  { name: 'n2-standard-4', guestCpus: 4, memoryMb: 16_384, host: ['0.194', '0.047'] },
];

/** A SkyPilot-format GCP catalog (catalogs/v8/gcp/vms.csv header): a host row and an accelerator row per zone. */
export function gcpReplicaCatalogCsv(regions: readonly ReplicaGcpRegion[] = GCP_REPLICA_REGIONS, types: readonly ReplicaMachineType[] = GCP_REPLICA_MACHINE_TYPES): string {
  const lines = ['InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,Region,AvailabilityZone,Price,SpotPrice'];
  const accRows = new Set<string>();
  for (const r of regions) {
    for (const z of r.zones) {
      for (const t of types) {
        // A3 only in us-central1 (H100 capacity is in few regions); the rest everywhere.
        if (t.name.startsWith('a3') && r.name !== 'us-central1') continue;
        lines.push([t.name, String(t.guestCpus), String(t.memoryMb / 1024), '', '', '', r.name, z, t.host[0], t.host[1]].join(','));
        if (t.accelerator && t.gpus) {
          const row = [',,', t.accelerator.catalogName, String(t.accelerator.count), t.accelerator.catalogName, r.name, z, t.gpus[0], t.gpus[1]].join(',');
          if (!accRows.has(row)) lines.push(row);
          accRows.add(row);
        }
      }
    }
  }
  return lines.join('\n') + '\n';
}

/** Writes the catalog into `dir` and returns its path (the connection's catalogFile). */
export function writeGcpReplicaCatalog(dir: string, regions?: readonly ReplicaGcpRegion[], types?: readonly ReplicaMachineType[]): string {
  const file = join(dir, 'gcp-vms.csv');
  writeFileSync(file, gcpReplicaCatalogCsv(regions, types));
  return file;
}
