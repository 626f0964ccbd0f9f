export { workloadWorkflow } from './workload.js';
export { budgetWorkflow } from './budget.js';
