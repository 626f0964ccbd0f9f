/**
 * What one region of the FluidStack replica offers: instance types in the shape of
 * `GET /instance-types` (name, cpu, memory as a Kubernetes quantity, gpuModel, gpuCount) and how
 * many instances of each the region can hold at once (what `GET /capacity` counts down).
 * `h100-hgx-80gb.8x` is the spec's own example; the other names follow its pattern and are
 * illustrative, as are the capacities. The API has no prices: connections state them.
 */
export interface FluidstackReplicaTypeSpec {
  name: string;
  cpu: number;
  memory: string;
  gpuModel?: string;
  gpuCount?: number;
  /** Instances of this type the region holds at once. */
  capacity: number;
}

export const DEFAULT_FLUIDSTACK_REPLICA_CATALOG: readonly FluidstackReplicaTypeSpec[] = [
  { name: 'h100-hgx-80gb.8x', cpu: 96, memory: '960Gi', gpuModel: 'GH100_H100_SXM5_80GB', gpuCount: 8, capacity: 1 },
  { name: 'h100-sxm5-80gb.1x', cpu: 12, memory: '120Gi', gpuModel: 'GH100_H100_SXM5_80GB', gpuCount: 1, capacity: 2 },
  { name: 'a100-sxm4-80gb.8x', cpu: 128, memory: '1Ti', gpuModel: 'GA100_A100_SXM4_80GB', gpuCount: 8, capacity: 0 },
  { name: 'l40s-pcie-48gb.1x', cpu: 16, memory: '128Gi', gpuModel: 'AD102_L40S_PCIE_48GB', gpuCount: 1, capacity: 4 },
  { name: 'cpu-32c.1x', cpu: 32, memory: '128Gi', capacity: 4 },
];

/**
 * Prices for the catalog above, as a connection states them (USD/h). The 8x H100 is SkyPilot's
 * FluidStack price (catalogs/v9/fluidstack: H100_NVLINK_80GB::8, FINLAND, 23.92); the others are
 * illustrative. Preemptible prices make those types spot-capable.
 */
export const FLUIDSTACK_TEST_PRICES = {
  'h100-hgx-80gb.8x': { onDemand: '23.92', preemptible: '11.96' },
  'h100-sxm5-80gb.1x': { onDemand: '2.49' },
  'a100-sxm4-80gb.8x': { onDemand: '14.00' },
  'l40s-pcie-48gb.1x': { onDemand: '1.10', preemptible: '0.55' },
  'cpu-32c.1x': { onDemand: '0.40' },
} as const;
