export { workloadWorkflow } from './workload.js';
export { budgetWorkflow } from './budget.js';
export { catalogSyncWorkflow } from './catalogSync.js';
export { catalogStoreWorkflow } from './catalogSyncStore.js';
