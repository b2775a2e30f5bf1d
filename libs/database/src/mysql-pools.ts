import type { EventEmitter } from 'node:events';
import { createPool, Pool } from 'mysql2/promise';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '@app/config';
import type { ChannelLogger } from '@app/logger';

/** The public side of mysql2's pool: its options and the events it emits. */
interface Mysql2Pool extends EventEmitter {
  config?: { connectionLimit?: number };
}

export interface PoolUsage {
  size: number;
  open: number;
  idle: number;
  busy: number;
  /** Queries that had to wait for a free connection, since start (the pool's `enqueue` events). */
  waits: number;
}

function poolOf(ds: DataSource): Mysql2Pool | undefined {
  return (ds.driver as unknown as { pool?: Mysql2Pool }).pool;
}

/**
 * Counted from the pool's public events only: `connection` (opened), `acquire` (taken from the free list
 * or freshly opened), `release` (back on the free list), `enqueue` (no connection free), and each
 * connection's `end`/`error` (gone). A connection handed straight from one query to a waiting one emits
 * nothing and stays busy, as it is.
 */
class PoolCounter {
  private readonly open = new Set<EventEmitter>();
  private readonly busy = new Set<EventEmitter>();
  waits = 0;

  constructor(private readonly pool: Mysql2Pool) {
    pool.on('connection', (c: EventEmitter) => {
      this.open.add(c);
      const gone = () => {
        this.open.delete(c);
        this.busy.delete(c);
      };
      c.once('end', gone);
      c.on('error', (e: { fatal?: boolean }) => e?.fatal && gone());
    });
    pool.on('acquire', (c: EventEmitter) => this.busy.add(c));
    pool.on('release', (c: EventEmitter) => this.busy.delete(c));
    pool.on('enqueue', () => this.waits++);
  }

  usage(): PoolUsage {
    const open = this.open.size;
    const busy = Math.min(this.busy.size, open);
    return { size: this.pool.config?.connectionLimit ?? 0, open, idle: open - busy, busy, waits: this.waits };
  }
}

const counters = new WeakMap<DataSource, PoolCounter>();

/** null until watchPool has seen the data source's pool. */
export function poolUsage(ds: DataSource): PoolUsage | null {
  return counters.get(ds)?.usage() ?? null;
}

/**
 * Counts the pool's connections (poolUsage), and logs queries waiting for a free connection, the first
 * sign of an overloaded or slow database: at most once a minute with the count, so an overload does not
 * also flood the logs.
 */
export function watchPool(ds: DataSource, role: string, log: ChannelLogger, everyMs = 60_000): void {
  const pool = poolOf(ds);
  if (!pool) return;
  counters.set(ds, new PoolCounter(pool));
  let waits = 0;
  let lastLine = 0;
  pool.on('enqueue', () => {
    waits++;
    const now = Date.now();
    if (now - lastLine < everyMs) return;
    log.warn(`mysql ${role} pool exhausted: queries wait for a free connection`, {
      waits,
      poolSize: pool.config?.connectionLimit,
      sinceMs: lastLine === 0 ? undefined : now - lastLine,
    });
    waits = 0;
    lastLine = now;
  });
  pool.on('connection', () => log.debug(`mysql ${role} pool opened a connection`));
}

export type MysqlServer = 'a' | 'b';
export type MonitorPools = Record<MysqlServer, Pool | null>;

/** One connection per master with the read-only monitor account, straight to the server (not HAProxy). */
export function createMonitorPools(config: AppConfig): MonitorPools {
  const make = (host: string, port: number) =>
    host
      ? createPool({
          host,
          port,
          user: config.MYSQL_MONITOR_USER,
          password: config.MYSQL_MONITOR_PASSWORD,
          connectionLimit: 1,
          maxIdle: 1,
          connectTimeout: 2_000,
          enableKeepAlive: true,
        })
      : null;
  return {
    a: make(config.MYSQL_A_HOST, config.MYSQL_A_PORT),
    b: make(config.MYSQL_B_HOST, config.MYSQL_B_PORT),
  };
}
