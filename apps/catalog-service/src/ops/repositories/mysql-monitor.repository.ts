import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MYSQL_READER, MYSQL_WRITER, poolUsage, PoolUsage } from '@app/database';

/** The app's MySQL pool usage (replication state: mysqld_exporter, docs/operations.md). */
@Injectable()
export class MysqlMonitorRepository {
  constructor(
    @Inject(MYSQL_WRITER) private readonly writer: DataSource,
    @Inject(MYSQL_READER) private readonly reader: DataSource,
  ) {}

  pools(): Array<{ pool: 'writer' | 'reader'; usage: PoolUsage }> {
    const out: Array<{ pool: 'writer' | 'reader'; usage: PoolUsage }> = [];
    for (const [pool, ds] of [
      ['writer', this.writer],
      ['reader', this.reader],
    ] as const) {
      const usage = poolUsage(ds);
      if (usage) out.push({ pool, usage });
    }
    return out;
  }
}
