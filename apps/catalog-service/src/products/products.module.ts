import { Module, OnModuleInit } from '@nestjs/common';
import { ApiKeyGuard } from '@catalog/common/api-key.guard';
import { RecordTypeRegistry } from '@catalog/record-types/record-type.registry';
import { PricesModule } from '@catalog/prices/prices.module';
import { RecordTypesModule } from '@catalog/record-types/record-types.module';
import { CategoriesModule } from '@catalog/categories/categories.module';
import { StockModule } from '@catalog/stock/stock.module';
import { ProductController } from './controllers/product.controller';
import { ProductCacheRepository } from './repositories/product-cache.repository';
import { ProductRepository } from './repositories/product.repository';
import { ComposedReadService } from './services/composed-read.service';
import { ProductReadService } from './services/product-read.service';
import { ProductWriteService } from './services/product-write.service';

/** The product record type: `/v1/products` reads and writes, the sku index. */
@Module({
  imports: [RecordTypesModule, CategoriesModule, PricesModule, StockModule],
  controllers: [ProductController],
  providers: [
    ApiKeyGuard,
    ProductReadService,
    ComposedReadService,
    ProductWriteService,
    ProductCacheRepository,
    ProductRepository,
  ],
  exports: [ProductCacheRepository],
})
export class ProductsModule implements OnModuleInit {
  constructor(
    private readonly registry: RecordTypeRegistry,
    private readonly cache: ProductCacheRepository,
  ) {}

  onModuleInit(): void {
    this.registry.register(this.cache);
  }
}
