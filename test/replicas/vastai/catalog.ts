/**
 * The machines the Vast.ai replica's marketplace lists: hosts with their GPUs, where they are and
 * what they ask. Shapes, regions and prices follow SkyPilot's Vast catalog
 * (shared/data/skypilot-catalog/vast/vms.csv: an RTX 5090 in Taiwan at 0.93/h for two, an H100 SXM
 * in Texas at 1.87/h, an H200 in France at 2.65/h); `min_bid` values are illustrative. GPU names
 * are Vast's own spelling ("RTX 4090", "H100 SXM"), memory in MB as Vast reports it.
 */
export interface VastReplicaMachine {
  machineId: number;
  hostId: number;
  gpuName: string;
  numGpus: number;
  /** Per GPU, MB. */
  gpuRamMb: number;
  gpuArch: 'nvidia' | 'amd';
  cpuArch: 'amd64' | 'arm64';
  cpuCores: number;
  cpuCoresEffective: number;
  cpuRamMb: number;
  diskSpaceGb: number;
  /** On-demand $/h. */
  dphTotal: number;
  /** Least interruptible bid, $/h. */
  minBid: number;
  /** Vast's free text: "<region>, <country code>". */
  geolocation: string;
  /** ISO alpha-2 of the geolocation (what Vast's `geolocation` filter compares). */
  country: string;
  reliability: number;
  verification: 'verified' | 'unverified' | 'deverified';
}

const base = { gpuArch: 'nvidia', cpuArch: 'amd64', reliability: 0.998, verification: 'verified' } as const;

export const DEFAULT_VASTAI_REPLICA_MACHINES: readonly VastReplicaMachine[] = [
  { ...base, machineId: 10411, hostId: 3010, gpuName: 'RTX 4090', numGpus: 1, gpuRamMb: 24564, cpuCores: 32, cpuCoresEffective: 16, cpuRamMb: 64302, diskSpaceGb: 412.5, dphTotal: 0.35, minBid: 0.18, geolocation: 'Texas, US', country: 'US' },
  { ...base, machineId: 10412, hostId: 3010, gpuName: 'RTX 4090', numGpus: 1, gpuRamMb: 24564, cpuCores: 24, cpuCoresEffective: 12, cpuRamMb: 48150, diskSpaceGb: 250, dphTotal: 0.42, minBid: 0.21, geolocation: 'Texas, US', country: 'US' },
  { ...base, machineId: 20877, hostId: 4122, gpuName: 'RTX 4090', numGpus: 1, gpuRamMb: 24564, cpuCores: 16, cpuCoresEffective: 16, cpuRamMb: 32090, diskSpaceGb: 180, dphTotal: 0.4, minBid: 0.2, geolocation: 'Hesse, DE', country: 'DE' },
  { ...base, machineId: 31502, hostId: 5230, gpuName: 'RTX 5090', numGpus: 2, gpuRamMb: 32607, cpuCores: 64, cpuCoresEffective: 32, cpuRamMb: 128600, diskSpaceGb: 900, dphTotal: 0.93, minBid: 0.51, geolocation: 'Taiwan, TW', country: 'TW' },
  { ...base, machineId: 40233, hostId: 6001, gpuName: 'H100 SXM', numGpus: 1, gpuRamMb: 81559, cpuCores: 64, cpuCoresEffective: 32, cpuRamMb: 257600, diskSpaceGb: 1500, dphTotal: 1.87, minBid: 0.95, geolocation: 'Texas, US', country: 'US' },
  { ...base, machineId: 40234, hostId: 6001, gpuName: 'H100 SXM', numGpus: 1, gpuRamMb: 81559, cpuCores: 64, cpuCoresEffective: 32, cpuRamMb: 257600, diskSpaceGb: 1500, dphTotal: 1.99, minBid: 1.01, geolocation: 'Texas, US', country: 'US' },
  { ...base, machineId: 50910, hostId: 7040, gpuName: 'H200', numGpus: 1, gpuRamMb: 143771, cpuCores: 96, cpuCoresEffective: 32, cpuRamMb: 515000, diskSpaceGb: 2000, dphTotal: 2.65, minBid: 1.4, geolocation: 'Île-de-France, FR', country: 'FR' },
  { ...base, machineId: 61220, hostId: 8012, gpuName: 'RTX 6000Ada', numGpus: 1, gpuRamMb: 49140, cpuCores: 32, cpuCoresEffective: 16, cpuRamMb: 96400, diskSpaceGb: 600, dphTotal: 0.37, minBid: 0.19, geolocation: 'Tokyo, JP', country: 'JP' },
  // Unverified hosts are listed by Vast but filtered out by `verified: {eq: true}` (the default).
  { ...base, verification: 'unverified', machineId: 70001, hostId: 9001, gpuName: 'RTX 3090', numGpus: 1, gpuRamMb: 24576, cpuCores: 12, cpuCoresEffective: 12, cpuRamMb: 32000, diskSpaceGb: 100, dphTotal: 0.12, minBid: 0.06, geolocation: 'Ontario, CA', country: 'CA' },
];
