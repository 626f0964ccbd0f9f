/**
 * Everything a workflow history says, as searchable text. JSON.stringify of a fetched history goes
 * through protobufjs' toJSON, which writes every payload's bytes as base64, where no search for a
 * secret could ever match: here each payload's data (and metadata) is decoded back to text.
 */
export function historyText(history: unknown): string {
  const decode = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(decode);
    if (!v || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    // A Payload: { metadata: { encoding: base64, … }, data: base64 }
    if (o.metadata && typeof o.metadata === 'object' && (typeof o.data === 'string' || o.data === undefined)) {
      const text = (b64: unknown) => (typeof b64 === 'string' ? Buffer.from(b64, 'base64').toString('utf8') : b64);
      return { metadata: Object.fromEntries(Object.entries(o.metadata).map(([k, x]) => [k, text(x)])), data: text(o.data) };
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, decode(x)]));
  };
  return JSON.stringify(decode(JSON.parse(JSON.stringify(history))));
}
