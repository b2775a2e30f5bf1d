import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Which products are in which category, kept in the product's write transaction. `present = 0` is a
 * tombstone with the version that removed the pair, so a replay or a rebuild knows what to remove
 * (docs/categories.md). The primary key is the walk's keyset order.
 */
@Entity({ name: 'category_products' })
@Index('ix_category_products_product', ['productId'])
export class CategoryProductEntity {
  @PrimaryColumn({ name: 'category_id', type: 'bigint', unsigned: true })
  categoryId!: number;

  @PrimaryColumn({ name: 'product_id', type: 'bigint', unsigned: true })
  productId!: number;

  @Column({ type: 'tinyint', unsigned: true })
  present!: number;

  @Column({ type: 'int', unsigned: true })
  version!: number;
}
