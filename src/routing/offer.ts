/** An offer: one (provider connection, instance type, location, market) that a workload could run on. */
import { z } from 'zod';
import { MoneySchema } from '../money/money.js';
import { byteCountIn } from '../providers/sdk/bytes.js';
import { CountryAlpha3Schema, GpuSchema, type InstanceType, type Location } from '../providers/sdk/types.js';

export const OfferSchema = z.object({
  /** The connection (credential reference) this offer comes through. */
  connection: z.string().min(1),
  /** The provider kind, e.g. "local", "lambda-labs". */
  provider: z.string().min(1),
  instanceTypeId: z.string().min(1),
  type: z.string().min(1),
  location: z.string().min(1),
  subLocation: z.string().default(''),
  country: CountryAlpha3Schema,
  locationPriority: z.number().int().default(0),
  gpu: GpuSchema.optional(),
  vcpu: z.number().int().nonnegative(),
  memoryGiB: z.number().nonnegative(),
  /** Fixed disk of the instance, when the provider states one (absent: sized at create, or unknown). */
  diskGiB: z.number().nonnegative().optional(),
  spot: z.boolean(),
  pricePerHour: MoneySchema,
  available: z.boolean(),
  /** When the provider last reported this offer (ISO time). */
  seenAt: z.iso.datetime(),
});
export type Offer = z.infer<typeof OfferSchema>;

/** One offer per market (on-demand, spot) of each instance type, with its location's country. */
export function offersFromInstanceTypes(
  connection: string,
  types: InstanceType[],
  locations: Location[],
  seenAt: string,
): Offer[] {
  const byName = new Map(locations.map((l) => [l.name, l]));
  const offers: Offer[] = [];
  for (const it of types) {
    const loc = byName.get(it.location);
    if (!loc) continue; // a type in a location the provider does not list cannot be placed
    const gpu = it.supportedGpus[0];
    const diskGiB = fixedDiskGiB(it);
    const base = {
      connection,
      provider: it.provider,
      instanceTypeId: it.id,
      type: it.type,
      location: it.location,
      subLocation: it.subLocation,
      country: loc.country,
      locationPriority: loc.priority,
      ...(gpu ? { gpu } : {}),
      vcpu: it.vcpu,
      memoryGiB: byteCountIn(it.memory, 'GiB'),
      ...(diskGiB !== undefined ? { diskGiB } : {}),
      available: it.isAvailable && loc.available,
      seenAt,
    };
    if (it.basePrice && it.supportedUsageClasses.includes('on-demand')) offers.push({ ...base, spot: false, pricePerHour: it.basePrice });
    if (it.spotPrice && it.supportedUsageClasses.includes('spot')) offers.push({ ...base, spot: true, pricePerHour: it.spotPrice });
  }
  return offers;
}


/** The type's fixed disk in GiB: the sum of its non-elastic storage; undefined if any is elastic or none is listed. */
function fixedDiskGiB(it: InstanceType): number | undefined {
  if (it.supportedStorage.length === 0 || it.supportedStorage.some((s) => s.isElastic)) return undefined;
  return it.supportedStorage.reduce((sum, s) => sum + s.count * byteCountIn(s.size, 'GiB'), 0);
}
