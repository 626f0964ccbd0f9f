export { workloadWorkflow } from '../workload/workflow.js';
export { budgetWorkflow } from '../budget/workflow.js';
export { catalogSyncWorkflow } from '../catalog/sync/workflow.js';
export { catalogSyncLoopWorkflow } from '../catalog/sync/loopWorkflow.js';
export { catalogStoreWorkflow } from '../catalog/sync/storeWorkflow.js';
export { serviceGroupWorkflow } from './serviceGroup.js';
export { serviceScaleWorkflow } from './serviceScale.js';
