/**
 * Reading a workload's logs: every attempt's stored log, then (following) the current attempt live,
 * from the node over SSH when a key is at hand, else from the store as the worker ships it. Each
 * attempt is read by byte offset into its node file, the same offsets the store is chunked by, so
 * moving between the node and the store, reconnecting after a drop, or waiting out a worker restart
 * neither repeats nor skips a line.
 */
import type { SshTarget } from '../ssh/sshClient.js';
import { parseRecords, type LogLine } from './records.js';
import { attemptLabel, type LogStore } from './store.js';

export interface LogsOptions {
  /** Keep reading until the workload ends. */
  follow?: boolean;
  /** Only this attempt (1-based, as `gpuflow status` numbers them). */
  attempt?: number;
  /** Only lines written at or after this time. */
  since?: Date;
  /** Only the last N lines of what is stored (then, following, everything new). */
  tail?: number;
  signal?: AbortSignal;
  /** Store polling while following without SSH (default 1 s). */
  pollMs?: number;
}

export interface LiveAttempt {
  attempt: number;
  cloudId: string;
}

/** What the reader needs to know of the workload as it runs (from its workflow). */
export interface WorkloadLogView {
  /** false once the workload has ended; undefined when that cannot be told now. */
  running(): Promise<boolean | undefined>;
  /** Attempts that had an instance, in order; undefined when unknown now (no worker answers). */
  attempts(): Promise<LiveAttempt[] | undefined>;
  /** How to reach the current attempt's node over SSH (with a key), if it lives and a key is at hand. */
  liveTarget(): Promise<{ target: SshTarget; jobDir: string; cloudId: string } | undefined>;
}

interface Cursor {
  label: string;
  attempt: number;
  cloudId: string;
  pos: number;
  /** Bytes of a record not complete yet (live reads only). */
  partial: Buffer;
}

/** Microsecond ISO form, as the node writes times, so strings compare as times. */
function sinceKey(d: Date): string {
  return d.toISOString().replace(/Z$/, '000Z');
}

/** Reads an attempt's stored chunks from node offset `from`; `end` is where they stop. */
export async function readStored(store: LogStore, workloadId: string, label: string, from: number): Promise<{ data: Buffer; end: number; dropped: number }> {
  const starts = await store.listChunks(workloadId, label);
  let pos = from;
  let dropped = 0;
  if (starts.length > 0 && starts[0]! > pos) {
    dropped = starts[0]! - pos;
    pos = starts[0]!;
  }
  const parts: Buffer[] = [];
  for (let i = 0; i < starts.length; i++) {
    if (i + 1 < starts.length && starts[i + 1]! <= pos) continue;
    const c = await store.getChunk(workloadId, label, starts[i]!);
    if (c.end <= pos) continue;
    // Worker-side masking keeps lengths, so a node offset inside a chunk is an offset into its data.
    parts.push(c.data.subarray(Math.max(0, pos - c.start)));
    pos = c.end;
  }
  return { data: Buffer.concat(parts), end: pos, dropped };
}

