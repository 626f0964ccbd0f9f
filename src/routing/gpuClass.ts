/**
 * GPU classes as users write them ("H100", "h100-sxm", "A100-80GB", "H100.SXM", "rtx 4090") and
 * how they match an offer's GPU. Names go through the provider SDK's normalizer
 * (src/providers/sdk/gpu.ts), so aliases and brand words are handled in one place.
 *
 * - A bare model ("H100") matches every form factor and memory size of that model.
 * - A form factor ("H100 SXM", "H100-PCIe", "H100.SXM5") restricts it: see {@link interconnectMatches}.
 * - A memory size ("A100-80GB") restricts it to GPUs with at least that memory (whole GiB).
 * - "*" or "any" matches every GPU.
 * Pure: no I/O.
 */
import { byteCount, type Bytes } from '../providers/sdk/bytes.js';
import { normalizeGpuName } from '../providers/sdk/gpu.js';

export interface GpuClassPattern {
  /** As written. */
  text: string;
  /** Canonical model name, upper case without separators ("H100", "RTXA6000"); "" matches any. */
  model: string;
  /** Interconnect / form factor asked for, upper case ("SXM", "PCIE", "NVLINK"), if any. */
  interconnect?: string;
  /** Memory per GPU the class names ("A100-80GB" → 80), if any. */
  memoryGiB?: number;
}

const STATED_MEMORY = /(?:^|[\s_\-(.,])(\d+)\s?(?:GiB|GB|G)(?=$|[\s_\-).,])/i;

/** Canonical, comparable model key of a GPU name: "NVIDIA RTX A6000" and "A6000" → "RTXA6000". */
export function gpuModelKey(name: string): string {
  const n = normalizeGpuName(name).name;
  return (n || name).toUpperCase().replace(/[\s_-]+/g, '');
}

export function parseGpuClass(text: string): GpuClassPattern {
  const t = text.trim();
  if (t === '*' || /^any$/i.test(t)) return { text, model: '' };
  // "H100.SXM" is the contract's Gpu.type spelling: the dot separates model and form factor.
  const n = normalizeGpuName(t.replace(/\./g, ' '));
  const stated = STATED_MEMORY.exec(t);
  return {
    text,
    model: (n.name || t).toUpperCase().replace(/[\s_-]+/g, ''),
    ...(n.networkDetails ? { interconnect: n.networkDetails.toUpperCase().replace(/\s+/g, '') } : {}),
    ...(stated ? { memoryGiB: Number(stated[1]) } : {}),
  };
}

/**
 * Whether an offer's networkDetails ("SXM5", "PCIe", "NVLink", "") satisfies a wanted interconnect:
 * - "SXM" accepts any SXM generation (SXM2 ... SXM6); "SXM5" only SXM5.
 * - "NVLink" accepts NVLink, NVL and SXM boards (all connect their GPUs with NVLink).
 * - Anything else ("PCIe", "NVL") must be equal, case-insensitively.
 * Unknown networkDetails ("") satisfy nothing: asked-for interconnects must be stated.
 */
export function interconnectMatches(wanted: string, offerNetworkDetails: string): boolean {
  const w = wanted.toUpperCase().replace(/\s+/g, '');
  for (const tok of offerNetworkDetails.toUpperCase().split(/\s+/)) {
    if (!tok) continue;
    if (tok === w) return true;
    if (w === 'NVLINK' && (tok === 'NVL' || tok.startsWith('SXM'))) return true;
    if (/^\D+$/.test(w) && tok.startsWith(w) && /^\d+$/.test(tok.slice(w.length))) return true;
  }
  return false;
}

/** Memory of one GPU in whole GiB, rounded to nearest (nvidia-smi's 81559 MiB of an "80 GB" H100 is 80). */
export function gpuMemoryGiB(memory: Bytes): number {
  if (memory.unit === 'GiB') return memory.value;
  if (memory.unit === 'MiB') return Math.round(memory.value / 1024);
  return Math.round(Number(byteCount(memory)) / 2 ** 30);
}

/** Spelling of an interconnect for messages: "PCIe", "SXM", "NVLink". */
export function interconnectLabel(upper: string): string {
  return upper === 'PCIE' ? 'PCIe' : upper === 'NVLINK' ? 'NVLink' : upper;
}
