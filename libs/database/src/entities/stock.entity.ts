import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A product's stock level in one warehouse; `doc` is the stored record the composed read uses. */
@Entity({ name: 'stock' })
export class StockEntity {
  @PrimaryColumn({ name: 'product_id', type: 'bigint', unsigned: true })
  productId!: number;

  @PrimaryColumn({ type: 'varchar', length: 32, collation: 'utf8mb4_bin' })
  warehouse!: string;

  @Column({ type: 'int', unsigned: true })
  quantity!: number;

  @Column({ type: 'int', unsigned: true })
  version!: number;

  @Column({ type: 'text', nullable: true, collation: 'utf8mb4_bin' })
  doc!: string | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt!: Date;

  @Column({ name: 'deleted_at', type: 'datetime', precision: 3, nullable: true })
  deletedAt!: Date | null;
}
