import { DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AppConfig, ConfigModule } from '@app/config';
import { DatabaseModule } from '@app/database';
import { LoggerModule } from '@app/logger';
import { MetricsModule } from '@app/metrics';
import { RedisModule } from '@app/redis';
import { ApiKeyGuard } from '@catalog/common/api-key.guard';
import { HealthController } from '@catalog/health/controllers/health.controller';
import { MetricsController } from '@catalog/ops/controllers/metrics.controller';
import { ProductController } from '@catalog/products/controllers/product.controller';
import { EdgeCacheRepository } from '@catalog/invalidation/repositories/edge-cache.repository';
import { InvalidationRepository } from '@catalog/invalidation/repositories/invalidation.repository';
import { LeaseRepository } from '@catalog/tiering/repositories/lease.repository';
import { MysqlMonitorRepository } from '@catalog/ops/repositories/mysql-monitor.repository';
import { OutboxRepository } from '@catalog/record-types/repositories/outbox.repository';
import { ProductCacheRepository } from '@catalog/products/repositories/product-cache.repository';
import { ProductRepository } from '@catalog/products/repositories/product.repository';
import { RedisMonitorRepository } from '@catalog/tiering/repositories/redis-monitor.repository';
import { TieringRepository } from '@catalog/tiering/repositories/tiering.repository';
import { EdgePurgerService } from '@catalog/invalidation/services/edge-purger.service';
import { LifecycleService } from '@catalog/health/services/lifecycle.service';
import { OpsMetricsService } from '@catalog/ops/services/ops-metrics.service';
import { OutboxRelayService } from '@catalog/record-types/services/outbox-relay.service';
import { ProductReadService } from '@catalog/products/services/product-read.service';
import { ProductWriteService } from '@catalog/products/services/product-write.service';
import { ReadinessService } from '@catalog/health/services/readiness.service';
import { StoreBreakers } from '@catalog/health/services/store-breaker';
import { TieringService } from '@catalog/tiering/services/tiering.service';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule,
        MetricsModule,
        RedisModule,
        DatabaseModule,
        TerminusModule,
      ],
      controllers: [ProductController, HealthController, MetricsController],
      providers: [
        ApiKeyGuard,
        LifecycleService,
        ProductReadService,
        ProductWriteService,
        OutboxRelayService,
        ProductCacheRepository,
        ProductRepository,
        OutboxRepository,
        LeaseRepository,
        TieringService,
        OpsMetricsService,
        TieringRepository,
        RedisMonitorRepository,
        MysqlMonitorRepository,
        EdgePurgerService,
        InvalidationRepository,
        EdgeCacheRepository,
        StoreBreakers,
        ReadinessService,
      ],
    };
  }
}
