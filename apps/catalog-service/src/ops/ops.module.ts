import { Module } from '@nestjs/common';
import { RecordTypesModule } from '@catalog/record-types/record-types.module';
import { TieringModule } from '@catalog/tiering/tiering.module';
import { MetricsController } from './controllers/metrics.controller';
import { MysqlMonitorRepository } from './repositories/mysql-monitor.repository';
import { OpsMetricsService } from './services/ops-metrics.service';

/** What sysadmins scrape: /metrics, with the store, replication, outbox and tiering gauges collected on it. */
@Module({
  imports: [TieringModule, RecordTypesModule],
  controllers: [MetricsController],
  providers: [OpsMetricsService, MysqlMonitorRepository],
})
export class OpsModule {}
