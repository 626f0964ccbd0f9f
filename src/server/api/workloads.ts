/**
 * The workloads API's shapes, shared by the server's routes and its client (GpuflowServerClient):
 * the list query, the rows, the result of a long poll. One definition, so neither can drift.
 */
import { z } from 'zod';
import { WORKLOAD_STATES, type WorkloadResult, type WorkloadStatus } from '../../workflows/messages.js';
import type { WorkloadRowJSON } from '../../client/workloadRows.js';
import { entityName } from './names.js';

export const WorkloadListQuery = z
  .object({
    project: entityName.optional(),
    tenant: entityName.optional(),
    state: z.enum(WORKLOAD_STATES).optional(),
    status: z.enum(['Running', 'Completed', 'Failed', 'Canceled', 'Terminated', 'TimedOut']).optional().describe('Temporal execution status'),
    limit: z.coerce.number().int().min(1).max(10_000).default(100),
    details: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true')
      .describe('also each workload’s outcome and cost so far (one query per workload: slower)'),
  })
  .strict();
export type WorkloadListQueryInput = z.input<typeof WorkloadListQuery>;

export interface WorkloadListResponse {
  workloads: WorkloadRowJSON[];
}

/** GET /v1/workloads/:id: the status, who launched it, where to see it, and whether the caller may stop it. */
export type WorkloadStatusResponse = WorkloadStatus & { owner?: string; temporalUrl?: string; canStop: boolean };

export interface LaunchResponse {
  workloadId: string;
  project: string;
  tenant: string;
  temporalUrl?: string;
}

export const ResultQuery = z.object({ waitSeconds: z.coerce.number().int().min(0).max(60).default(20) }).strict();

/** GET /v1/workloads/:id/result: a long poll; `running` means ask again. */
export type ResultResponse = { workloadId: string; state: 'running' } | { workloadId: string; state: 'completed'; result: WorkloadResult } | { workloadId: string; state: 'failed'; error: string };
