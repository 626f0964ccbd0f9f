/**
 * GPU names as providers write them, turned into the contract's `Gpu`.
 *
 * Providers spell the same accelerator many ways: Lambda "8x Tesla V100 (16 GB)", NVML
 * "NVIDIA A100-SXM4-80GB", Shadeform "A100_80GB", catalogs "GeForce RTX 4090". The model name is
 * normalized so offers from different clouds compare equal:
 *
 * - Brand and filler words are dropped, case-insensitively: NVIDIA, Tesla, GeForce, Quadro, AMD,
 *   Instinct, Radeon, Intel, Habana, and "Tensor Core GPU".
 * - Memory ("80GB", "80 GB"), interconnect / form factor (SXM4, PCIe, NVL...) and memory type
 *   (HBM3, GDDR6X...) become their own fields, wherever they appear: after spaces, "-", "_" or
 *   inside parentheses.
 * - The remaining words are joined without separators: "RTX 4090" → "RTX4090", "RTX A6000" →
 *   "RTXA6000", "Gaudi 2" → "Gaudi2". Known models take their spelling from {@link KNOWN_GPU_MODELS}
 *   (and its aliases: a bare "A6000" is the RTX A6000); unknown ones are upper-cased.
 */
import { bytes } from './bytes.js';
import type { Architecture, Gpu, Manufacturer } from './types.js';

export interface KnownGpuModel {
  /** Canonical name, as `Gpu.name`. */
  readonly name: string;
  readonly manufacturer: Manufacturer;
  /** Memory of one GPU in GiB when the description does not say. */
  readonly vramGiB: number;
  /** Other compact (separator-free, upper-case) spellings of the same model. */
  readonly aliases?: readonly string[];
  /** Memory that differs by interconnect / form factor, keyed by normalized networkDetails. */
  readonly vramGiBByNetwork?: Readonly<Record<string, number>>;
}

/** Per-GPU memory is the smallest common SKU unless stated: an "A100" is the 40 GB one. */
export const KNOWN_GPU_MODELS: readonly KnownGpuModel[] = [
  // NVIDIA data center
  { name: 'B200', manufacturer: 'NVIDIA', vramGiB: 192 },
  { name: 'GB200', manufacturer: 'NVIDIA', vramGiB: 192 },
  { name: 'H200', manufacturer: 'NVIDIA', vramGiB: 141 },
  { name: 'H100', manufacturer: 'NVIDIA', vramGiB: 80, vramGiBByNetwork: { NVL: 94 } },
  { name: 'GH200', manufacturer: 'NVIDIA', vramGiB: 96 },
  { name: 'A100', manufacturer: 'NVIDIA', vramGiB: 40 },
  { name: 'A40', manufacturer: 'NVIDIA', vramGiB: 48 },
  { name: 'A30', manufacturer: 'NVIDIA', vramGiB: 24 },
  { name: 'A10', manufacturer: 'NVIDIA', vramGiB: 24 },
  { name: 'A10G', manufacturer: 'NVIDIA', vramGiB: 24 },
  { name: 'L40S', manufacturer: 'NVIDIA', vramGiB: 48 },
  { name: 'L40', manufacturer: 'NVIDIA', vramGiB: 48 },
  { name: 'L4', manufacturer: 'NVIDIA', vramGiB: 24 },
  { name: 'V100', manufacturer: 'NVIDIA', vramGiB: 16 },
  { name: 'T4', manufacturer: 'NVIDIA', vramGiB: 16 },
  // NVIDIA workstation and consumer
  { name: 'RTXA6000', manufacturer: 'NVIDIA', vramGiB: 48, aliases: ['A6000'] },
  { name: 'RTXA5000', manufacturer: 'NVIDIA', vramGiB: 24, aliases: ['A5000'] },
  { name: 'RTXA4000', manufacturer: 'NVIDIA', vramGiB: 16, aliases: ['A4000'] },
  { name: 'RTX6000Ada', manufacturer: 'NVIDIA', vramGiB: 48, aliases: ['RTX6000ADAGENERATION', '6000ADA'] },
  { name: 'RTX5090', manufacturer: 'NVIDIA', vramGiB: 32 },
  { name: 'RTX4090', manufacturer: 'NVIDIA', vramGiB: 24 },
  { name: 'RTX3090', manufacturer: 'NVIDIA', vramGiB: 24 },
  // AMD
  { name: 'MI300X', manufacturer: 'AMD', vramGiB: 192 },
  { name: 'MI325X', manufacturer: 'AMD', vramGiB: 256 },
  { name: 'MI250X', manufacturer: 'AMD', vramGiB: 128 },
  // Intel
  { name: 'Gaudi2', manufacturer: 'Intel', vramGiB: 96, aliases: ['HL225'] },
  { name: 'Gaudi3', manufacturer: 'Intel', vramGiB: 128 },
];

