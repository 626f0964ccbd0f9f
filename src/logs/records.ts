/** The records of a node's `output` file (see nodeOutput.ts) as log lines, and the masking of secret values in them. */

export type LogStream = 'stdout' | 'stderr' | 'gpuflow';

export interface LogLine {
  /** 1-based attempt (0: unknown, an older run). */
  attempt: number;
  /** When the node wrote it (ISO, UTC, microseconds). */
  time: string;
  stream: LogStream;
  text: string;
}

const STREAMS: Record<string, LogStream> = { o: 'stdout', e: 'stderr', g: 'gpuflow' };
const RECORD = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z) ([oeg]) (.*)$/s;

/** Splits records; a line that is not one (never written by the stamper) is kept as stdout text. */
export function parseRecords(data: Buffer | string, attempt: number): LogLine[] {
  const text = typeof data === 'string' ? data : data.toString('utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((l) => {
    const m = RECORD.exec(l);
    return m ? { attempt, time: m[1]!, stream: STREAMS[m[2]!]!, text: m[3]! } : { attempt, time: '', stream: 'stdout', text: l };
  });
}

/**
 * Masks every secret value in the text of each record (not in its time or stream), and each line
 * of a multi-line value (a PEM key) on its own, since records are lines. The node's stamper masks
 * first (with `***`); this is the worker's second pass before anything is stored, and it keeps the
 * byte length (one `*` per byte) so node offsets stay offsets into the stored chunk.
 */
export function maskRecords(data: Buffer, secrets: readonly string[]): Buffer {
  const needles = [...new Set(secrets.flatMap((s) => [s, ...s.split(/\r?\n/)]).filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
  if (needles.length === 0) return data;
  const text = data.toString('utf8');
  if (!needles.some((n) => text.includes(n))) return data;
  const out = text.split('\n').map((l) => {
    const m = RECORD.exec(l);
    const head = m ? l.slice(0, l.length - m[3]!.length) : '';
    let body = m ? m[3]! : l;
    for (const n of needles) body = body.split(n).join('*'.repeat(Buffer.byteLength(n)));
    return head + body;
  });
  return Buffer.from(out.join('\n'));
}
