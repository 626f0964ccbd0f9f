/**
 * Simulated time is a grid of 6-minute steps: a tenth of an hour, so a price per hour at scale 6
 * is exactly that step's cost at scale 7 (no rounding, no floats). Prices change hourly.
 */
export const STEP_MINUTES = 6;
export const STEP_MS = STEP_MINUTES * 60_000;
export const STEPS_PER_HOUR = 60 / STEP_MINUTES;
/** Scale of trace prices per hour (10^-6 USD); a step's cost is the same integer at scale 7. */
export const PRICE_SCALE = 6;
export const STEP_COST_SCALE = PRICE_SCALE + 1;

/** Whole steps covering `ms` (rounded up: work never takes less than it needs). */
export function stepsFor(ms: number): number {
  return Math.ceil(ms / STEP_MS);
}

export function hourOf(step: number): number {
  return Math.floor(step / STEPS_PER_HOUR);
}
