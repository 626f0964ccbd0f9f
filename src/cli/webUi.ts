/** Links into the Temporal Web UI: a workload's page and the list of workloads alone. */
import { temporalConfigFromEnv, type TemporalConfig } from '../config/temporalConfig.js';

/**
 * The list filtered to workloads: budget and catalog entities and the catalog sync runs (gpuflow's
 * own machinery, other workflow types) are left out. Bookmark it, or save it as a view in the UI.
 */
export const WORKLOADS_QUERY = "WorkflowType = 'workloadWorkflow'";

export function workloadsViewUrl(uiUrl: string, namespace: string): string {
  return `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows?query=${encodeURIComponent(WORKLOADS_QUERY)}`;
}

/** The dev server's UI listens on the gRPC port + 1000 (`gpuflow dev`, `temporal server start-dev`). */
export function devUiUrl(overrides: Partial<TemporalConfig>): { uiUrl: string; namespace: string } {
  const cfg = temporalConfigFromEnv(overrides);
  const i = cfg.address.lastIndexOf(':');
  return { uiUrl: `http://${cfg.address.slice(0, i)}:${Number(cfg.address.slice(i + 1)) + 1000}`, namespace: cfg.namespace };
}

export function workloadUrl(overrides: Partial<TemporalConfig>, workloadId: string): string {
  const { uiUrl, namespace } = devUiUrl(overrides);
  return `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workloadId)}`;
}
