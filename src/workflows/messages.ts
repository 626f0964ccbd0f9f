/** Moved to src/workload/messages.ts (the workload's feature folder); kept so existing imports work. */
export * from '../workload/messages.js';
