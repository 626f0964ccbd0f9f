/** Byte sizes with an explicit unit, as the contract's `{ value, unit }` JSON form. */
import { z } from 'zod';

export const BYTE_UNITS = {
  B: 1n,
  KB: 10n ** 3n, MB: 10n ** 6n, GB: 10n ** 9n, TB: 10n ** 12n, PB: 10n ** 15n,
  KiB: 2n ** 10n, MiB: 2n ** 20n, GiB: 2n ** 30n, TiB: 2n ** 40n, PiB: 2n ** 50n,
} as const;
export type ByteUnit = keyof typeof BYTE_UNITS;

export const BytesSchema = z
  .object({
    value: z.number().int().nonnegative(),
    unit: z.enum(Object.keys(BYTE_UNITS) as [ByteUnit, ...ByteUnit[]]),
  })
  .strict();
export type Bytes = z.infer<typeof BytesSchema>;

export function bytes(value: number, unit: ByteUnit): Bytes {
  return BytesSchema.parse({ value, unit });
}

export function byteCount(b: Bytes): bigint {
  return BigInt(b.value) * BYTE_UNITS[b.unit];
}

/** Size in `unit`, truncated toward zero (e.g. 80 GB in GiB is 74). */
export function byteCountIn(b: Bytes, unit: ByteUnit): number {
  return Number(byteCount(b) / BYTE_UNITS[unit]);
}

export function compareBytes(a: Bytes, b: Bytes): -1 | 0 | 1 {
  const x = byteCount(a);
  const y = byteCount(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
