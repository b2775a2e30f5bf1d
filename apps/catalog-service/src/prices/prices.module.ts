import { Module, OnModuleInit } from '@nestjs/common';
import { ApiKeyGuard } from '@catalog/common/api-key.guard';
import { RecordTypeRegistry } from '@catalog/record-types/record-type.registry';
import { RecordTypesModule } from '@catalog/record-types/record-types.module';
import { PriceController, PriceHandlers } from './controllers/price.controller';
import { PriceCaches } from './repositories/price-caches.repository';
import { PriceReadService } from './services/price-read.service';
import { PriceWriteService } from './services/price-write.service';

/** Prices per product and market: `/v1/prices`, and the price part of composed product reads. */
@Module({
  imports: [RecordTypesModule],
  controllers: [PriceController],
  providers: [ApiKeyGuard, PriceCaches, PriceReadService, PriceWriteService, PriceHandlers],
  exports: [PriceCaches, PriceReadService],
})
export class PricesModule implements OnModuleInit {
  constructor(
    private readonly registry: RecordTypeRegistry,
    private readonly caches: PriceCaches,
  ) {}

  onModuleInit(): void {
    for (const cache of this.caches.all()) this.registry.register(cache);
  }
}
