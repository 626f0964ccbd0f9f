/**
 * What the Shadeform replica sells: a few (cloud, shade_instance_type) offers in the shape of
 * `GET /instances/types`. Cloud and region names follow Shadeform's (and Brev's stable IDs:
 * verda_B200_helsinki-finland-5, massedcompute_L40_desmoines-usa-1); prices are illustrative.
 * Capacity is how many instances may run in a region at once; `available` is true while some is left.
 */
export interface ShadeformReplicaTypeSpec {
  cloud: string;
  shadeInstanceType: string;
  cloudInstanceType: string;
  /** Cents per hour. */
  hourlyPrice: number;
  deploymentType: 'vm' | 'container' | 'baremetal';
  configuration: {
    memory_in_gb: number;
    storage_in_gb: number;
    vcpus: number;
    num_gpus: number;
    gpu_type: string;
    interconnect: string;
    nvlink: boolean;
    vram_per_gpu_in_gb: number;
    os_options: string[];
    gpu_manufacturer: string;
  };
  bootTime?: { min_boot_in_sec: number; max_boot_in_sec: number };
  regions: { region: string; displayName: string; capacity: number }[];
}

const OS = ['ubuntu22.04_cuda12.2_shade_os', 'ubuntu20.04_cuda12.0_shade_os'];

export const DEFAULT_SHADEFORM_REPLICA_CATALOG: readonly ShadeformReplicaTypeSpec[] = [
  {
    cloud: 'massedcompute',
    shadeInstanceType: 'L40',
    cloudInstanceType: 'gpu_1x_l40',
    hourlyPrice: 99,
    deploymentType: 'vm',
    configuration: { memory_in_gb: 64, storage_in_gb: 512, vcpus: 16, num_gpus: 1, gpu_type: 'L40', interconnect: 'pcie', nvlink: false, vram_per_gpu_in_gb: 48, os_options: OS, gpu_manufacturer: 'nvidia' },
    bootTime: { min_boot_in_sec: 120, max_boot_in_sec: 300 },
    regions: [{ region: 'desmoines-usa-1', displayName: 'US, Des Moines, IA', capacity: 4 }],
  },
  {
    cloud: 'hyperstack',
    shadeInstanceType: 'A6000',
    cloudInstanceType: 'n3-RTX-A6000x1',
    hourlyPrice: 50,
    deploymentType: 'vm',
    configuration: { memory_in_gb: 58, storage_in_gb: 100, vcpus: 8, num_gpus: 1, gpu_type: 'A6000', interconnect: 'pcie', nvlink: false, vram_per_gpu_in_gb: 48, os_options: OS, gpu_manufacturer: 'nvidia' },
    bootTime: { min_boot_in_sec: 180, max_boot_in_sec: 300 },
    regions: [
      { region: 'canada-1', displayName: 'Canada, Montreal, QC', capacity: 2 },
      { region: 'norway-1', displayName: 'Norway, Oslo', capacity: 0 },
    ],
  },
  {
    cloud: 'excesssupply',
    shadeInstanceType: 'A100_80G',
    cloudInstanceType: 'a100-80g-sxm4',
    hourlyPrice: 135,
    deploymentType: 'vm',
    configuration: { memory_in_gb: 120, storage_in_gb: 1000, vcpus: 24, num_gpus: 1, gpu_type: 'A100_80G', interconnect: 'sxm4', nvlink: true, vram_per_gpu_in_gb: 80, os_options: OS, gpu_manufacturer: 'nvidia' },
    regions: [{ region: 'us-central-2', displayName: 'US, Kansas City, MO', capacity: 1 }],
  },
  {
    cloud: 'verda',
    shadeInstanceType: 'B200',
    cloudInstanceType: '1B200.30V',
    hourlyPrice: 449,
    deploymentType: 'vm',
    configuration: { memory_in_gb: 184, storage_in_gb: 1000, vcpus: 30, num_gpus: 1, gpu_type: 'B200', interconnect: 'sxm6', nvlink: true, vram_per_gpu_in_gb: 180, os_options: OS, gpu_manufacturer: 'nvidia' },
    bootTime: { min_boot_in_sec: 300, max_boot_in_sec: 600 },
    regions: [{ region: 'helsinki-finland-5', displayName: 'Finland, Helsinki', capacity: 1 }],
  },
  {
    cloud: 'lambdalabs',
    shadeInstanceType: 'GH200',
    cloudInstanceType: 'gpu_1x_gh200',
    hourlyPrice: 179,
    deploymentType: 'vm',
    configuration: { memory_in_gb: 432, storage_in_gb: 4096, vcpus: 64, num_gpus: 1, gpu_type: 'GH200', interconnect: 'nvlink', nvlink: true, vram_per_gpu_in_gb: 96, os_options: OS, gpu_manufacturer: 'nvidia' },
    regions: [{ region: 'us-east-3', displayName: 'US, Washington, DC', capacity: 1 }],
  },
];
