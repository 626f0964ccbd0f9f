/** gpuflow's public API for application code. */
export { GpuflowClient, WorkloadHandle, type WorkloadSummary } from './client/gpuflowClient.js';
export { parseWorkloadSpec, InvalidWorkloadSpecError, WorkloadSpecSchema, type WorkloadSpec, type WorkloadSpecInput } from './workload/spec.js';
export type { WorkloadStatus, WorkloadResult, WorkloadState, WorkloadOutcome, ChosenOffer } from './workflows/messages.js';
export { BudgetsApi, type CostQuery } from './budget/api.js';
export { InvalidBudgetError, parseBudgetConfig, type BudgetConfig, type BudgetConfigInput, type BudgetScopeInput } from './budget/config.js';
export type { BudgetStatus, AlertEvent, LedgerEntry, LedgerView } from './budget/ledger.js';
export type { CostReport, CostRow } from './budget/report.js';
export * as sdk from './providers/sdk/index.js';
export { WorkloadSchedules, WorkloadScheduleHandle, type ScheduleRun, type WorkloadScheduleInfo, type WorkloadScheduleDescription } from './client/schedules.js';
export { WorkloadScheduleSchema, InvalidScheduleError, planSchedule, type WorkloadScheduleInput, type OverlapPolicy } from './schedules/schedule.js';
export { RecipeSchema, listRecipes, findRecipe, resolveParams, renderCommand, applyRecipe, type Recipe, type RecipeInput, type LoadedRecipe } from './recipes/recipe.js';
export { replayHistories, loadHistoryFile, type ReplayReport } from './replay/replay.js';
export { toDecimalString, type MoneyJSON } from './money/money.js';
