/**
 * What the Lambda replica sells. Type names, descriptions and specs follow Lambda's public naming
 * (the spec's examples: gpu_1x_gh200 "1x GH200 (96 GB)" at 149 c/h, gpu_8x_h100_sxm5gdr
 * "8x H100 (80 GB SXM5)"); prices are illustrative list prices, not quotes. Capacity is how many
 * instances of the type may run in a region at once: a type is in `regions_with_capacity_available`
 * exactly while a region has some left.
 */
export interface LambdaReplicaTypeSpec {
  name: string;
  description: string;
  gpuDescription: string;
  priceCentsPerHour: number;
  specs: { vcpus: number; memory_gib: number; storage_gib: number; gpus: number };
  /** region → max concurrent instances. Regions must be PublicRegionCodes. */
  capacity: Record<string, number>;
}

/** PublicRegionCode (v1.8.3 enum) → Lambda's description of it. */
export const LAMBDA_REPLICA_REGIONS: Readonly<Record<string, string>> = {
  'europe-central-1': 'Germany',
  'asia-south-1': 'India',
  'australia-east-1': 'Sydney, Australia',
  'me-west-1': 'Israel',
  'asia-northeast-1': 'Osaka, Japan',
  'asia-northeast-2': 'Tokyo, Japan',
  'us-east-1': 'Virginia, USA',
  'us-west-2': 'Arizona, USA',
  'us-west-1': 'California, USA',
  'us-south-1': 'Texas, USA',
  'us-west-3': 'Utah, USA',
  'us-midwest-1': 'Illinois, USA',
  'us-east-2': 'Washington D.C, USA',
  'us-south-2': 'North Texas, USA',
  'us-south-3': 'Central Texas, USA',
  'us-east-3': 'Washington D.C, USA',
  'us-midwest-2': 'Midwest, USA',
};

export const DEFAULT_LAMBDA_REPLICA_CATALOG: readonly LambdaReplicaTypeSpec[] = [
  {
    name: 'gpu_1x_a10',
    description: '1x A10 (24 GB PCIe)',
    gpuDescription: 'A10 (24 GB PCIe)',
    priceCentsPerHour: 75,
    specs: { vcpus: 30, memory_gib: 200, storage_gib: 1400, gpus: 1 },
    capacity: { 'us-east-1': 4, 'us-west-1': 2 },
  },
  {
    name: 'gpu_1x_a6000',
    description: '1x RTX A6000 (48 GB)',
    gpuDescription: 'RTX A6000 (48 GB)',
    priceCentsPerHour: 80,
    specs: { vcpus: 14, memory_gib: 46, storage_gib: 512, gpus: 1 },
    capacity: { 'us-west-1': 2 },
  },
  {
    name: 'gpu_1x_a100_sxm4',
    description: '1x A100 (40 GB SXM4)',
    gpuDescription: 'A100 (40 GB SXM4)',
    priceCentsPerHour: 129,
    specs: { vcpus: 30, memory_gib: 200, storage_gib: 512, gpus: 1 },
    capacity: { 'us-east-1': 2, 'europe-central-1': 1 },
  },
  {
    name: 'gpu_1x_gh200',
    description: '1x GH200 (96 GB)',
    gpuDescription: 'GH200 (96 GB)',
    priceCentsPerHour: 149,
    specs: { vcpus: 64, memory_gib: 432, storage_gib: 4096, gpus: 1 },
    capacity: { 'us-east-3': 2 },
  },
  {
    name: 'gpu_1x_h100_pcie',
    description: '1x H100 (80 GB PCIe)',
    gpuDescription: 'H100 (80 GB PCIe)',
    priceCentsPerHour: 249,
    specs: { vcpus: 26, memory_gib: 200, storage_gib: 1000, gpus: 1 },
    capacity: { 'us-south-1': 2 },
  },
  {
    name: 'gpu_1x_h100_sxm5',
    description: '1x H100 (80 GB SXM5)',
    gpuDescription: 'H100 (80 GB SXM5)',
    priceCentsPerHour: 329,
    specs: { vcpus: 26, memory_gib: 225, storage_gib: 2750, gpus: 1 },
    capacity: { 'us-east-3': 1, 'us-south-2': 1 },
  },
  {
    name: 'gpu_8x_a100_80gb_sxm4',
    description: '8x A100 (80 GB SXM4)',
    gpuDescription: 'A100 (80 GB SXM4)',
    priceCentsPerHour: 1432,
    specs: { vcpus: 240, memory_gib: 1800, storage_gib: 19500, gpus: 8 },
    capacity: { 'us-west-1': 1 },
  },
  {
    name: 'gpu_8x_h100_sxm5',
    description: '8x H100 (80 GB SXM5)',
    gpuDescription: 'H100 (80 GB SXM5)',
    priceCentsPerHour: 2392,
    specs: { vcpus: 208, memory_gib: 1800, storage_gib: 24780, gpus: 8 },
    capacity: {},
  },
  {
    name: 'gpu_8x_v100',
    description: '8x Tesla V100 (16 GB)',
    gpuDescription: 'Tesla V100 (16 GB)',
    priceCentsPerHour: 440,
    specs: { vcpus: 88, memory_gib: 448, storage_gib: 5800, gpus: 8 },
    capacity: { 'asia-northeast-1': 1 },
  },
];
