import { DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AppConfig, ConfigModule } from '@app/config';
import { DatabaseModule } from '@app/database';
import { LoggerModule } from '@app/logger';
import { MetricsModule } from '@app/metrics';
import { RedisModule } from '@app/redis';
import { ApiKeyGuard } from './auth/api-key.guard';
import { CategoriesModule } from './categories/categories.module';
import { HealthController } from './controllers/health.controller';
import { MetricsController } from './controllers/metrics.controller';
import { ProductController } from './controllers/product.controller';
import { EdgeCacheRepository } from './repositories/edge-cache.repository';
import { InvalidationRepository } from './repositories/invalidation.repository';
import { LeaseRepository } from './repositories/lease.repository';
import { MysqlMonitorRepository } from './repositories/mysql-monitor.repository';
import { OutboxRepository } from './repositories/outbox.repository';
import { ProductCacheRepository } from './repositories/product-cache.repository';
import { ProductRepository } from './repositories/product.repository';
import { RedisMonitorRepository } from './repositories/redis-monitor.repository';
import { TieringRepository } from './repositories/tiering.repository';
import { EdgePurgerService } from './services/edge-purger.service';
import { LifecycleService } from './services/lifecycle.service';
import { OpsMetricsService } from './services/ops-metrics.service';
import { OutboxRelayService } from './services/outbox-relay.service';
import { ProductReadService } from './services/product-read.service';
import { ProductWriteService } from './services/product-write.service';
import { ReadinessService } from './services/readiness.service';
import { StoreBreakers } from './services/store-breaker';
import { TieringService } from './services/tiering.service';

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
        CategoriesModule,
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
