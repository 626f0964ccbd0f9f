/** Rejections grouped for people: by constraint, then by identical reason, bounded. Pure. */
import type { Offer } from './offer.js';
import type { RejectedOffer, RejectionKind } from './rankOffers.js';

export interface ReasonGroup {
  reason: string;
  count: number;
  /** A few offers that failed for this reason. */
  examples: Offer[];
}

export interface KindGroup {
  kind: RejectionKind;
  count: number;
  /** Most frequent first, at most `maxReasons`. */
  reasons: ReasonGroup[];
  /** Reasons left out by the bound. */
  moreReasons: number;
}

export interface RejectionSummary {
  total: number;
  kinds: KindGroup[];
}

export function summarizeRejections(
  rejected: readonly RejectedOffer[],
  opts: { maxReasons?: number; maxExamples?: number } = {},
): RejectionSummary {
  const maxReasons = opts.maxReasons ?? 5;
  const maxExamples = opts.maxExamples ?? 1;
  const kinds = new Map<RejectionKind, Map<string, ReasonGroup>>();
  const kindCounts = new Map<RejectionKind, number>();
  for (const r of rejected) {
    let byReason = kinds.get(r.kind);
    if (!byReason) kinds.set(r.kind, (byReason = new Map()));
    kindCounts.set(r.kind, (kindCounts.get(r.kind) ?? 0) + 1);
    const reason = r.reason;
    let g = byReason.get(reason);
    if (!g) byReason.set(reason, (g = { reason, count: 0, examples: [] }));
    g.count++;
    if (g.examples.length < maxExamples) g.examples.push(r.offer);
  }
  const order = (a: { count: number; key: string }, b: { count: number; key: string }) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  const out: KindGroup[] = [...kinds.entries()]
    .map(([kind, byReason]) => {
      const all = [...byReason.values()].sort((a, b) => order({ count: a.count, key: a.reason }, { count: b.count, key: b.reason }));
      return { kind, count: kindCounts.get(kind)!, reasons: all.slice(0, maxReasons), moreReasons: Math.max(0, all.length - maxReasons) };
    })
    .sort((a, b) => order({ count: a.count, key: a.kind }, { count: b.count, key: b.kind }));
  return { total: rejected.length, kinds: out };
}
