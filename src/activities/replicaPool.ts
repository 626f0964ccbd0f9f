/**
 * The proxy's pool of replicas and its counters: which replicas take new requests, how many
 * requests each has in flight (what drains wait for and load scaling reads), and which are
 * ejected for a while after a connection to them failed (passive health, as nginx's max_fails).
 * Picks the pooled replica with the fewest requests in flight (least connections).
 */

export interface PoolEntry {
  id: string;
  /** host:port */
  target: string;
}

interface Tracked {
  target: string;
  inFlight: number;
  pooled: boolean;
  ejectedUntil: number;
}

export class ReplicaPool {
  private readonly replicas = new Map<string, Tracked>();

  /**
   * The replicas that take new requests from now on. Others leave the pool at once; their requests
   * in flight keep being counted until they finish. A pooled replica whose target changed (it
   * moved to a new instance) is pooled at its new target.
   */
  setPool(entries: readonly PoolEntry[]): void {
    const want = new Map(entries.map((e) => [e.id, e.target]));
    for (const [id, t] of this.replicas) {
      const target = want.get(id);
      t.pooled = target !== undefined;
      if (target !== undefined && target !== t.target) {
        t.target = target;
        t.ejectedUntil = 0;
      }
      if (!t.pooled && t.inFlight === 0) this.replicas.delete(id);
    }
    for (const [id, target] of want) if (!this.replicas.has(id)) this.replicas.set(id, { target, inFlight: 0, pooled: true, ejectedUntil: 0 });
  }

  /** The pooled replica with the fewest requests in flight, skipping `tried` and (while others remain) ejected ones. */
  pick(tried: ReadonlySet<string>, now: number): PoolEntry | undefined {
    let best: [string, Tracked] | undefined;
    let bestEjected: [string, Tracked] | undefined;
    for (const e of this.replicas) {
      const [id, t] = e;
      if (!t.pooled || tried.has(id)) continue;
      if (t.ejectedUntil > now) {
        if (!bestEjected || t.inFlight < bestEjected[1].inFlight) bestEjected = e;
      } else if (!best || t.inFlight < best[1].inFlight) best = e;
    }
    const chosen = best ?? bestEjected;
    return chosen ? { id: chosen[0], target: chosen[1].target } : undefined;
  }

  /** Counts a request sent to `id`; the returned function ends it (once, however often called). */
  begin(id: string): () => void {
    const t = this.replicas.get(id);
    if (!t) return () => undefined;
    t.inFlight++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      t.inFlight--;
      if (!t.pooled && t.inFlight === 0 && this.replicas.get(id) === t) this.replicas.delete(id);
    };
  }

  eject(id: string, untilMs: number): void {
    const t = this.replicas.get(id);
    if (t) t.ejectedUntil = untilMs;
  }

  inFlight(id: string): number {
    return this.replicas.get(id)?.inFlight ?? 0;
  }

  totalInFlight(): number {
    let n = 0;
    for (const t of this.replicas.values()) n += t.inFlight;
    return n;
  }

  pooledCount(): number {
    let n = 0;
    for (const t of this.replicas.values()) if (t.pooled) n++;
    return n;
  }
}
