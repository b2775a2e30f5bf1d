import type { EventEmitter } from 'node:events';
import { createPool, Pool } from 'mysql2/promise';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '@app/config';
import type { ChannelLogger } from '@app/logger';

/** mysql2's pool keeps its counts in fields it does not type; read-only use, tolerant of their absence. */
interface Mysql2PoolInternals extends EventEmitter {
  _allConnections?: { length: number };
  _freeConnections?: { length: number };
  _connectionQueue?: { length: number };
  config?: { connectionLimit?: number };
}

export interface PoolUsage {
  size: number;
  open: number;
  idle: number;
  busy: number;
  waiting: number;
}

function poolOf(ds: DataSource): Mysql2PoolInternals | undefined {
  return (ds.driver as unknown as { pool?: Mysql2PoolInternals }).pool;
}

export function poolUsage(ds: DataSource): PoolUsage | null {
  const pool = poolOf(ds);
  if (!pool?._allConnections) return null;
  const open = pool._allConnections.length;
  const idle = pool._freeConnections?.length ?? 0;
  return {
    size: pool.config?.connectionLimit ?? 0,
    open,
    idle,
    busy: open - idle,
    waiting: pool._connectionQueue?.length ?? 0,
  };
}

/**
 * A query waiting for a free connection is the first sign of an overloaded or slow database: logged, but at
 * most once a minute with the count, so an overload does not also flood the logs.
 */
export function watchPool(ds: DataSource, role: string, log: ChannelLogger, everyMs = 60_000): void {
  const pool = poolOf(ds);
  if (!pool) return;
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
