/** gpuflow's public API for application code. */
export { GpuflowClient, WorkloadHandle, type WorkloadSummary } from './client/gpuflowClient.js';
export { parseWorkloadSpec, InvalidWorkloadSpecError, WorkloadSpecSchema, type WorkloadSpec, type WorkloadSpecInput } from './workload/spec.js';
export type { WorkloadStatus, WorkloadResult, WorkloadState, WorkloadOutcome, ChosenOffer } from './workflows/messages.js';
export * as sdk from './providers/sdk/index.js';
