/**
 * A real call through an adapter that proves a credential works: its catalog (instance types and
 * locations). Used before a connection is stored (`gpuflow providers add`) and by
 * `gpuflow providers test`.
 */
import { performance } from 'node:perf_hooks';
import type { CloudCredential } from './sdk/client.js';

export interface ProbeResult {
  provider: string;
  /** Wall time of the calls, client creation included. */
  latencyMs: number;
  instanceTypes: number;
  availableInstanceTypes: number;
  locations: number;
  /** GPU models on offer, e.g. ["A100", "H100"]. */
  gpuModels: string[];
}

export async function probeCredential(credential: CloudCredential): Promise<ProbeResult> {
  const started = performance.now();
  const client = await credential.makeClient('');
  const [types, locations] = await Promise.all([client.getInstanceTypes({}), client.getLocations({})]);
  const latencyMs = Math.round(performance.now() - started);
  const gpuModels = [...new Set(types.flatMap((t) => t.supportedGpus.map((g) => g.name)))].sort();
  return {
    provider: credential.getCloudProviderId(),
    latencyMs,
    instanceTypes: types.length,
    availableInstanceTypes: types.filter((t) => t.isAvailable).length,
    locations: locations.length,
    gpuModels,
  };
}
