/** Constraints a workload puts on offers, derived from its spec. Pure: no Temporal, no I/O. */
import type { MoneyJSON } from '../money/money.js';
import type { WorkloadSpec } from '../workload/spec.js';

/** An inclusive range of GPUs per instance. */
export interface GpuCountRange {
  min: number;
  max: number;
}

export interface OfferConstraints {
  /**
   * Acceptable GPU classes: "H100" (any form factor), "H100 SXM" / "H100.SXM" / "H100-PCIe" (that
   * form factor), "A100-80GB" (that memory at least), "*" (any GPU). Empty: any GPU.
   */
  gpuClasses: string[];
  /** GPUs per instance: exactly N, or a range. */
  gpuCount: number | GpuCountRange;
  /** Memory of each GPU, whole GiB. */
  minGpuMemoryGiB?: number;
  /** Acceptable interconnects / form factors, any of: "SXM", "PCIe", "NVLink", "SXM5"... */
  gpuInterconnect?: string[];
  minVcpu?: number;
  /** Instance RAM. */
  minMemoryGiB?: number;
  /** Instance disk; offers that do not state a fixed disk size are sized at create and pass. */
  minDiskGiB?: number;
  /** never: on-demand only; allow: both markets, the cheapest available wins; only: spot only. */
  spot: 'never' | 'allow' | 'only';
  /** Region names, exact or glob ("us-*", "eu-?orth*"), case-insensitive. */
  regions?: string[];
  /** ISO 3166-1 codes (alpha-3, or alpha-2) and named groups ("EU", "EEA", "EFTA"). */
  countries?: string[];
  /** Connection or provider names. */
  providersAllow?: string[];
  providersDeny?: string[];
  /** Ordered: earlier names win ties on price. */
  providersPrefer?: string[];
  /** Per instance and hour. */
  maxPricePerHour?: MoneyJSON;
  /** Per GPU and hour: the instance price divided by its GPU count. */
  maxPricePerGpuHour?: MoneyJSON;
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

export function gpuCountRange(count: number | GpuCountRange): GpuCountRange {
  return typeof count === 'number' ? { min: count, max: count } : count;
}

/** "8", "1-8". */
export function formatGpuCount(count: number | GpuCountRange): string {
  const r = gpuCountRange(count);
  return r.min === r.max ? String(r.min) : `${r.min}-${r.max}`;
}

export function constraintsFromSpec(spec: WorkloadSpec): OfferConstraints {
  const r = spec.resources;
  return {
    gpuClasses: spec.gpu.classes,
    gpuCount: spec.gpu.count,
    ...(spec.gpu.minMemoryGiB !== undefined ? { minGpuMemoryGiB: spec.gpu.minMemoryGiB } : {}),
    ...(spec.gpu.interconnect ? { gpuInterconnect: spec.gpu.interconnect } : {}),
    ...(r?.minVcpu !== undefined ? { minVcpu: r.minVcpu } : {}),
    ...(r?.minMemoryGiB !== undefined ? { minMemoryGiB: r.minMemoryGiB } : {}),
    ...(r?.minDiskGiB !== undefined ? { minDiskGiB: r.minDiskGiB } : {}),
    spot: spec.spot,
    ...(spec.placement.regions ? { regions: spec.placement.regions } : {}),
    ...(spec.placement.countries ? { countries: spec.placement.countries } : {}),
    ...(spec.placement.providers.allow ? { providersAllow: spec.placement.providers.allow } : {}),
    ...(spec.placement.providers.deny ? { providersDeny: spec.placement.providers.deny } : {}),
    ...(spec.placement.providers.prefer ? { providersPrefer: spec.placement.providers.prefer } : {}),
    ...(spec.maxPricePerHour ? { maxPricePerHour: spec.maxPricePerHour } : {}),
    ...(spec.maxPricePerGpuHour ? { maxPricePerGpuHour: spec.maxPricePerGpuHour } : {}),
  };
}
