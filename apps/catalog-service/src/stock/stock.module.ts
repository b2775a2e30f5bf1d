import { Module, OnModuleInit } from '@nestjs/common';
import { ApiKeyGuard } from '@catalog/common/api-key.guard';
import { RecordTypeRegistry } from '@catalog/record-types/record-type.registry';
import { RecordTypesModule } from '@catalog/record-types/record-types.module';
import { StockController, StockHandlers } from './controllers/stock.controller';
import { AvailabilityRepository } from './repositories/availability.repository';
import { StockCaches } from './repositories/stock-caches.repository';
import { StockReadService } from './services/stock-read.service';
import { StockWriteService } from './services/stock-write.service';

/** Stock levels per product and warehouse, availability per market: `/v1/stock`, the composed read's part. */
@Module({
  imports: [RecordTypesModule],
  controllers: [StockController],
  providers: [
    ApiKeyGuard,
    AvailabilityRepository,
    StockCaches,
    StockReadService,
    StockWriteService,
    StockHandlers,
  ],
  exports: [StockReadService],
})
export class StockModule implements OnModuleInit {
  constructor(
    private readonly registry: RecordTypeRegistry,
    private readonly caches: StockCaches,
  ) {}

  onModuleInit(): void {
    for (const cache of this.caches.all()) this.registry.register(cache);
  }
}
