/**
 * What the RunPod replica rents: a few Secure Cloud GPU types (RunPod's own IDs and display names)
 * in a few data centers (RunPod's naming: `US-TX-3`, `EU-RO-1`...). Prices and GPU counts are
 * illustrative. `gpus` is how many GPUs of a type a data center has; stock status follows from how
 * many are free.
 */
export interface RunPodReplicaGpuType {
  id: string;
  displayName: string;
  manufacturer: string;
  memoryInGb: number;
  /** On-demand price per GPU per hour. */
  securePrice: number;
  /** The spot list price per GPU per hour. */
  secureSpotPrice: number;
  /** The lowest bid per GPU that rents an interruptible pod now (`setMinimumBid` moves it). */
  minimumBidPrice: number;
  maxGpuCount: number;
  /** Per GPU: what RunPod guarantees at least. */
  minVcpu: number;
  minMemory: number;
}

export interface RunPodReplicaDataCenter {
  id: string;
  name: string;
  location: string;
  /** GPU type ID → GPUs in this data center. */
  gpus: Record<string, number>;
}

export interface RunPodReplicaCatalog {
  gpuTypes: RunPodReplicaGpuType[];
  dataCenters: RunPodReplicaDataCenter[];
}

export const DEFAULT_RUNPOD_REPLICA_CATALOG: RunPodReplicaCatalog = {
  gpuTypes: [
    { id: 'NVIDIA GeForce RTX 4090', displayName: 'RTX 4090', manufacturer: 'Nvidia', memoryInGb: 24, securePrice: 0.69, secureSpotPrice: 0.35, minimumBidPrice: 0.34, maxGpuCount: 8, minVcpu: 6, minMemory: 41 },
    { id: 'NVIDIA H100 80GB HBM3', displayName: 'H100 SXM', manufacturer: 'Nvidia', memoryInGb: 80, securePrice: 2.69, secureSpotPrice: 1.75, minimumBidPrice: 1.49, maxGpuCount: 8, minVcpu: 16, minMemory: 125 },
    { id: 'NVIDIA A100 80GB PCIe', displayName: 'A100 PCIe', manufacturer: 'Nvidia', memoryInGb: 80, securePrice: 1.64, secureSpotPrice: 0.82, minimumBidPrice: 0.82, maxGpuCount: 8, minVcpu: 8, minMemory: 117 },
    { id: 'NVIDIA L4', displayName: 'L4', manufacturer: 'Nvidia', memoryInGb: 24, securePrice: 0.43, secureSpotPrice: 0.22, minimumBidPrice: 0.22, maxGpuCount: 4, minVcpu: 8, minMemory: 50 },
    { id: 'NVIDIA RTX A6000', displayName: 'RTX A6000', manufacturer: 'Nvidia', memoryInGb: 48, securePrice: 0.49, secureSpotPrice: 0.25, minimumBidPrice: 0.25, maxGpuCount: 4, minVcpu: 8, minMemory: 50 },
  ],
  dataCenters: [
    { id: 'US-TX-3', name: 'US Texas 3', location: 'United States', gpus: { 'NVIDIA GeForce RTX 4090': 16, 'NVIDIA H100 80GB HBM3': 8, 'NVIDIA RTX A6000': 4, 'NVIDIA L4': 8 } },
    { id: 'EU-RO-1', name: 'EU Romania 1', location: 'Romania', gpus: { 'NVIDIA GeForce RTX 4090': 8, 'NVIDIA A100 80GB PCIe': 4 } },
    { id: 'EU-SE-1', name: 'EU Sweden 1', location: 'Sweden', gpus: { 'NVIDIA A100 80GB PCIe': 2, 'NVIDIA H100 80GB HBM3': 0 } },
    { id: 'CA-MTL-1', name: 'CA Montreal 1', location: 'Canada', gpus: { 'NVIDIA RTX A6000': 2 } },
  ],
};
