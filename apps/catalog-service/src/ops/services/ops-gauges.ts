import { Counter, Gauge, Registry } from 'prom-client';
import type { PoolUsage } from '@app/database';
import type { TieringStatus } from '@catalog/tiering/services/tiering.service';

type Pools = () => Array<{ pool: 'writer' | 'reader'; usage: PoolUsage }>;

/** The app's own MySQL pools (writer, reader), counted from the driver's public pool events. */
export function registerPoolMetrics(registers: Registry[], pools: Pools): void {
  new Gauge({
    name: 'catalog_mysql_pool_connections',
    help: 'Connections of the app pools (writer, reader) by state (busy, idle)',
    labelNames: ['pool', 'state'] as const,
    registers,
    collect() {
      this.reset();
      for (const { pool, usage } of pools()) {
        this.set({ pool, state: 'busy' }, usage.busy);
        this.set({ pool, state: 'idle' }, usage.idle);
      }
    },
  });
  new Gauge({
    name: 'catalog_mysql_pool_size',
    help: 'Most connections a pool opens (MYSQL_POOL_SIZE)',
    labelNames: ['pool'] as const,
    registers,
    collect() {
      this.reset();
      for (const { pool, usage } of pools()) this.set({ pool }, usage.size);
    },
  });
  new Counter({
    name: 'catalog_mysql_pool_waits_total',
    help: 'Queries that had to wait for a free pool connection',
    labelNames: ['pool'] as const,
    registers,
    collect() {
      this.reset();
      for (const { pool, usage } of pools()) this.inc({ pool }, usage.waits);
    },
  });
}

/** The tiering job's view of the persistent set, from its recent status (null: not known now). */
export function registerTieringMetrics(
  registers: Registry[],
  tiering: () => Promise<TieringStatus | null>,
): void {
  new Gauge({
    name: 'catalog_tiering_persistent_bytes',
    help: 'Estimated memory of the persistent (no TTL) keys: their count times the sampled MEMORY USAGE',
    registers,
    async collect() {
      this.reset();
      const t = await tiering();
      if (t) this.set(t.persistent.bytes);
    },
  });
  new Gauge({
    name: 'catalog_tiering_budget_bytes',
    help: 'Memory budget of the persistent keys (0: none)',
    registers,
    async collect() {
      this.reset();
      const t = await tiering();
      if (t) this.set(t.budget.bytes);
    },
  });
  new Gauge({
    name: 'catalog_tiering_last_run_timestamp_seconds',
    help: 'When the last tiering pass (by any node) started',
    registers,
    async collect() {
      this.reset();
      const t = await tiering();
      if (t?.lastRun) this.set(Date.parse(t.lastRun.startedAt) / 1000);
    },
  });
}
