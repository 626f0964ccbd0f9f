/**
 * The durable log store: each attempt's output as chunks, written by the worker while the job runs
 * and read by clients after the instance is gone. Log content lives here, never in workflow history.
 *
 * Layout (keys of an object store, or paths under a directory):
 *   <workload>/<attempt>/meta.json            what the attempt was (number, instance), how far shipped
 *   <workload>/<attempt>/<start 16 digits>.chunk  one chunk: the node's `output` bytes [start, end)
 * A chunk is created only if none starts at the same offset (a local link(2), or an S3 PUT with
 * `If-None-Match: *`), so two shippers racing over one attempt (a retried activity beside a stale
 * one) cannot both write it: the loser re-reads where the chain ends. Chunks are therefore
 * contiguous and never overlap, and a reader follows them from any offset.
 */
export interface AttemptLogMeta {
  workloadId: string;
  /** The store's name for the attempt: `a<attempt>-<instance>`. */
  label: string;
  /** 1-based, as `gpuflow status` numbers attempts; 0 when the workflow did not say (an older run). */
  attempt: number;
  cloudId: string;
  connection: string;
  /** First and last shipment (worker clock, ISO). */
  startedAt: string;
  updatedAt: string;
  /** Node bytes shipped (the end of the chain). */
  shippedBytes: number;
  /** Bytes of the oldest chunks dropped to stay under the size limit. */
  droppedBytes: number;
  /** The job had exited and its last line was shipped. */
  done: boolean;
}

export interface StoredChunk {
  start: number;
  end: number;
  /** The (masked) records; may differ in length from end - start. */
  data: Buffer;
}

export interface LogStore {
  /** Where it is, for messages (a directory, a bucket URL). */
  readonly location: string;
  /** Writes the chunk unless one already starts at `chunk.start`; false then. */
  putChunk(workloadId: string, label: string, chunk: StoredChunk): Promise<boolean>;
  /** The starts of an attempt's chunks, ascending. */
  listChunks(workloadId: string, label: string): Promise<number[]>;
  getChunk(workloadId: string, label: string, start: number): Promise<StoredChunk>;
  deleteChunk(workloadId: string, label: string, start: number): Promise<void>;
  putMeta(meta: AttemptLogMeta): Promise<void>;
  /** The workload's attempts with a log, by attempt number then start. */
  listAttempts(workloadId: string): Promise<AttemptLogMeta[]>;
  /** Every workload with a stored log. */
  listWorkloads(): Promise<string[]>;
  deleteWorkload(workloadId: string): Promise<void>;
}

const HEADER = 'gpuflow-log-chunk 1';

export function chunkName(start: number): string {
  return `${String(start).padStart(16, '0')}.chunk`;
}

export function parseChunkName(name: string): number | undefined {
  const m = /^(\d{16})\.chunk$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** A chunk as stored: a header line with its node range, then its records. */
export function encodeChunk(c: StoredChunk): Buffer {
  return Buffer.concat([Buffer.from(`${HEADER} ${c.start} ${c.end}\n`), c.data]);
}

export function decodeChunk(b: Buffer): StoredChunk {
  const nl = b.indexOf(0x0a);
  const m = nl > 0 ? new RegExp(`^${HEADER} (\\d+) (\\d+)$`).exec(b.subarray(0, nl).toString('latin1')) : null;
  if (!m) throw new Error('not a gpuflow log chunk (bad header)');
  return { start: Number(m[1]), end: Number(m[2]), data: b.subarray(nl + 1) };
}

/** Where an attempt's chunks end: the next offset to ship from (0 when none). */
export async function endOfChain(store: LogStore, workloadId: string, label: string): Promise<number> {
  const starts = await store.listChunks(workloadId, label);
  const last = starts.at(-1);
  return last === undefined ? 0 : (await store.getChunk(workloadId, label, last)).end;
}

export function attemptLabel(attempt: number, cloudId: string): string {
  return `a${attempt}-${cloudId.replace(/[^A-Za-z0-9._-]/g, '_')}`;
}
