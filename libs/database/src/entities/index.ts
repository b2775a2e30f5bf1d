import { OutboxEntity } from './outbox.entity';
import { PriceEntity } from './price.entity';
import { ProductEntity } from './product.entity';
import { StockEntity } from './stock.entity';

export { OutboxEntity, PriceEntity, ProductEntity, StockEntity };

/** Every table of the catalog: the migrations are generated from these (docs/architecture.md). */
export const ENTITIES = [ProductEntity, OutboxEntity, PriceEntity, StockEntity];
