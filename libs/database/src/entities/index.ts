import { CategoryProductEntity } from './category-product.entity';
import { CategoryEntity } from './category.entity';
import { OutboxEntity } from './outbox.entity';
import { ProductEntity } from './product.entity';

export { CategoryEntity, CategoryProductEntity, OutboxEntity, ProductEntity };

/** Every table of the catalog: the migrations are generated from these (docs/architecture.md). */
export const ENTITIES = [ProductEntity, OutboxEntity, CategoryProductEntity, CategoryEntity];
