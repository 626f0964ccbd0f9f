/**
 * Parses the host script's `state`/`claim` output (pure): facts, GPUs from nvidia-smi's CSV or
 * rocm-smi's JSON, and leases.
 */
import { z } from 'zod';
import { LeaseRecordSchema, NvidiaGpuLineSchema, type HostGpu, type HostLease, type HostState } from './api.js';

/** `0, NVIDIA A100-SXM4-80GB, 81920` → a GPU; undefined for a line that is not one (e.g. "[N/A]"). */
export function parseNvidiaLine(line: string): HostGpu | undefined {
  const parts = line.split(',').map((s) => s.trim());
  if (parts.length < 3) return undefined;
  const r = NvidiaGpuLineSchema.safeParse({ index: Number(parts[0]), name: parts.slice(1, -1).join(','), memoryMiB: Number(parts.at(-1)) });
  return r.success ? { index: r.data.index, productName: r.data.name, memoryMiB: r.data.memoryMiB, vendor: 'NVIDIA' } : undefined;
}

const RocmCardSchema = z.record(z.string(), z.unknown());

/**
 * `rocm-smi --showproductname --showmeminfo vram --json`: `{"card0": {"Card Series": "AMD Instinct
 * MI300X", "VRAM Total Memory (B)": "206141652992", ...}, ...}` (keys vary by ROCm release: the
 * product is "Card Series" or "Card series", else "Card model").
 */
export function parseRocmJson(json: string): HostGpu[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return [];
  }
  const cards = z.record(z.string(), RocmCardSchema).safeParse(raw);
  if (!cards.success) return [];
  const out: HostGpu[] = [];
  for (const [key, card] of Object.entries(cards.data)) {
    const m = /^card(\d+)$/.exec(key);
    if (!m) continue;
    const field = (re: RegExp) => Object.entries(card).find(([k]) => re.test(k))?.[1];
    const series = field(/^card series$/i) ?? field(/^card model$/i);
    const vram = Number(field(/^vram total memory \(b\)$/i) ?? 0);
    if (typeof series !== 'string' || !series.trim()) continue;
    out.push({ index: Number(m[1]), productName: series.trim(), memoryMiB: Number.isFinite(vram) ? Math.round(vram / 2 ** 20) : 0, vendor: 'AMD' });
  }
  return out.sort((a, b) => a.index - b.index);
}

/** The lease line `lease <id> <gpus> <port> <alive> <base64 lease.json>`. */
export function parseLeaseLine(fields: string[]): HostLease | string {
  const [id = '', gpus = '', port = '0', alive = '0', b64 = ''] = fields;
  let record: unknown;
  try {
    record = JSON.parse(Buffer.from(b64, 'base64').toString('utf8'));
  } catch {
    return id;
  }
  const r = LeaseRecordSchema.safeParse(record);
  if (!r.success || !/^[0-9a-f]+$/.test(id)) return id;
  return { leaseId: id, gpus: gpus.split(',').filter(Boolean).map(Number), port: Number(port), alive: alive === '1', record: r.data };
}

export function parseHostState(stdout: string): HostState {
  const s: HostState = { arch: '', vcpu: 0, memoryKiB: 0, sshd: '', gpus: [], leases: [], badLeases: [] };
  for (const line of stdout.split('\n')) {
    const [tag, ...fields] = line.split('\t');
    const v = fields[0] ?? '';
    if (tag === 'arch') s.arch = v.trim();
    else if (tag === 'vcpu') s.vcpu = Number(v) || 0;
    else if (tag === 'memkib') s.memoryKiB = Number(v) || 0;
    else if (tag === 'sshd') s.sshd = v.trim();
    else if (tag === 'nvidia') {
      const g = parseNvidiaLine(v);
      if (g) s.gpus.push(g);
    } else if (tag === 'rocm') {
      if (!s.gpus.some((g) => g.vendor === 'NVIDIA')) s.gpus.push(...parseRocmJson(v));
    } else if (tag === 'lease') {
      const l = parseLeaseLine(fields);
      if (typeof l === 'string') s.badLeases.push(l);
      else s.leases.push(l);
    }
  }
  return s;
}
