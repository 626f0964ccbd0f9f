/** Fault injection state of the daemon (in memory only; a restart clears it). */
import { FaultsSchema, type FaultMatch, type LocalFaults, type LocalFaultsInput } from '../api.js';

function matches(m: FaultMatch, type: string, location: string): boolean {
  return (m.type === undefined || m.type === type) && (m.location === undefined || m.location === location);
}

export class FaultState {
  private faults: LocalFaults = FaultsSchema.parse({});

  /** Replaces every fault. `unavailable.forMs` becomes an absolute `untilMs`. */
  set(input: LocalFaultsInput, now = Date.now()): LocalFaults {
    const f = FaultsSchema.parse(input);
    if (f.unavailable?.forMs !== undefined) {
      const until = now + f.unavailable.forMs;
      f.unavailable = { ...f.unavailable, untilMs: f.unavailable.untilMs === undefined ? until : Math.min(until, f.unavailable.untilMs) };
      delete f.unavailable.forMs;
    }
    this.faults = f;
    return this.get(now);
  }

  get(now = Date.now()): LocalFaults {
    this.expire(now);
    return structuredClone(this.faults);
  }

  clear(): void {
    this.faults = FaultsSchema.parse({});
  }

  private expire(now: number): void {
    const u = this.faults.unavailable;
    if (u && ((u.untilMs !== undefined && now >= u.untilMs) || u.times === 0)) delete this.faults.unavailable;
  }

  /** Whether the catalog lists this (type, location) twice under one ID (fault `duplicateInstanceTypeIds`). */
  duplicatesInstanceTypeId(type: string, location: string): boolean {
    return this.faults.duplicateInstanceTypeIds.some((m) => matches(m, type, location));
  }

  get latencyMs(): number {
    return this.faults.latencyMs;
  }

  /** Whether a request must fail (503 or 429), and the Retry-After to send. Counts `times`. */
  unavailableFor(method: string, path: string, now = Date.now()): { status: 503 | 429; retryAfterSeconds: number; retryAfter: string } | undefined {
    this.expire(now);
    const u = this.faults.unavailable;
    if (!u) return undefined;
    if (u.methods && !u.methods.includes(method.toUpperCase() as (typeof u.methods)[number])) return undefined;
    if (u.paths && !u.paths.some((p) => path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`) || path.startsWith(`${p}?`))) return undefined;
    if (u.times !== undefined) u.times -= 1;
    const retryAfterSeconds =
      u.retryAfterSeconds ?? (u.untilMs !== undefined ? Math.max(1, Math.ceil((u.untilMs - now) / 1000)) : 1);
    this.expire(now);
    const retryAfter =
      u.retryAfterForm === 'seconds'
        ? String(retryAfterSeconds)
        : new Date(u.retryAfterSeconds === undefined && u.untilMs !== undefined ? u.untilMs : now + retryAfterSeconds * 1000).toUTCString();
    return { status: u.status, retryAfterSeconds, retryAfter };
  }

  outOfCapacity(type: string, location: string, spot = false): boolean {
    return this.faults.outOfCapacity.some((m) => matches(m, type, location) && (m.market === undefined || (m.market === 'spot') === spot));
  }

  hiddenFromCatalog(type: string, location: string): boolean {
    return this.faults.outOfCapacity.some((m) => m.hideFromCatalog && matches(m, type, location));
  }

  quotaExceeded(type: string, location: string): boolean {
    return this.faults.quotaExceeded.some((m) => matches(m, type, location));
  }

  /** True (and counts down) when this new instance's create response is to be lost. */
  takeLostCreateResponse(): boolean {
    if (this.faults.loseCreateResponses <= 0) return false;
    this.faults.loseCreateResponses -= 1;
    return true;
  }
}
