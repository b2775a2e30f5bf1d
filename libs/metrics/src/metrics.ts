import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The one prom-client registry of a process, with the metrics the hot path records. */
export class Metrics {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'catalog_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  /** tier: redis (hit), negative (cached absence), mysql (backfilled), missing (found nowhere). */
  readonly reads = new Counter({
    name: 'catalog_reads_total',
    help: 'Records read, by record type and the tier that answered',
    labelNames: ['type', 'tier'] as const,
    registers: [this.registry],
  });

  readonly writes = new Counter({
    name: 'catalog_writes_total',
    help: 'Records written, by record type and outcome',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly outboxApplied = new Counter({
    name: 'catalog_outbox_applied_total',
    help: 'Outbox entries applied to Redis, by who applied them (request or relay)',
    labelNames: ['by'] as const,
    registers: [this.registry],
  });

  /** kind oom: Redis refused a write because nothing volatile was left to evict (volatile-lru). */
  readonly redisErrors = new Counter({
    name: 'catalog_redis_errors_total',
    help: 'Failed Redis commands, by operation (read, backfill, write, relay) and kind (oom, timeout, connection, other)',
    labelNames: ['op', 'kind'] as const,
    registers: [this.registry],
  });

  /** outcome: within_budget, demoted, short (not enough idle keys to meet the budget), no_budget, failed. */
  readonly tieringRuns = new Counter({
    name: 'catalog_tiering_runs_total',
    help: 'Tiering passes run by this node, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly tieringDemoted = new Counter({
    name: 'catalog_tiering_demoted_keys_total',
    help: 'Persistent Redis keys the tiering job turned into volatile ones',
    registers: [this.registry],
  });

  readonly tieringDemotedBytes = new Counter({
    name: 'catalog_tiering_demoted_bytes_total',
    help: 'MEMORY USAGE of the keys the tiering job demoted',
    registers: [this.registry],
  });

  readonly tieringScanned = new Counter({
    name: 'catalog_tiering_scanned_keys_total',
    help: 'Keys the tiering job inspected (SCAN)',
    registers: [this.registry],
  });

  readonly tieringDuration = new Histogram({
    name: 'catalog_tiering_duration_seconds',
    help: 'Duration of tiering passes',
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });

  /** kind: write (a stream entry), repeat (the delayed second purge), all (lost track of the stream). */
  readonly edgePurges = new Counter({
    name: 'catalog_edge_purges_total',
    help: "xkey purges sent to this node's Varnish, by kind and outcome",
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly edgePurgeDelay = new Histogram({
    name: 'catalog_edge_purge_delay_seconds',
    help: "From a write's invalidation entry to its purge applied on this node's Varnish",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly edgePurgePosition = new Gauge({
    name: 'catalog_edge_purge_position_timestamp_seconds',
    help: 'Time of the newest invalidation entry purged on this node (its position in the stream)',
    registers: [this.registry],
  });

  readonly edgePurgeAppliedAt = new Gauge({
    name: 'catalog_edge_purge_applied_timestamp_seconds',
    help: 'When this node last applied purges to its Varnish',
    registers: [this.registry],
  });

  readonly edgePurgeLag = new Gauge({
    name: 'catalog_edge_purge_lag_seconds',
    help: 'Age of the oldest invalidation entry read but not yet purged on this node (0: caught up)',
    registers: [this.registry],
  });

  constructor(defaultMetrics = true) {
    if (defaultMetrics) {
      collectDefaultMetrics({ register: this.registry, prefix: 'catalog_' });
      // Gauges named like counters fail `promtool check metrics`; the per-type gauges without _total stay.
      for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total'])
        this.registry.removeSingleMetric(`catalog_nodejs_${name}`);
    }
  }
}
