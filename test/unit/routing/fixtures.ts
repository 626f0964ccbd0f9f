/** Offers for routing tests: one realistic H100 on-demand offer, overridable field by field. */
import { moneyFromDecimal, toJSON, type MoneyJSON } from '../../../src/money/money.js';
import { bytes } from '../../../src/providers/sdk/bytes.js';
import { gpuType } from '../../../src/providers/sdk/gpu.js';
import type { OfferConstraints } from '../../../src/routing/constraints.js';
import type { Offer } from '../../../src/routing/offer.js';

export const NOW = new Date('2026-01-01T12:00:00Z');

export function usd(decimal: string): MoneyJSON {
  return toJSON(moneyFromDecimal(decimal));
}

let seq = 0;

export function gpu(name: string, count = 1, memoryGiB = 80, networkDetails = '') {
  return { count, memory: bytes(memoryGiB, 'GiB'), memoryDetails: '', networkDetails, manufacturer: 'NVIDIA' as const, name, type: gpuType(name, networkDetails) };
}

export function offer(over: Partial<Offer> & { price?: string } = {}): Offer {
  const { price, ...rest } = over;
  seq++;
  return {
    connection: 'lambda',
    provider: 'lambda',
    instanceTypeId: `it-${seq}`,
    type: 'gpu_1x_h100_sxm5',
    location: 'us-east-1',
    subLocation: '',
    country: 'USA',
    locationPriority: 0,
    gpu: gpu('H100', 1, 80, 'SXM5'),
    vcpu: 26,
    memoryGiB: 225,
    spot: false,
    pricePerHour: usd(price ?? '2.49'),
    available: true,
    seenAt: NOW.toISOString(),
    ...rest,
  };
}

export function constraints(over: Partial<OfferConstraints> = {}): OfferConstraints {
  return { gpuClasses: ['H100'], gpuCount: 1, spot: 'never', ...over };
}
