/** Constraints a workload puts on offers, derived from its spec. Pure: no Temporal, no I/O. */
import type { MoneyJSON } from '../money/money.js';
import type { WorkloadSpec } from '../workload/spec.js';

export interface OfferConstraints {
  gpuClasses: string[];
  gpuCount: number;
  minGpuMemoryGiB?: number;
  spot: 'never' | 'allow' | 'only';
  regions?: string[];
  countries?: string[];
  providersAllow?: string[];
  providersDeny?: string[];
  providersPrefer?: string[];
  maxPricePerHour?: MoneyJSON;
}

/** A placement scope that failed and must not be tried again in this pass. */
export interface BlockedScope {
  connection: string;
  scope: 'offer' | 'zone' | 'region' | 'provider';
  location?: string;
  subLocation?: string;
  /** For zone blocks: the instance type that had no capacity there (other types may still fit). */
  type?: string;
  instanceTypeId?: string;
  spot?: boolean;
  reason: string;
}

export function constraintsFromSpec(spec: WorkloadSpec): OfferConstraints {
  return {
    gpuClasses: spec.gpu.classes,
    gpuCount: spec.gpu.count,
    ...(spec.gpu.minMemoryGiB !== undefined ? { minGpuMemoryGiB: spec.gpu.minMemoryGiB } : {}),
    spot: spec.spot,
    ...(spec.placement.regions ? { regions: spec.placement.regions } : {}),
    ...(spec.placement.countries ? { countries: spec.placement.countries } : {}),
    ...(spec.placement.providers.allow ? { providersAllow: spec.placement.providers.allow } : {}),
    ...(spec.placement.providers.deny ? { providersDeny: spec.placement.providers.deny } : {}),
    ...(spec.placement.providers.prefer ? { providersPrefer: spec.placement.providers.prefer } : {}),
    ...(spec.maxPricePerHour ? { maxPricePerHour: spec.maxPricePerHour } : {}),
  };
}
