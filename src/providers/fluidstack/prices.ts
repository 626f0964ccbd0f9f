/**
 * What FluidStack instance types cost. The infrastructure API has no prices (`InstanceType` is
 * name, cpu, memory and GPUs; FluidStack prices are per contract), so a connection states its own:
 * USD per hour per instance type, on demand and, where the contract has it, preemptible. gpuflow
 * routes by price, so a type without a price is not offered.
 */
import { z } from 'zod';
import { moneyFromDecimal, toJSON, type MoneyJSON } from '../../money/money.js';

const decimalUsd = (field: string) =>
  z.string({ message: `${field} must be a decimal USD amount per hour such as "2.49"` }).regex(/^\d+(\.\d{1,8})?$/, `${field} must be a decimal USD amount per hour such as "2.49"`);

export const FluidstackPriceSchema = z
  .object({
    onDemand: decimalUsd('prices.<type>.onDemand'),
    /** Absent: preemptible instances of this type are not offered. */
    preemptible: decimalUsd('prices.<type>.preemptible').optional(),
  })
  .strict();

/** Instance type name (e.g. "h100-hgx-80gb.8x") → its hourly prices. */
export const FluidstackPriceListSchema = z.record(z.string().min(1, 'prices keys are FluidStack instance type names such as h100-hgx-80gb.8x'), FluidstackPriceSchema);
export type FluidstackPriceList = z.input<typeof FluidstackPriceListSchema>;

export interface FluidstackTypePrices {
  onDemand: MoneyJSON;
  preemptible?: MoneyJSON;
}

export function pricesFor(list: z.output<typeof FluidstackPriceListSchema>, type: string): FluidstackTypePrices | undefined {
  const p = list[type];
  if (!p) return undefined;
  return {
    onDemand: toJSON(moneyFromDecimal(p.onDemand, 'USD')),
    ...(p.preemptible ? { preemptible: toJSON(moneyFromDecimal(p.preemptible, 'USD')) } : {}),
  };
}
