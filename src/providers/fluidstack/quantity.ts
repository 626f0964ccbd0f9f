/**
 * Kubernetes resource quantities, as FluidStack writes instance memory ("960Gi"). Binary suffixes
 * (Ki…Pi) and decimal ones (k, M, G, T, P) per the Kubernetes quantity format; a trailing "B"
 * ("960GB", "960GiB") is tolerated. Returns the contract's Bytes in the largest exact unit.
 */
import { bytes, BYTE_UNITS, type ByteUnit, type Bytes } from '../sdk/bytes.js';

const SUFFIX: Readonly<Record<string, bigint>> = {
  '': 1n,
  Ki: BYTE_UNITS.KiB, Mi: BYTE_UNITS.MiB, Gi: BYTE_UNITS.GiB, Ti: BYTE_UNITS.TiB, Pi: BYTE_UNITS.PiB,
  k: BYTE_UNITS.KB, K: BYTE_UNITS.KB, M: BYTE_UNITS.MB, G: BYTE_UNITS.GB, T: BYTE_UNITS.TB, P: BYTE_UNITS.PB,
};
const QUANTITY = /^(\d+)(?:\.(\d+))?\s*(Ki|Mi|Gi|Ti|Pi|k|K|M|G|T|P)?B?$/;
/** Largest first, in the suffix's own family (binary for Gi, decimal for G), then the other. */
const BINARY: readonly ByteUnit[] = ['PiB', 'TiB', 'GiB', 'MiB', 'KiB'];
const DECIMAL: readonly ByteUnit[] = ['PB', 'TB', 'GB', 'MB', 'KB'];

/** The quantity as Bytes, or undefined when it is not one (or not a whole number of bytes). */
export function parseQuantity(q: string): Bytes | undefined {
  const m = QUANTITY.exec(q.trim());
  if (!m) return undefined;
  const frac = m[2] ?? '';
  const scaled = BigInt(`${m[1]}${frac}`) * SUFFIX[m[3] ?? '']!;
  const div = 10n ** BigInt(frac.length);
  if (scaled % div !== 0n) return undefined;
  const total = scaled / div;
  const units = m[3] && !m[3].endsWith('i') ? [...DECIMAL, ...BINARY] : [...BINARY, ...DECIMAL];
  const unit = [...units, 'B' as const].find((u) => total % BYTE_UNITS[u] === 0n && total / BYTE_UNITS[u] <= BigInt(Number.MAX_SAFE_INTEGER)) ?? 'B';
  return bytes(Number(total / BYTE_UNITS[unit]), unit);
}
