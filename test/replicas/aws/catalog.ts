/**
 * What the EC2 replica offers: regions with their zones (names and IDs as EC2 reports them),
 * GPU instance types as DescribeInstanceTypes describes them (GPU names, counts and MiB as EC2
 * writes them), on-demand prices for the SkyPilot-format catalog file the adapter reads, and the
 * starting spot price per zone. Shapes follow AWS's instance type pages; prices are illustrative
 * (near AWS's public us-east-1 Linux list), not a price source.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ReplicaZone {
  zoneName: string;
  zoneId: string;
}

export interface ReplicaRegion {
  name: string;
  zones: ReplicaZone[];
}

export interface ReplicaInstanceType {
  type: string;
  vcpus: number;
  memoryMiB: number;
  gpu: { name: string; manufacturer: string; count: number; memoryMiB: number };
  /** On-demand $/h in every region (AWS prices differ by region; the replica keeps one). */
  price: string;
  /** Starting spot $/h in the region's first zone; later zones cost a little more. */
  spot: string;
}

export const AWS_REPLICA_REGIONS: readonly ReplicaRegion[] = [
  { name: 'us-east-1', zones: [{ zoneName: 'us-east-1a', zoneId: 'use1-az1' }, { zoneName: 'us-east-1b', zoneId: 'use1-az2' }, { zoneName: 'us-east-1c', zoneId: 'use1-az4' }] },
  { name: 'us-west-2', zones: [{ zoneName: 'us-west-2a', zoneId: 'usw2-az1' }, { zoneName: 'us-west-2b', zoneId: 'usw2-az2' }] },
  { name: 'eu-central-1', zones: [{ zoneName: 'eu-central-1a', zoneId: 'euc1-az2' }, { zoneName: 'eu-central-1b', zoneId: 'euc1-az3' }] },
];

export const AWS_REPLICA_TYPES: readonly ReplicaInstanceType[] = [
  { type: 'p5.48xlarge', vcpus: 192, memoryMiB: 2_097_152, gpu: { name: 'H100', manufacturer: 'NVIDIA', count: 8, memoryMiB: 81_920 }, price: '55.04', spot: '21.40' },
  { type: 'p4d.24xlarge', vcpus: 96, memoryMiB: 1_179_648, gpu: { name: 'A100', manufacturer: 'NVIDIA', count: 8, memoryMiB: 40_960 }, price: '21.96', spot: '9.10' },
  { type: 'p3.2xlarge', vcpus: 8, memoryMiB: 62_464, gpu: { name: 'V100', manufacturer: 'NVIDIA', count: 1, memoryMiB: 16_384 }, price: '3.06', spot: '0.92' },
  { type: 'g6e.xlarge', vcpus: 4, memoryMiB: 32_768, gpu: { name: 'L40S', manufacturer: 'NVIDIA', count: 1, memoryMiB: 45_776 }, price: '1.861', spot: '0.74' },
  { type: 'g5.xlarge', vcpus: 4, memoryMiB: 16_384, gpu: { name: 'A10G', manufacturer: 'NVIDIA', count: 1, memoryMiB: 24_576 }, price: '1.006', spot: '0.41' },
  { type: 'g6.xlarge', vcpus: 4, memoryMiB: 16_384, gpu: { name: 'L4', manufacturer: 'NVIDIA', count: 1, memoryMiB: 22_888 }, price: '0.8048', spot: '0.33' },
  // A CPU type: DescribeInstanceTypes answers for it, the adapter leaves it out (no GPU).
  { type: 'm5.xlarge', vcpus: 4, memoryMiB: 16_384, gpu: { name: '', manufacturer: '', count: 0, memoryMiB: 0 }, price: '0.192', spot: '0.08' },
];

/** A SkyPilot-format AWS catalog (catalogs/v8/aws/vms.csv header) for the replica's offer; zones by ID, as SkyPilot writes them. */
export function replicaCatalogCsv(regions: readonly ReplicaRegion[] = AWS_REPLICA_REGIONS, types: readonly ReplicaInstanceType[] = AWS_REPLICA_TYPES): string {
  const header = 'InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone,Arch';
  const lines = [header];
  for (const r of regions) {
    for (const t of types) {
      for (const z of r.zones) {
        // p5 only in us-east-1 (as capacity for it is in few regions), everything else everywhere.
        if (t.type.startsWith('p5') && r.name !== 'us-east-1') continue;
        const acc = t.gpu.count ? t.gpu.name : '';
        lines.push([t.type, acc, t.gpu.count ? String(t.gpu.count) : '', String(t.vcpus), String(t.memoryMiB / 1024), '', t.price, t.spot, r.name, z.zoneId, 'x86_64'].join(','));
      }
    }
  }
  return lines.join('\n') + '\n';
}

/** Writes the catalog into `dir` and returns its path (the connection's catalogFile). */
export function writeReplicaCatalog(dir: string): string {
  const file = join(dir, 'aws-vms.csv');
  writeFileSync(file, replicaCatalogCsv());
  return file;
}
