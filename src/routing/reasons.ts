/**
 * Rejection reasons other layers act on. An offer is explained by the first constraint it fails,
 * and availability is checked after every static constraint, so an offer rejected for capacity
 * satisfies everything else: waiting for capacity can help it.
 */
export const NO_CAPACITY_REASON = 'no capacity reported by the provider';