export async function* workloadLogs(store: LogStore, workloadId: string, view: WorkloadLogView, o: LogsOptions = {}): AsyncGenerator<LogLine> {
  const since = o.since ? sinceKey(o.since) : undefined;
  const keep = (l: LogLine) => !since || !l.time || l.time >= since;
  const cursors = new Map<string, Cursor>();
  const cursorOf = (a: { attempt: number; cloudId: string; label?: string }): Cursor => {
    const label = a.label ?? attemptLabel(a.attempt, a.cloudId);
    let c = cursors.get(label);
    if (!c) cursors.set(label, (c = { label, attempt: a.attempt, cloudId: a.cloudId, pos: 0, partial: Buffer.alloc(0) }));
    return c;
  };
  const known = async (): Promise<Cursor[]> => {
    for (const m of await store.listAttempts(workloadId)) cursorOf(m);
    for (const a of (await view.attempts().catch(() => undefined)) ?? []) cursorOf(a);
    return [...cursors.values()].filter((c) => o.attempt === undefined || c.attempt === o.attempt).sort((a, b) => a.attempt - b.attempt);
  };
  const header = (c: Cursor): LogLine => ({ attempt: c.attempt, time: '', stream: 'gpuflow', text: `gpuflow: attempt ${c.attempt || '?'} on ${c.cloudId}` });
  /** New stored lines of one attempt. */
  const fromStore = async (c: Cursor): Promise<LogLine[]> => {
    const r = await readStored(store, workloadId, c.label, c.pos);
    const lines: LogLine[] = [];
    if (r.dropped > 0) lines.push({ attempt: c.attempt, time: '', stream: 'gpuflow', text: `gpuflow: ${r.dropped} bytes of older output dropped (size limit GPUFLOW_LOG_MAX_ATTEMPT_SIZE)` });
    c.pos = r.end;
    lines.push(...parseRecords(r.data, c.attempt).filter(keep));
    return lines;
  };

  // What is stored already, attempt by attempt.
  let attempts = await known();
  const many = attempts.length > 1;
  const history: LogLine[] = [];
  let shown: Cursor | undefined;
  for (const c of attempts) {
    if (many) history.push(header(c));
    history.push(...(await fromStore(c)));
    shown = c;
  }
  const tail = o.tail;
  const out = tail === undefined ? history : tail <= 0 ? [] : history.filter((l) => l.stream !== 'gpuflow' || !l.text.startsWith('gpuflow: attempt ')).slice(-tail);
  for (const l of out) yield l;
  if (!o.follow) return;

  const pollMs = o.pollMs ?? 1_000;
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  for (;;) {
    if (o.signal?.aborted) return;
    attempts = await known();
    const current = attempts.at(-1);
    if (current && current !== shown) {
      // A new attempt (recovery): what the old one shipped last, then the new one.
      if (shown) for (const l of await fromStore(shown)) yield l;
      yield header(current);
      shown = current;
    }
    const running = await view.running().catch(() => undefined);
    if (shown && running !== false) {
      const live = o.attempt === undefined || o.attempt === shown.attempt ? await view.liveTarget().catch(() => undefined) : undefined;
      if (live && live.cloudId === shown.cloudId) {
        // Live from the node: catch up from the store first (cheaper than re-reading the node).
        for (const l of await fromStore(shown)) yield l;
        yield* liveLines(shown, live, keep, o.signal, async () => (await view.running().catch(() => undefined)) === false);
        continue;
      }
    }
    if (shown) for (const l of await fromStore(shown)) yield l;
    if (running === false) {
      // Ended: the worker ships the last line before the workflow closes; one more read catches it.
      if (shown) for (const l of await fromStore(shown)) yield l;
      return;
    }
    await sleep(pollMs);
  }
}

/** Lines from the node from the cursor's offset until the SSH stream ends; the cursor advances per complete record. */
async function* liveLines(
  c: Cursor,
  live: { target: SshTarget; jobDir: string },
  keep: (l: LogLine) => boolean,
  signal: AbortSignal | undefined,
  ended: () => Promise<boolean>,
): AsyncGenerator<LogLine> {
  const queue: Buffer[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  // ssh2 loads only when a live node is followed: every other CLI command starts without it.
  const { tailNodeOutput } = await import('./nodeTail.js');
  const done = tailNodeOutput(
    live.target,
    live.jobDir,
    c.pos,
    (b) => {
      queue.push(b);
      wake?.();
    },
    { ...(signal ? { signal } : {}), stopWhen: ended },
  ).then(() => {
    finished = true;
    wake?.();
  });
  for (;;) {
    while (queue.length > 0) {
      const buf = Buffer.concat([c.partial, queue.shift()!]);
      const end = buf.lastIndexOf(0x0a) + 1;
      c.partial = Buffer.from(buf.subarray(end));
      if (end === 0) continue;
      c.pos += end;
      for (const l of parseRecords(buf.subarray(0, end), c.attempt)) if (keep(l)) yield l;
    }
    if (finished) break;
    await new Promise<void>((r) => (wake = r));
    wake = undefined;
  }
  await done;
  // A record cut by the drop is read again, whole, from c.pos next time.
  c.partial = Buffer.alloc(0);
}
