import { OutboxEntity } from './outbox.entity';
import { ProductEntity } from './product.entity';

export { OutboxEntity, ProductEntity };

/** Every table of the catalog: the migrations are generated from these (docs/architecture.md). */
export const ENTITIES = [ProductEntity, OutboxEntity];
