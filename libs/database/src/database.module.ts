import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
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

@Injectable()
export class DatabaseHealth implements OnApplicationShutdown {
  constructor(
    @Inject(MYSQL_WRITER) private readonly writer: DataSource,
    @Inject(MYSQL_READER) private readonly reader: DataSource,
    @Inject(MYSQL_MONITOR) private readonly monitor: MonitorPools,
    private readonly health: HealthIndicatorService,
  ) {}

  async check(key = 'mysql') {
    const indicator = this.health.check(key);
    try {
      await this.writer.query('SELECT 1');
      return indicator.up();
    } catch (e) {
      return indicator.down({ message: e instanceof Error ? e.message : 'unreachable' });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([
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