const MODELS_BY_COMPACT_NAME: ReadonlyMap<string, KnownGpuModel> = new Map(
  KNOWN_GPU_MODELS.flatMap((m) => [m.name, ...(m.aliases ?? [])].map((n) => [n.toUpperCase(), m] as const)),
);

/** Brand and filler words dropped from names; the brands also hint the manufacturer. */
const NOISE_WORDS: Readonly<Record<string, Manufacturer | undefined>> = {
  NVIDIA: 'NVIDIA',
  TESLA: 'NVIDIA',
  GEFORCE: 'NVIDIA',
  QUADRO: 'NVIDIA',
  AMD: 'AMD',
  INSTINCT: 'AMD',
  RADEON: 'AMD',
  INTEL: 'Intel',
  HABANA: 'Intel',
  TENSOR: undefined,
  CORE: undefined,
  GPU: undefined,
};

/** Model-family patterns for names not in the table, tried in order. */
const MANUFACTURER_BY_FAMILY: readonly { pattern: RegExp; manufacturer: Manufacturer }[] = [
  { pattern: /^MI\d/, manufacturer: 'AMD' },
  { pattern: /^GAUDI/, manufacturer: 'Intel' },
  { pattern: /^(RTX|GTX|TITAN|G[HB]\d|[ABHLTVPK]\d)/, manufacturer: 'NVIDIA' },
];

/** Interconnect / form-factor words, keyed by their upper-case spelling. */
const NETWORK_WORDS: Readonly<Record<string, string>> = {
  PCIE: 'PCIe',
  NVL: 'NVL',
  NVLINK: 'NVLink',
  SXM: 'SXM',
  SXM2: 'SXM2',
  SXM3: 'SXM3',
  SXM4: 'SXM4',
  SXM5: 'SXM5',
  SXM6: 'SXM6',
};

/** Memory technologies: HBM3, HBM2e, GDDR6X... (NVIDIA's spelling, lower-case "e"). */
const MEMORY_TYPE = /^(HBM\d?E?|GDDR\d+X?|LPDDR\d+X?)$/i;

/** "80GB", "80 GB", "80GiB", "80G" as its own word (after a separator, "(" or the start). */
const MEMORY_SIZE = /(^|[\s_\-(,])(\d+)\s?(?:GiB|GB|G)(?=$|[\s_\-),])/i;

/** A leading GPU count such as "8x " (Lambda's `(\d+)x`). */
const GPU_COUNT = /^\s*(\d+)\s*[x×]\s*/i;

/** Lambda's rule: descriptions of CPU-only types carry "CPU". */
const CPU_ONLY = /\bCPU\b/i;

export interface NormalizedGpuName {
  /** Canonical model name ("H100", "RTX4090"); empty if the string names no model. */
  name: string;
  manufacturer: Manufacturer;
  /** Interconnect / form factor ("SXM4", "PCIe", "NVL"), or "". */
  networkDetails: string;
  /** Memory technology ("HBM3"), or "". */
  memoryDetails: string;
  /** Memory of one GPU: as stated, else from the known-model table; absent when neither knows. */
  memoryGiB?: number;
}

