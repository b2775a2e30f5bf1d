import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppLogger } from '@app/logger';
import { createDataSource, MysqlRole } from './data-sources';

export const MYSQL_WRITER = Symbol('MYSQL_WRITER');
export const MYSQL_READER = Symbol('MYSQL_READER');

async function connect(config: AppConfig, role: MysqlRole, logger: AppLogger): Promise<DataSource> {
  const ds = createDataSource(config, role);
  await ds.initialize();
  logger.channel('mysql').info(`mysql ${role} pool ready`, { poolSize: config.MYSQL_POOL_SIZE });
  return ds;
}

@Injectable()
export class DatabaseHealth implements OnApplicationShutdown {
  constructor(
    @Inject(MYSQL_WRITER) private readonly writer: DataSource,
    @Inject(MYSQL_READER) private readonly reader: DataSource,
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
    await Promise.allSettled([this.writer.destroy(), this.reader.destroy()]);
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
    DatabaseHealth,
  ],
  exports: [MYSQL_WRITER, MYSQL_READER, DatabaseHealth],
})
export class DatabaseModule {}
