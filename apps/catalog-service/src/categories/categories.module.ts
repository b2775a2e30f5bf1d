import { Module, OnModuleInit } from '@nestjs/common';
import { ApiKeyGuard } from '@catalog/common/api-key.guard';
import { RecordTypeRegistry } from '@catalog/record-types/record-type.registry';
import { RecordTypesModule } from '@catalog/record-types/record-types.module';
import { CategoryProductsController } from './controllers/category-products.controller';
import { CategoryController } from './controllers/category.controller';
import { CategoryCacheRepository } from './repositories/category-cache.repository';
import { CategoryMembershipRepository } from './repositories/category-membership.repository';
import { CategoryProductsCacheRepository } from './repositories/category-products-cache.repository';
import { CategoryRepository } from './repositories/category.repository';
import { CategoryProductsService } from './services/category-products.service';
import { CategoryReadService } from './services/category-read.service';
import { CategoryWriteService } from './services/category-write.service';

/**
 * The category record type (`/v1/categories`, the tree) and the walk of a category's products
 * (`/v1/categories/{id}/products`). Exports the membership repository the product write transaction
 * calls; follows product writes to keep the category sets (docs/categories.md).
 */
@Module({
  imports: [RecordTypesModule],
  controllers: [CategoryProductsController, CategoryController],
  providers: [
    ApiKeyGuard,
    CategoryCacheRepository,
    CategoryRepository,
    CategoryReadService,
    CategoryWriteService,
    CategoryMembershipRepository,
    CategoryProductsCacheRepository,
    CategoryProductsService,
  ],
  exports: [CategoryMembershipRepository],
})
export class CategoriesModule implements OnModuleInit {
  constructor(
    private readonly registry: RecordTypeRegistry,
    private readonly cache: CategoryCacheRepository,
    private readonly walk: CategoryProductsService,
  ) {}

  onModuleInit(): void {
    this.registry.register(this.cache);
    this.registry.follow('product', (states) => this.walk.applyMemberships(states));
  }
}
