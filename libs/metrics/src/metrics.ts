import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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

  constructor(defaultMetrics = true) {
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'catalog_' });
  }
}
