import { Module } from '@nestjs/common';
import { CategoryProductsController } from './controllers/category-products.controller';
import { CategoryMembershipRepository } from './repositories/category-membership.repository';
import { CategoryProductsCacheRepository } from './repositories/category-products-cache.repository';
import { CategoryProductsService } from './services/category-products.service';

/**
 * Categories: the walk of a category's products (`GET /v1/categories/{id}/products`). Exports the
 * membership repositories the product write path and the outbox relay call (docs/categories.md).
 */
@Module({
  controllers: [CategoryProductsController],
  providers: [CategoryMembershipRepository, CategoryProductsCacheRepository, CategoryProductsService],
  exports: [CategoryMembershipRepository, CategoryProductsCacheRepository],
})
export class CategoriesModule {}