export function normalizeGpuName(raw: string): NormalizedGpuName {
  let text = raw.trim();
  let statedMemoryGiB: number | undefined;
  const size = MEMORY_SIZE.exec(text);
  if (size) {
    statedMemoryGiB = Number(size[2]);
    text = text.slice(0, size.index) + size[1] + text.slice(size.index + size[0].length);
  }

  // Lambda puts interconnect in parentheses ("(80 GB SXM5)"): what is there besides the memory
  // is networkDetails, even a word we do not know.
  const parenthesized = /\(([^)]*)\)/.exec(text);
  const outside = parenthesized ? text.slice(0, parenthesized.index) + ' ' + text.slice(parenthesized.index + parenthesized[0].length) : text;

  const modelWords: string[] = [];
  const network: string[] = [];
  const memoryTypes: string[] = [];
  let brandHint: Manufacturer | undefined;

  for (const word of splitWords(outside)) {
    const upper = word.toUpperCase();
    if (/^\d+X$/.test(upper)) continue; // a count such as "8x"
    if (Object.hasOwn(NOISE_WORDS, upper)) {
      brandHint ??= NOISE_WORDS[upper]!;
    } else if (Object.hasOwn(NETWORK_WORDS, upper)) {
      network.push(NETWORK_WORDS[upper]!);
    } else if (MEMORY_TYPE.test(word)) {
      memoryTypes.push(memoryTypeSpelling(word));
    } else {
      modelWords.push(upper);
    }
  }
  for (const word of parenthesized ? splitWords(parenthesized[1]!) : []) {
    const upper = word.toUpperCase();
    if (MEMORY_TYPE.test(word)) memoryTypes.push(memoryTypeSpelling(word));
    else network.push(Object.hasOwn(NETWORK_WORDS, upper) ? NETWORK_WORDS[upper]! : word);
  }

  const compact = modelWords.join('');
  const known = MODELS_BY_COMPACT_NAME.get(compact);
  const networkDetails = network.join(' ');
  const memoryGiB = statedMemoryGiB ?? (known ? (known.vramGiBByNetwork?.[networkDetails] ?? known.vramGiB) : undefined);
  const result: NormalizedGpuName = {
    name: known?.name ?? compact,
    manufacturer: known?.manufacturer ?? brandHint ?? manufacturerOfFamily(compact),
    networkDetails,
    memoryDetails: memoryTypes.join(' '),
  };
  if (memoryGiB !== undefined) result.memoryGiB = memoryGiB;
  return result;
}

/**
 * Parses a GPU description such as Lambda's "8x A100 (40 GB SXM4)" or a bare name such as
 * "NVIDIA H100 80GB HBM3" (count 1). Returns undefined for CPU-only descriptions and for strings
 * that name no GPU model. Memory that neither the string nor the table knows is 0 GiB.
 */
export function parseGpuDescription(desc: string): Gpu | undefined {
  if (CPU_ONLY.test(desc)) return undefined;
  const countMatch = GPU_COUNT.exec(desc);
  const count = countMatch ? Number(countMatch[1]) : 1;
  if (!Number.isSafeInteger(count) || count < 1) return undefined;
  return gpuFromNormalizedName(count, normalizeGpuName(countMatch ? desc.slice(countMatch[0].length) : desc));
}

/** `count` GPUs of a normalized model, as the contract's Gpu; undefined when the name was not recognized. */
export function gpuFromNormalizedName(count: number, n: NormalizedGpuName): Gpu | undefined {
  if (!n.name) return undefined;
  return {
    count,
    memory: bytes(n.memoryGiB ?? 0, 'GiB'),
    memoryDetails: n.memoryDetails,
    networkDetails: n.networkDetails,
    manufacturer: n.manufacturer,
    name: n.name,
    type: gpuType(n.name, n.networkDetails),
  };
}

/** The contract's `Gpu.type`: name + "." + networkDetails, or name ("A100.SXM4", "V100"). */
export function gpuType(name: string, networkDetails: string): string {
  return networkDetails ? `${name}.${networkDetails}` : name;
}

/** Grace superchips (GH200, GB200...) come with an arm64 host; other GPUs say nothing about it. */
export function hostArchitectureForGpu(name: string): Architecture | undefined {
  return /^G[HB]\d/i.test(name) ? 'arm64' : undefined;
}

function splitWords(s: string): string[] {
  return s.split(/[\s_\-(),/]+/).filter((w) => w.length > 0);
}

function memoryTypeSpelling(word: string): string {
  return word.toUpperCase().replace(/E$/, 'e');
}

function manufacturerOfFamily(compactName: string): Manufacturer {
  return MANUFACTURER_BY_FAMILY.find((f) => f.pattern.test(compactName))?.manufacturer ?? 'unknown';
}
