import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig, ConfigModule } from '@app/config';
import { DatabaseModule } from '@app/database';
import { LoggerModule } from '@app/logger';
import { MetricsModule } from '@app/metrics';
import { RedisModule } from '@app/redis';
import { CategoriesModule } from './categories/categories.module';
import { HealthModule } from './health/health.module';
import { InvalidationModule } from './invalidation/invalidation.module';
import { OpsModule } from './ops/ops.module';
import { PricesModule } from './prices/prices.module';
import { ProductsModule } from './products/products.module';
import { RecordTypesModule } from './record-types/record-types.module';
import { StockModule } from './stock/stock.module';
import { TieringModule } from './tiering/tiering.module';

/** Modules only: the libs (global), then the subsystems and the record types (docs/architecture.md). */
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
        HealthModule,
        InvalidationModule,
        TieringModule,
        OpsModule,
        RecordTypesModule,
        ProductsModule,
        CategoriesModule,
        PricesModule,
        StockModule,
      ],
    };
  }
}
