/** Moved to src/workload/workflow.ts (the workload's feature folder); kept so existing imports work. */
export { workloadWorkflow, type WorkloadInput } from '../workload/workflow.js';
