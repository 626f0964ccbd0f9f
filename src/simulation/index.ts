/** The cost simulator: workload mixes replayed against price/availability traces with gpuflow's own decisions. */
export { STEP_MINUTES, STEPS_PER_HOUR } from './grid.js';
export { parseMix, parseMixText, InvalidMixError, MixSchema, type Mix, type SimJob } from './mix.js';
export { POLICIES, POLICY_NAMES, ORACLE, selectPolicies, applyPolicy, type Policy } from './policies.js';
export { Trace, marketKey, type Market, type TraceSource } from './trace.js';
export { generateTrace, skypilotTrace, type GeneratedTraceOptions } from './skypilotTrace.js';
export { DEFAULT_MODEL, INTERRUPTION_BANDS, BAND_WEIGHTS, hourlyHazard, type ModelParams } from './preemptionModel.js';
export { simulateJob, type Decision, type JobOutcome } from './simulateJob.js';
export { oracleJob, eligibleMarkets, type OracleOutcome } from './oracle.js';
export { runSimulation, formatTable, moneyRatio, type RunResult, type PolicySummary } from './run.js';
