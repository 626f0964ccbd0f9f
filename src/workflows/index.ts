export { workloadWorkflow } from './workload.js';
