import { CategoryProductEntity } from './category-product.entity';
import { CategoryEntity } from './category.entity';
import { OutboxEntity } from './outbox.entity';
import { PriceEntity } from './price.entity';
import { ProductEntity } from './product.entity';
import { StockEntity } from './stock.entity';

export { CategoryEntity, CategoryProductEntity, OutboxEntity, PriceEntity, ProductEntity, StockEntity };

/** Every table of the catalog: the migrations are generated from these (docs/architecture.md). */
export const ENTITIES = [
  ProductEntity,
  OutboxEntity,
  CategoryProductEntity,
  CategoryEntity,
  PriceEntity,
  StockEntity,
];
