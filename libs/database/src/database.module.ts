import {
  Global,
  Inject,
  Injectable,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { createPool, Pool } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppLogger } from '@app/logger';
import { createDataSource, MysqlRole } from './data-sources';
import { createMonitorPools, MonitorPools, watchPool } from './mysql-pools';

export const MYSQL_WRITER = Symbol('MYSQL_WRITER');
export const MYSQL_READER = Symbol('MYSQL_READER');
/** Direct connections to master A and B with the monitor account (replication state for metrics). */
export const MYSQL_MONITOR = Symbol('MYSQL_MONITOR');

async function connect(config: AppConfig, role: MysqlRole, logger: AppLogger): Promise<DataSource> {
  const ds = createDataSource(config, role);
  const log = logger.channel('mysql');
  const host = role === 'writer' ? config.MYSQL_WRITER_HOST : config.MYSQL_READER_HOST;
  const port = role === 'writer' ? config.MYSQL_WRITER_PORT : config.MYSQL_READER_PORT;
  try {
    await ds.initialize();
  } catch (e) {
    log.error(`mysql ${role} pool cannot connect: ${(e as Error).message}`, { host, port });
    throw e;
  }
  watchPool(ds, role, log);
  log.info(`mysql ${role} pool ready`, { host, port, poolSize: config.MYSQL_POOL_SIZE });
  return ds;
}

/** What a readiness probe found; `ms` is how long it took. */
export interface ProbeResult {
  status: 'up' | 'down';
  ms: number;
  message?: string;
}

/**
 * Readiness asks the MySQL reader endpoint (what reads use; the writer is not needed to answer reads) on a
 * one-connection pool of its own, never the pools of the work: a busy or exhausted pool is not an outage.
 */
@Injectable()
export class DatabaseHealth implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly probePool: Pool;
  private readonly timeoutMs: number;

  constructor(
    @Inject(MYSQL_WRITER) private readonly writer: DataSource,
    @Inject(MYSQL_READER) private readonly reader: DataSource,
    @Inject(MYSQL_MONITOR) private readonly monitor: MonitorPools,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.timeoutMs = config.HEALTH_PROBE_TIMEOUT_MS;
    this.probePool = createPool({
      host: config.MYSQL_READER_HOST,
      port: config.MYSQL_READER_PORT,
      user: config.MYSQL_USER,
      password: config.MYSQL_PASSWORD,
      database: config.MYSQL_DATABASE,
      connectionLimit: 1,
      maxIdle: 1,
      connectTimeout: config.HEALTH_PROBE_TIMEOUT_MS,
      enableKeepAlive: true,
    });
  }

  /** Opens the probe's connection before the first check needs it (a handshake is slow on a busy host). */
  async onApplicationBootstrap(): Promise<void> {
    await this.probe();
  }

  async probe(): Promise<ProbeResult> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.probePool.query({ sql: 'SELECT 1', timeout: this.timeoutMs }),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${this.timeoutMs} ms`)),
            this.timeoutMs,
          );
        }),
      ]);
      return { status: 'up', ms: Math.round(performance.now() - started) };
    } catch (e) {
      return {
        status: 'down',
        ms: Math.round(performance.now() - started),
        message: e instanceof Error ? e.message : 'unreachable',
      };
    } finally {
      clearTimeout(timer);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([
      this.probePool.end(),
      this.writer.destroy(),
      this.reader.destroy(),
      this.monitor.a?.end(),
      this.monitor.b?.end(),
    ]);
  }
}

@Global()
@Module({
  imports: [TerminusModule],
  providers: [
    {
      provide: MYSQL_WRITER,
      inject: [APP_CONFIG, AppLogger],
      useFactory: (c: AppConfig, l: AppLogger) => connect(c, 'writer', l),
    },
    {
      provide: MYSQL_READER,
      inject: [APP_CONFIG, AppLogger],
      useFactory: (c: AppConfig, l: AppLogger) => connect(c, 'reader', l),
    },
    { provide: MYSQL_MONITOR, inject: [APP_CONFIG], useFactory: createMonitorPools },
    DatabaseHealth,
  ],
  exports: [MYSQL_WRITER, MYSQL_READER, MYSQL_MONITOR, DatabaseHealth],
})
export class DatabaseModule {}
