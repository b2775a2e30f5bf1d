/**
 * The Redis stream every write's changed records go to, in commit order (written by the record types' apply
 * script, read by each node's purger). The key keeps its first name so running purgers keep their positions.
 */
export const INVALIDATION_STREAM = 'invalidations:product';
