/**
 * Ships one attempt's output from the node to the log store, chunk by chunk, from where the store's
 * chain ends: a new worker (after a restart) or a retried activity resumes at that offset, so
 * nothing is shipped twice and nothing is skipped. Only whole lines are shipped until the job has
 * exited; the node file only grows, so an offset always names the same bytes.
 */
import { completeLines, type OutputRead } from './nodeOutput.js';
import { maskRecords } from './records.js';
import { endOfChain, type AttemptLogMeta, type LogStore, type StoredChunk } from './store.js';

/** Reads the node's `output` from an offset (see readOutputCommand). */
export type OutputReader = (offset: number, maxBytes: number) => Promise<OutputRead>;

export interface ShipperOptions {
  store: LogStore;
  meta: Pick<AttemptLogMeta, 'workloadId' | 'label' | 'attempt' | 'cloudId' | 'connection'>;
  read: OutputReader;
  /** Values to mask (resolved secretEnv). */
  secrets: readonly string[];
  /** Bytes read per chunk (default 1 MiB). */
  chunkBytes?: number;
  /** Most bytes kept for the attempt: the oldest chunks are dropped past it. */
  maxAttemptBytes: number;
  now?: () => Date;
}

export class LogShipper {
  private offset: number | undefined;
  private meta: AttemptLogMeta | undefined;

  constructor(private readonly o: ShipperOptions) {}

  /** Ships everything the node has now; returns whether the job had exited and all of it is stored. */
  async ship(): Promise<{ shippedBytes: number; done: boolean }> {
    const { store, meta: m } = this.o;
    const chunkBytes = this.o.chunkBytes ?? 1024 * 1024;
    let meta = (this.meta ??= await this.loadMeta());
    let offset = (this.offset ??= await endOfChain(store, m.workloadId, m.label));
    let shipped = 0;
    let done = false;
    for (;;) {
      const r = await this.o.read(offset, chunkBytes);
      if (r.size < 0) break; // not launched yet (or launched by a runner without `output`)
      const atEnd = offset + r.bytes.length >= r.size;
      done = r.done && atEnd;
      const bytes = completeLines(r.bytes, done);
      if (bytes.length === 0) {
        if (!atEnd && r.bytes.length > 0) throw new Error(`a record longer than ${chunkBytes} bytes at offset ${offset}`);
        break;
      }
      const chunk: StoredChunk = { start: offset, end: offset + bytes.length, data: maskRecords(bytes, this.o.secrets) };
      if (await store.putChunk(m.workloadId, m.label, chunk)) {
        offset = chunk.end;
        shipped += bytes.length;
      } else {
        // Another shipper wrote this offset first: carry on from where the chain ends now.
        offset = await endOfChain(store, m.workloadId, m.label);
      }
      this.offset = offset;
      if (atEnd) break;
    }
    if (shipped > 0 || (done && !meta.done)) {
      meta = { ...meta, shippedBytes: offset, done, updatedAt: this.now() };
      meta.droppedBytes += await this.enforceLimit(offset);
      this.meta = meta;
      await store.putMeta(meta);
    }
    return { shippedBytes: shipped, done };
  }

  private now(): string {
    return (this.o.now?.() ?? new Date()).toISOString();
  }

  private async loadMeta(): Promise<AttemptLogMeta> {
    const { store, meta: m } = this.o;
    const existing = (await store.listAttempts(m.workloadId)).find((a) => a.label === m.label);
    const now = this.now();
    return existing ?? { ...m, startedAt: now, updatedAt: now, shippedBytes: 0, droppedBytes: 0, done: false };
  }

  /** Drops the oldest chunks while the attempt's stored bytes exceed the limit (the end of a log is what explains a failure). */
  private async enforceLimit(offset: number): Promise<number> {
    const { store, meta: m, maxAttemptBytes } = this.o;
    const starts = await store.listChunks(m.workloadId, m.label);
    const first = starts[0];
    if (first === undefined || offset - first <= maxAttemptBytes) return 0;
    let dropped = 0;
    for (let i = 0; i < starts.length - 1; i++) {
      const next = starts[i + 1]!;
      if (offset - starts[i]! <= maxAttemptBytes) break;
      await store.deleteChunk(m.workloadId, m.label, starts[i]!);
      dropped += next - starts[i]!;
    }
    return dropped;
  }
}
